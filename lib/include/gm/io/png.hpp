// PNG encoding through stb_image_write.
#pragma once

#include <string>

#include <torch/types.h>

namespace gm::io {

// Encodes an image [H, W] (gray) or [H, W, 3] (RGB) of uint8 as PNG bytes.
std::string encode_png(const torch::Tensor& image);

}  // namespace gm::io
