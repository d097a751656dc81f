// Built-in 2-D distributions with known modes ("toy:ring8", "toy:grid25", "toy:grid25-lt100"),
// the ground truth for mode-coverage metrics.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

namespace gm::data {

struct ToySpec {
  std::string name;                          // "grid25-lt100", without the "toy:" prefix
  std::vector<std::array<double, 2>> centers;
  std::vector<double> weights;               // normalised to sum to 1
  double sd = 0;
  std::array<double, 2> range{};             // nominal [lo, hi] of every coordinate

  nlohmann::json to_json() const;
  static ToySpec from_json(const nlohmann::json& j, const std::string& where);
};

bool is_toy_source(const std::string& source);  // starts with "toy:"

// Parses "toy:ring8", "toy:grid25" and their long-tailed "-ltF" forms, in which mode i's
// weight falls as F^(-i/(M-1)): mode 0 is the most common, the last mode F times rarer.
ToySpec toy_spec(const std::string& source);

// Rows [begin, end) of the stream for `seed`: x [n, 2] float32 and y [n] int64 mode indices.
// Row i depends only on (seed, stream, i). Datasets use stream 0; evaluation references draw
// from stream 1, so a reference never repeats the rows of a dataset with the same seed.
struct ToyRows {
  torch::Tensor x;
  torch::Tensor y;
};
inline constexpr std::uint32_t kDataStream = 0;
inline constexpr std::uint32_t kReferenceStream = 1;
ToyRows toy_rows(const ToySpec& spec, std::uint64_t seed, std::int64_t begin, std::int64_t end,
                 std::uint32_t stream = kDataStream);

}  // namespace gm::data
