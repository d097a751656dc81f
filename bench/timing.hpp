// What the C++ benchmarks share: the best wall time of repeated calls.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>

namespace gm::bench {

// The shortest of `repeats` timed calls of `f`, in seconds.
inline double best_seconds(int repeats, const std::function<void()>& f) {
  double best = 1e300;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return best;
}

}  // namespace gm::bench
