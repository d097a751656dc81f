// NumPy's .npy (format versions 1-3) and .npz (a zip of .npy entries, stored or deflated).
#pragma once

#include <map>
#include <string>

#include <torch/types.h>

namespace gm::io {

// The array a .npy file holds. Little- and big-endian bool, int8-64, uint8, float16-64;
// Fortran order is returned in C order. The header's shape is checked against the bytes present.
torch::Tensor parse_npy(const std::string& bytes, const std::string& where);

// A tensor as .npy bytes (format 1.0, C order, little-endian).
std::string encode_npy(const torch::Tensor& tensor);
// The .npy header (format 1.0) of a C-order array of `type` and `shape`, for writing the data
// after it piece by piece.
std::string npy_header(torch::ScalarType type, const std::vector<std::int64_t>& shape);

// The arrays of a .npz, by name without ".npy".
std::map<std::string, torch::Tensor> parse_npz(const std::string& bytes, const std::string& where);
// Arrays as an uncompressed .npz, as numpy.savez writes it.
std::string encode_npz(const std::map<std::string, torch::Tensor>& arrays);

}  // namespace gm::io
