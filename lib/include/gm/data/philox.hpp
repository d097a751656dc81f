// Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"): a
// counter-based generator, so value i of a stream depends only on (key, i) and any slice of
// a run can be regenerated alone.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

namespace gm::data {

using PhiloxBlock = std::array<std::uint32_t, 4>;

inline PhiloxBlock philox4x32(PhiloxBlock counter, std::array<std::uint32_t, 2> key) {
  constexpr std::uint64_t kM0 = 0xD2511F53, kM1 = 0xCD9E8D57;
  constexpr std::uint32_t kW0 = 0x9E3779B9, kW1 = 0xBB67AE85;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key[0] += kW0;
      key[1] += kW1;
    }
    const std::uint64_t p0 = kM0 * counter[0];
    const std::uint64_t p1 = kM1 * counter[2];
    counter = {static_cast<std::uint32_t>(p1 >> 32) ^ counter[1] ^ key[0], static_cast<std::uint32_t>(p1),
               static_cast<std::uint32_t>(p0 >> 32) ^ counter[3] ^ key[1], static_cast<std::uint32_t>(p0)};
  }
  return counter;
}

// The block for element `index` of stream `stream` under `seed`.
inline PhiloxBlock philox_at(std::uint64_t seed, std::uint64_t index, std::uint32_t stream = 0) {
  return philox4x32({static_cast<std::uint32_t>(index), static_cast<std::uint32_t>(index >> 32), stream, 0},
                    {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
}

// Maps 32 random bits to (0, 1), never 0 so that log() is safe.
inline double unit_open(std::uint32_t bits) { return (static_cast<double>(bits) + 0.5) * (1.0 / 4294967296.0); }

// Running sums of category weights, and the category a uniform u in (0, 1) picks from them
// (weights need not be normalised).
inline std::vector<double> cumulative_weights(const std::vector<double>& weights) {
  std::vector<double> cumulative(weights.size());
  double running = 0;
  for (size_t i = 0; i < weights.size(); ++i) cumulative[i] = running += weights[i];
  return cumulative;
}
inline std::int64_t pick_weighted(const std::vector<double>& cumulative, double u) {
  const double pick = u * cumulative.back();
  const auto at = std::lower_bound(cumulative.begin(), cumulative.end(), pick) - cumulative.begin();
  return std::min<std::int64_t>(at, static_cast<std::int64_t>(cumulative.size()) - 1);
}

}  // namespace gm::data
