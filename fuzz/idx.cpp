// The IDX reader (MNIST's format), raw or gzip-compressed.
#include "fuzz/target.hpp"
#include "gm/io/idx.hpp"

GM_FUZZ_TARGET(bytes) { gm::io::parse_idx(bytes, "fuzz.idx"); }
