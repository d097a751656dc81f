// The PyTorch checkpoint reader: the zip container and the restricted unpickler. The zip's
// CRC-32s stop most mutations at the container, so input starting with 'P' is fed whole (the
// container). Any other input reaches the unpickler: its first 4 bytes give the sizes of
// storages 0-3 in bytes, and the rest is the archive's data.pkl.
#include <string>

#include "fuzz/target.hpp"
#include "gm/io/torch_pickle.hpp"
#include "gm/io/zip.hpp"

GM_FUZZ_TARGET(bytes) {
  if (!bytes.empty() && bytes[0] == 'P') {
    gm::io::parse_torch_checkpoint(bytes, "fuzz.pt", bytes.size() % 4 == 3 ? "model" : "");
    return;
  }
  if (bytes.size() < 4) return;
  gm::io::ZipWriter zip;
  zip.add("archive/data.pkl", bytes.substr(4));
  for (int i = 0; i < 4; ++i)
    zip.add("archive/data/" + std::to_string(i), std::string(static_cast<unsigned char>(bytes[i]), static_cast<char>(i)), 64);
  zip.add("archive/version", "3\n");
  gm::io::parse_torch_checkpoint(zip.finish(), "fuzz.pt");
}
