#include "gm/data/images.hpp"

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"

namespace gm::data {

bool is_image_shape(c10::IntArrayRef row_shape) {
  return row_shape.size() == 3 && (row_shape[0] == 1 || row_shape[0] == 3) && row_shape[1] > 0 && row_shape[2] > 0;
}

torch::Tensor to_unit(const torch::Tensor& x, const Range& range) {
  const double half = (range[1] - range[0]) / 2, middle = (range[1] + range[0]) / 2;
  return (x.to(torch::kFloat) - middle) / half;
}

torch::Tensor from_unit(const torch::Tensor& x, const Range& range) {
  const double half = (range[1] - range[0]) / 2, middle = (range[1] + range[0]) / 2;
  return (x.clamp(-1, 1) * half + middle).to(torch::kFloat);
}

torch::Tensor to_pixels(const torch::Tensor& x, const Range& range) {
  if (x.scalar_type() == torch::kByte && range[0] == 0 && range[1] == 255) return x;
  const torch::Tensor unit = (x.to(torch::kDouble) - range[0]) / (range[1] - range[0]);
  return (unit * 255).round().clamp(0, 255).to(torch::kByte);
}

torch::Tensor image_grid(const torch::Tensor& pixels, std::int64_t rows, std::int64_t cols) {
  if (pixels.dim() != 4 || !is_image_shape(pixels.sizes().slice(1)))
    fail("a grid needs images [N, C, H, W] with C 1 or 3, got {}", shape_text(pixels.sizes()));
  constexpr std::int64_t kBorder = 2;
  const std::int64_t c = pixels.size(1), h = pixels.size(2), w = pixels.size(3);
  torch::Tensor grid = torch::full({c, rows * (h + kBorder) + kBorder, cols * (w + kBorder) + kBorder}, 255, torch::kByte);
  for (std::int64_t i = 0; i < std::min(pixels.size(0), rows * cols); ++i) {
    const std::int64_t top = kBorder + (i / cols) * (h + kBorder), left = kBorder + (i % cols) * (w + kBorder);
    grid.slice(1, top, top + h).slice(2, left, left + w).copy_(pixels[i]);
  }
  return c == 1 ? grid[0].contiguous() : grid.permute({1, 2, 0}).contiguous();
}

}  // namespace gm::data
