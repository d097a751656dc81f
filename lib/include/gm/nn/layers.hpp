// What the networks share: the convolutional ones' GroupNorm, and every config's size check.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/io/limits.hpp"

namespace gm::nn {

// GroupNorm with 8 groups, or fewer for narrow layers, always dividing the channels.
inline torch::nn::GroupNorm group_norm(std::int64_t channels) {
  std::int64_t groups = std::min<std::int64_t>(8, channels);
  while (channels % groups != 0) --groups;
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels));
}

// A linear layer that starts at zero: a new input added to a trained network (a consistency
// student's guidance scale) leaves its outputs unchanged at first.
inline torch::nn::Linear zero_linear(std::int64_t in, std::int64_t out) {
  torch::nn::Linear layer(in, out);
  torch::NoGradGuard no_grad;
  layer->weight.zero_();
  layer->bias.zero_();
  return layer;
}

// The guidance scales a network was given, or w = 0 for every row of x.
inline torch::Tensor guidance_or_zero(const torch::Tensor& guidance, const torch::Tensor& x) {
  return guidance.defined() ? guidance.to(x.options()) : torch::zeros({1}, x.options());
}

// Fails before anything is allocated when a network config asks for more float parameters than
// one buffer may hold (io::max_buffer_bytes): a hostile or mistaken file must not exhaust
// memory. `bound` is an upper bound on the parameter count, in double to avoid overflow.
inline void check_parameter_bound(double bound, const nlohmann::json& config) {
  const double limit = static_cast<double>(io::max_buffer_bytes()) / 4;
  if (bound > limit) fail("network config asks for up to {:.3g} parameters, over gm's limit of {:.3g}: {}", bound, limit, config.dump());
}

}  // namespace gm::nn
