#include "gm/sample/accelerate.hpp"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/version.hpp"

#ifdef GM_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace gm::sample {

#ifdef GM_WITH_CUDA

bool cuda_graphs_built() { return true; }

struct GraphedSampler::State {
  at::cuda::CUDAGraph graph;
  torch::Tensor z, labels, out;
  std::vector<torch::Tensor> step_noise;
};

GraphedSampler::GraphedSampler(SampleFn fn, std::int64_t rows, const torch::Tensor& z, const torch::Tensor& labels,
                               const std::vector<torch::Tensor>& step_noise)
    : state_(std::make_unique<State>()) {
  if (!z.is_cuda()) fail("CUDA graphs need a CUDA device, the batch is on {}", z.device().str());
  const auto fixed = [rows](const torch::Tensor& t) {
    if (!t.defined()) return t;
    std::vector<std::int64_t> shape(t.sizes().begin(), t.sizes().end());
    shape[0] = rows;
    return torch::zeros(shape, t.options());
  };
  State& s = *state_;
  s.z = fixed(z);
  s.labels = fixed(labels);
  for (const torch::Tensor& n : step_noise) s.step_noise.push_back(fixed(n));
  // Capture runs on a side stream; a few eager passes there first let cuBLAS and the caching
  // allocator set up outside the capture, as torch.cuda.graphs does.
  const c10::cuda::CUDAGuard device_guard(z.device());
  c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool();
  stream.synchronize();
  {
    const c10::cuda::CUDAStreamGuard stream_guard(stream);
    for (int warm = 0; warm < 3; ++warm) fn(s.z, s.labels, s.step_noise);
    stream.synchronize();
    s.graph.capture_begin();
    s.out = fn(s.z, s.labels, s.step_noise);
    s.graph.capture_end();
  }
  stream.synchronize();
}

GraphedSampler::~GraphedSampler() = default;

torch::Tensor GraphedSampler::run(const torch::Tensor& z, const torch::Tensor& labels,
                                  const std::vector<torch::Tensor>& step_noise) {
  State& s = *state_;
  const std::int64_t n = z.size(0);
  if (n > s.z.size(0)) fail("a batch of {} rows for a CUDA graph captured for {}", n, s.z.size(0));
  s.z.narrow(0, 0, n).copy_(z, true);
  if (s.labels.defined()) s.labels.narrow(0, 0, n).copy_(labels, true);
  for (size_t k = 0; k < s.step_noise.size(); ++k) s.step_noise[k].narrow(0, 0, n).copy_(step_noise.at(k), true);
  s.graph.replay();
  return s.out.narrow(0, 0, n).clone();
}

#else

bool cuda_graphs_built() { return false; }

struct GraphedSampler::State {};

GraphedSampler::GraphedSampler(SampleFn, std::int64_t, const torch::Tensor&, const torch::Tensor&,
                               const std::vector<torch::Tensor>&) {
  fail("--cuda-graph: gm {} was built against a LibTorch without CUDA", GM_VERSION);
}

GraphedSampler::~GraphedSampler() = default;

torch::Tensor GraphedSampler::run(const torch::Tensor&, const torch::Tensor&, const std::vector<torch::Tensor>&) {
  fail("--cuda-graph: gm {} was built against a LibTorch without CUDA", GM_VERSION);
}

#endif

namespace {

torch::ScalarType precision_type(const std::string& precision) {
  if (precision == "bf16") return torch::kBFloat16;
  if (precision == "fp16") return torch::kHalf;
  return torch::kFloat;
}

// LibTorch 2.4 replaced the per-device autocast functions with ones that take the device type.
void set_autocast(bool cuda, bool enabled, torch::ScalarType type) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  const at::DeviceType device = cuda ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_dtype(device, type);
  at::autocast::set_autocast_enabled(device, enabled);
#else
  if (cuda) {
    at::autocast::set_autocast_gpu_dtype(type);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(type);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

}  // namespace

void check_precision(const std::string& precision, const torch::Device& device) {
  if (precision != "fp32" && precision != "bf16" && precision != "fp16")
    usage_fail("--precision {}: expected fp32, bf16 or fp16", precision);
  if (precision == "fp16" && !device.is_cuda())
    usage_fail("--precision fp16: LibTorch autocasts to fp16 on CUDA devices only; use bf16 on {}", device.str());
}

AutocastScope::AutocastScope(const std::string& precision, const torch::Device& device) {
  if (precision == "fp32") return;
  cuda_ = device.is_cuda();
  active_ = true;
  set_autocast(cuda_, true, precision_type(precision));
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  set_autocast(cuda_, false, cuda_ ? torch::kHalf : torch::kBFloat16);
  at::autocast::clear_cache();
}

}  // namespace gm::sample
