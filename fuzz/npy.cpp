// NumPy's .npy header and data, and .npz archives of them: input starting with 'P' (a zip's
// "PK") is read as .npz, anything else as .npy.
#include "fuzz/target.hpp"
#include "gm/io/npy.hpp"

GM_FUZZ_TARGET(bytes) {
  if (!bytes.empty() && bytes[0] == 'P')
    gm::io::parse_npz(bytes, "fuzz.npz");
  else
    gm::io::parse_npy(bytes, "fuzz.npy");
}
