#include "gm/data/noise.hpp"

#include <cmath>

#include "gm/data/philox.hpp"

namespace gm::data {

torch::Tensor categorical_rows(std::uint64_t seed, std::int64_t begin, std::int64_t end,
                               const std::vector<double>& weights, std::uint32_t stream) {
  const std::vector<double> cumulative = cumulative_weights(weights);
  const std::int64_t rows = std::max<std::int64_t>(0, end - begin);
  torch::Tensor out = torch::empty({rows}, torch::kLong);
  for (std::int64_t r = 0; r < rows; ++r)
    out[r] = pick_weighted(cumulative, unit_open(philox_at(seed, static_cast<std::uint64_t>(begin + r), stream)[0]));
  return out;
}

torch::Tensor normal_rows(std::uint64_t seed, std::int64_t begin, std::int64_t end,
                          const std::vector<std::int64_t>& row_shape, std::uint32_t stream) {
  std::int64_t per_row = 1;
  for (std::int64_t d : row_shape) per_row *= d;
  const std::int64_t rows = std::max<std::int64_t>(0, end - begin);
  std::vector<std::int64_t> shape{rows};
  shape.insert(shape.end(), row_shape.begin(), row_shape.end());
  torch::Tensor out = torch::empty(shape, torch::kFloat);
  float* values = out.data_ptr<float>();
  const std::array<std::uint32_t, 2> key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto row = static_cast<std::uint64_t>(begin + r);
    for (std::int64_t j = 0; j < per_row; j += 4) {
      // One Philox block per 4 values: (row, stream, block) is the counter.
      const PhiloxBlock bits = philox4x32(
          {static_cast<std::uint32_t>(row), static_cast<std::uint32_t>(row >> 32), stream,
           static_cast<std::uint32_t>(j / 4)},
          key);
      for (int pair = 0; pair < 2; ++pair) {
        const double radius = std::sqrt(-2.0 * std::log(unit_open(bits[2 * pair])));
        const double angle = 2.0 * M_PI * unit_open(bits[2 * pair + 1]);
        const std::int64_t at = j + 2 * pair;
        if (at < per_row) values[r * per_row + at] = static_cast<float>(radius * std::cos(angle));
        if (at + 1 < per_row) values[r * per_row + at + 1] = static_cast<float>(radius * std::sin(angle));
      }
    }
  }
  return out;
}

}  // namespace gm::data
