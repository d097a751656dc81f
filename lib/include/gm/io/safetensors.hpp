// safetensors (huggingface/safetensors): an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the tensor bytes. Read strictly: every
// malformed file is a gm::Error naming the problem, never a crash or an allocation the file's
// length does not back.
#pragma once

#include <string>

#include "gm/io/tensor_file.hpp"

namespace gm::io {

// Parses a whole file's bytes (metadata: the header's __metadata__); `where` names it in errors. Checks the header's JSON and keys,
// the dtypes (F64 F32 F16 BF16 I64 I32 U8 BOOL), that every byte range matches its dtype and
// shape, and that the ranges tile the data exactly: no holes, no overlaps, nothing after.
TensorFile parse_safetensors(const std::string& bytes, const std::string& where);

// The bytes of a file: tensors in name order, the header padded with spaces to 8 bytes.
std::string encode_safetensors(const TensorFile& file);

}  // namespace gm::io
