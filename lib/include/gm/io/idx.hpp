// IDX, the array format of MNIST and Fashion-MNIST: a magic of two zero bytes, a type code and
// a rank, then each extent as a big-endian uint32, then the elements, big-endian.
#pragma once

#include <string>

#include <torch/types.h>

namespace gm::io {

// The array an IDX file holds (gzip-compressed or not); every extent is checked against the
// bytes present before anything is allocated.
torch::Tensor parse_idx(const std::string& bytes, const std::string& where);

}  // namespace gm::io
