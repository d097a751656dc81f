#include "gm/train/optimiser.hpp"

#include <algorithm>
#include <cmath>

#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/kernels/cpu.hpp"

namespace gm::train {

FlatParameters::FlatParameters(torch::nn::Module& module) {
  const auto named = module.named_parameters();
  if (named.is_empty()) fail("a network without parameters cannot be trained");
  std::int64_t total = 0;
  for (const auto& item : named) {
    slots_.push_back({item.key(), item.value().sizes().vec(), total, item.value().numel()});
    total += item.value().numel();
  }
  const auto options = named[0].value().options().requires_grad(false);
  values_ = torch::empty({total}, options);
  grads_ = torch::zeros({total}, options);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    torch::Tensor parameter = named[i].value();
    torch::Tensor value = values_.slice(0, slot.offset, slot.offset + slot.count).view(slot.shape);
    value.copy_(parameter);
    parameter.set_data(value);
    parameter.mutable_grad() = grads_.slice(0, slot.offset, slot.offset + slot.count).view(slot.shape);
  }
}

nn::NamedTensors FlatParameters::unflatten(const torch::Tensor& flat) const {
  nn::NamedTensors out;
  for (const Slot& slot : slots_) out.emplace(slot.name, flat.slice(0, slot.offset, slot.offset + slot.count).view(slot.shape));
  return out;
}

Adam::Adam(FlatParameters& parameters, const AdamOptions& options)
    : parameters_(parameters),
      options_(options),
      first_(torch::zeros_like(parameters.values())),
      second_(torch::zeros_like(parameters.values())) {
  if (!(options.lr > 0)) usage_fail("--lr {}: must be positive", options.lr);
}

void Adam::step() {
  ++steps_;
  kernels::adam_step(parameters_.values(), parameters_.grads(), first_, second_,
                     {options_.lr, options_.beta1, options_.beta2, options_.eps, steps_});
}

void Adam::track(ResumeState& state, const std::string& name) {
  state.track(name + ".first", &first_);
  state.track(name + ".second", &second_);
  state.track(name + ".steps", &steps_);
}

void EmaOptions::register_on(CLI::App& app, const std::string& help) {
  app.add_option("--ema", decay, help)->capture_default_str();
  app.add_option("--ema-rampup", rampup,
                 "EDM's ramp-up: the average's half-life is at most this fraction of the steps so far; 0 turns it off")
      ->capture_default_str();
}

void EmaOptions::check() const {
  if (!(decay >= 0 && decay < 1)) usage_fail("--ema {}: must be in [0, 1)", decay);
  if (!(rampup >= 0)) usage_fail("--ema-rampup {}: must be zero or positive", rampup);
}

WeightAverage::WeightAverage(const FlatParameters& parameters, const EmaOptions& options)
    : parameters_(parameters), options_(options), weights_(parameters.values().clone()) {
  options.check();
}

double WeightAverage::current_decay() const {
  if (options_.rampup == 0 || options_.decay == 0) return options_.decay;
  const double half_life = std::log(0.5) / std::log(options_.decay);
  const double ramped = std::min(half_life, options_.rampup * static_cast<double>(updates_));
  return ramped > 0 ? std::pow(0.5, 1.0 / ramped) : 0.0;
}

void WeightAverage::update() {
  kernels::move_average(weights_, parameters_.values(), 1.0 - current_decay());
  ++updates_;
}

void WeightAverage::track(ResumeState& state, const std::string& name) {
  state.track(name, &weights_);
  state.track(name + ".updates", &updates_);
}

}  // namespace gm::train
