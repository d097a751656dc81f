#include "gm/io/png.hpp"

#include <stb_image_write.h>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"

namespace gm::io {

std::string encode_png(const torch::Tensor& image) {
  const torch::Tensor pixels = image.to(torch::kCPU).contiguous();
  if (pixels.scalar_type() != torch::kByte || (pixels.dim() != 2 && !(pixels.dim() == 3 && pixels.size(2) == 3)))
    fail("a PNG needs uint8 pixels [H, W] or [H, W, 3], got {} {}", c10::toString(pixels.scalar_type()),
         shape_text(pixels.sizes()));
  const int height = static_cast<int>(pixels.size(0)), width = static_cast<int>(pixels.size(1));
  const int channels = pixels.dim() == 3 ? 3 : 1;
  std::string bytes;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &bytes, width, height, channels, pixels.data_ptr(), width * channels))
    fail("PNG encoding failed for a {}x{} image", width, height);
  return bytes;
}

}  // namespace gm::io
