// What makes sampling fast on an accelerator: a sampler's whole forward pass captured once as a
// CUDA graph and replayed per batch (no per-kernel launch cost: what a 1-step student at batch 1
// is made of), and reduced-precision autocast.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace gm::sample {

// Whether this build of gm can capture CUDA graphs (it was built against a CUDA LibTorch).
bool cuda_graphs_built();

// The forward pass of a sampler: noise z, labels (undefined for an unconditional model) and the
// fresh noise of each later step -> samples, all on one CUDA device.
using SampleFn = std::function<torch::Tensor(const torch::Tensor& z, const torch::Tensor& labels,
                                             const std::vector<torch::Tensor>& step_noise)>;

// `fn` captured as one CUDA graph for batches of `rows` rows shaped like the examples given,
// and replayed: run() copies a batch of at most `rows` rows into the graph's inputs, replays it,
// and returns a copy of the outputs of those rows.
class GraphedSampler {
 public:
  GraphedSampler(SampleFn fn, std::int64_t rows, const torch::Tensor& z, const torch::Tensor& labels,
                 const std::vector<torch::Tensor>& step_noise);
  ~GraphedSampler();
  torch::Tensor run(const torch::Tensor& z, const torch::Tensor& labels, const std::vector<torch::Tensor>& step_noise);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// fp32 (none), bf16 or fp16: the type matrix products and convolutions run in inside the scope,
// LibTorch's autocast on the device's type; the sampler's own arithmetic stays float32.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
};

// Fails (a usage error) unless `precision` is one this device can autocast to.
void check_precision(const std::string& precision, const torch::Device& device);

}  // namespace gm::sample
