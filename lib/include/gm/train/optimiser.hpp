// Parameters in one contiguous buffer, and the updates that run on it: Adam and weight
// averaging. For the small networks gm trains on vectors, a step costs more in per-tensor
// operations than in arithmetic; on a flat buffer Adam is one fused pass (kernels::adam_step), not
// several operations per tensor.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace CLI {
class App;
}

#include "gm/nn/state.hpp"
#include "gm/train/resume.hpp"

namespace gm::train {

// Moves every parameter of `module` into views of one buffer and gives each a gradient that is
// a view of a second buffer; autograd accumulates into it in place. Build it after moving the
// module to its device, and do not move the module afterwards.
class FlatParameters {
 public:
  explicit FlatParameters(torch::nn::Module& module);
  const torch::Tensor& values() const { return values_; }
  const torch::Tensor& grads() const { return grads_; }
  void zero_grad() { grads_.zero_(); }
  // Views of a buffer shaped like values(), by parameter name.
  nn::NamedTensors unflatten(const torch::Tensor& flat) const;
  void track(ResumeState& state, const std::string& name) { state.track(name, &values_); }

 private:
  struct Slot {
    std::string name;
    std::vector<std::int64_t> shape;
    std::int64_t offset, count;
  };
  std::vector<Slot> slots_;
  torch::Tensor values_, grads_;
};

// Adam (Kingma & Ba 2015) without weight decay, step for step the update of torch.optim.Adam.
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};
class Adam {
 public:
  Adam(FlatParameters& parameters, const AdamOptions& options);
  void zero_grad() { parameters_.zero_grad(); }
  void step();
  void track(ResumeState& state, const std::string& name);

 private:
  FlatParameters& parameters_;
  AdamOptions options_;
  torch::Tensor first_, second_;
  std::int64_t steps_ = 0;
};

// An exponential moving average of the parameters, w <- beta w + (1 - beta) theta, with EDM's
// ramp-up (Karras et al. 2022): the half-life in steps, ln 0.5 / ln decay, is capped at
// rampup x the updates so far. Without it a short run's average still holds much of the
// initial weights (0.999^1200 = 30%).
struct EmaOptions {
  double decay = 0.999;
  double rampup = 0.05;  // 0: no ramp-up
  void register_on(CLI::App& app, const std::string& help);
  void check() const;
};
class WeightAverage {
 public:
  WeightAverage(const FlatParameters& parameters, const EmaOptions& options);
  void update();
  nn::NamedTensors weights() const { return parameters_.unflatten(weights_); }
  void track(ResumeState& state, const std::string& name);
  // The decay the next update uses.
  double current_decay() const;
  const EmaOptions& options() const { return options_; }

 private:
  const FlatParameters& parameters_;
  EmaOptions options_;
  torch::Tensor weights_;
  std::int64_t updates_ = 0;
};

}  // namespace gm::train
