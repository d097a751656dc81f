// Filling a tensor from an array's bytes in a file, in the file's byte order.
#pragma once

#include <cstddef>

#include <torch/types.h>

namespace gm::io {

// Copies out.numel() elements of `element_size` bytes from `src` into the contiguous tensor `out`,
// reversing each element's bytes when `swap` (a big-endian file on this little-endian machine).
// An empty tensor is left alone: its data pointer may be null.
void copy_elements(const torch::Tensor& out, const unsigned char* src, std::size_t element_size, bool swap);

}  // namespace gm::io
