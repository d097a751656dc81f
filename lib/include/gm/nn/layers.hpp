// Layers the convolutional networks share.
#pragma once

#include <torch/torch.h>

namespace gm::nn {

// GroupNorm with 8 groups, or fewer for narrow layers, always dividing the channels.
inline torch::nn::GroupNorm group_norm(std::int64_t channels) {
  std::int64_t groups = std::min<std::int64_t>(8, channels);
  while (channels % groups != 0) --groups;
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels));
}

}  // namespace gm::nn
