#include "gm/data/toy.hpp"

#include <algorithm>
#include <cmath>

#include "gm/base/error.hpp"
#include "gm/data/philox.hpp"

namespace gm::data {

bool is_toy_source(const std::string& source) { return source.rfind("toy:", 0) == 0; }

ToySpec toy_spec(const std::string& source) {
  const std::string name = is_toy_source(source) ? source.substr(4) : source;
  const size_t lt = name.find("-lt");
  const std::string base = name.substr(0, lt);
  double imbalance = 1.0;
  if (lt != std::string::npos) {
    const std::string factor = name.substr(lt + 3);
    char* end = nullptr;
    imbalance = std::strtod(factor.c_str(), &end);
    if (factor.empty() || *end != '\0' || !(imbalance >= 1.0) || !std::isfinite(imbalance))
      usage_fail("{}: the long-tail factor after -lt must be a number >= 1", source);
  }
  ToySpec spec;
  spec.name = name;
  if (base == "ring8") {
    for (int i = 0; i < 8; ++i) spec.centers.push_back({std::cos(2 * M_PI * i / 8), std::sin(2 * M_PI * i / 8)});
    spec.sd = 0.01;
    spec.range = {-1.05, 1.05};
  } else if (base == "grid25") {
    for (int i = 0; i < 25; ++i) spec.centers.push_back({-4.0 + 2.0 * (i / 5), -4.0 + 2.0 * (i % 5)});
    spec.sd = 0.05;
    spec.range = {-4.25, 4.25};
  } else {
    usage_fail("{}: unknown toy source; known: toy:ring8, toy:grid25, and -ltF variants such as toy:grid25-lt100",
               source);
  }
  const int modes = static_cast<int>(spec.centers.size());
  double total = 0;
  for (int i = 0; i < modes; ++i) {
    spec.weights.push_back(std::pow(imbalance, -static_cast<double>(i) / (modes - 1)));
    total += spec.weights.back();
  }
  for (double& w : spec.weights) w /= total;
  return spec;
}

nlohmann::json ToySpec::to_json() const {
  return {{"name", name}, {"centers", centers}, {"weights", weights}, {"sd", sd}, {"range", range}};
}

ToySpec ToySpec::from_json(const nlohmann::json& j, const std::string& where) {
  try {
    ToySpec spec;
    spec.name = j.at("name").get<std::string>();
    spec.centers = j.at("centers").get<std::vector<std::array<double, 2>>>();
    spec.weights = j.at("weights").get<std::vector<double>>();
    spec.sd = j.at("sd").get<double>();
    spec.range = j.at("range").get<std::array<double, 2>>();
    if (spec.centers.empty() || spec.centers.size() != spec.weights.size() || !(spec.sd > 0))
      fail("{}: toy description is inconsistent", where);
    return spec;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: toy description is malformed: {}", where, e.what());
  }
}

ToyRows toy_rows(const ToySpec& spec, std::uint64_t seed, std::int64_t begin, std::int64_t end,
                 std::uint32_t stream) {
  const std::int64_t n = std::max<std::int64_t>(0, end - begin);
  const std::vector<double> cumulative = cumulative_weights(spec.weights);
  torch::Tensor x = torch::empty({n, 2}, torch::kFloat);
  torch::Tensor y = torch::empty({n}, torch::kLong);
  float* xs = x.data_ptr<float>();
  std::int64_t* ys = y.data_ptr<std::int64_t>();
  for (std::int64_t r = 0; r < n; ++r) {
    const PhiloxBlock bits = philox_at(seed, static_cast<std::uint64_t>(begin + r), stream);
    const auto mode = static_cast<size_t>(pick_weighted(cumulative, unit_open(bits[0])));
    // Box-Muller: two independent normals from two uniforms.
    const double radius = std::sqrt(-2.0 * std::log(unit_open(bits[1])));
    const double angle = 2.0 * M_PI * unit_open(bits[2]);
    xs[2 * r] = static_cast<float>(spec.centers[mode][0] + spec.sd * radius * std::cos(angle));
    xs[2 * r + 1] = static_cast<float>(spec.centers[mode][1] + spec.sd * radius * std::sin(angle));
    ys[r] = static_cast<std::int64_t>(mode);
  }
  return {x, y};
}

}  // namespace gm::data
