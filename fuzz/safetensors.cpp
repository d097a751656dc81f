// The safetensors reader: header length, JSON header, dtypes, shapes and byte ranges.
#include "fuzz/target.hpp"
#include "gm/io/safetensors.hpp"

GM_FUZZ_TARGET(bytes) { gm::io::parse_safetensors(bytes, "fuzz.safetensors"); }
