// Standard normal noise whose row i depends only on (seed, i), so sampling runs can be
// sharded and chunked freely and still draw the same noise for the same row.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace gm::data {

inline constexpr std::uint32_t kNoiseStream = 2;  // toy data uses streams 0 and 1; samplers that
                                                   // need more noise per row use 3, 4, ...

// Class labels of sampled rows: a stream far from the sampler's per-step ones.
inline constexpr std::uint32_t kLabelStream = 0x7fffffff;

// Rows [begin, end) of labels drawn from `weights` (normalised here), int64, row i by (seed, i).
torch::Tensor categorical_rows(std::uint64_t seed, std::int64_t begin, std::int64_t end,
                               const std::vector<double>& weights, std::uint32_t stream);

// Rows [begin, end) of N(0, 1) noise of shape `row_shape`, float32.
torch::Tensor normal_rows(std::uint64_t seed, std::int64_t begin, std::int64_t end,
                          const std::vector<std::int64_t>& row_shape, std::uint32_t stream = kNoiseStream);

}  // namespace gm::data
