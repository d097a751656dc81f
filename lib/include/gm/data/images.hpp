// Image rows [N, C, H, W] and the scales they live on: the file's units (its `range`, [0, 255]
// for uint8 pixels), the networks' [-1, 1], and 8-bit pixels for viewing.
#pragma once

#include <array>
#include <string>

#include <torch/types.h>

namespace gm::data {

bool is_image_shape(c10::IntArrayRef row_shape);  // [C, H, W] with C 1 or 3

using Range = std::array<double, 2>;

// Maps file units in `range` to [-1, 1] (float32), and back, clamped to the range.
torch::Tensor to_unit(const torch::Tensor& x, const Range& range);
torch::Tensor from_unit(const torch::Tensor& x, const Range& range);

// Rows as uint8 pixels: values in `range` scaled to 0..255 and rounded.
torch::Tensor to_pixels(const torch::Tensor& x, const Range& range);

// Tiles images [N, C, H, W] into one [H', W'] (gray) or [H', W', 3] (RGB) uint8 picture of
// `rows` x `cols` cells with a 2-pixel white border; cells past N stay white.
torch::Tensor image_grid(const torch::Tensor& pixels, std::int64_t rows, std::int64_t cols);

}  // namespace gm::data
