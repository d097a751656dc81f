// Image files through stb_image: PNG, JPEG, BMP (and the other formats stb_image decodes).
#pragma once

#include <string>

#include <torch/types.h>

namespace gm::io {

// Width, height and channels of an encoded image, read from its header.
struct ImageInfo {
  int width = 0, height = 0, channels = 0;
};
ImageInfo image_info(const std::string& bytes, const std::string& where);

// Decodes to uint8 [channels, H, W]; channels 1 (gray) or 3 (RGB), converting as needed.
torch::Tensor decode_image(const std::string& bytes, int channels, const std::string& where);

// Resamples uint8 [C, H, W] to [C, size, size] (stb_image_resize's default filters).
torch::Tensor resize_image(const torch::Tensor& image, int size);

}  // namespace gm::io
