#include "gm/io/elements.hpp"

#include <cstring>

namespace gm::io {

void copy_elements(const torch::Tensor& out, const unsigned char* src, std::size_t element_size, bool swap) {
  const auto elements = static_cast<std::size_t>(out.numel());
  if (elements == 0) return;
  auto* dst = static_cast<unsigned char*>(out.data_ptr());
  if (!swap || element_size == 1) {
    std::memcpy(dst, src, elements * element_size);
    return;
  }
  for (std::size_t e = 0; e < elements; ++e)
    for (std::size_t b = 0; b < element_size; ++b)
      dst[e * element_size + b] = src[e * element_size + element_size - 1 - b];
}

}  // namespace gm::io
