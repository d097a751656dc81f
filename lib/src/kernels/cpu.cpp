#include "gm/kernels/cpu.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GM_X86_KERNELS 1
#endif

namespace gm::kernels {

bool fused_cpu() {
#ifdef GM_X86_KERNELS
  static const bool available = [] {
    const char* choice = std::getenv("GM_FUSED_KERNELS");  // "0": LibTorch's ops, for comparisons
    if (choice && std::string(choice) == "0") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return available;
#else
  return false;
#endif
}

#ifdef GM_X86_KERNELS
namespace {

bool kernel_layout(const torch::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == torch::kFloat && t.is_contiguous();
}

// Whether the kernels run on these tensors: this CPU has them, and they are contiguous float32 CPU
// tensors with as many elements each.
bool fusable(std::initializer_list<torch::Tensor> tensors) {
  if (!fused_cpu()) return false;
  const std::int64_t n = tensors.begin()->numel();
  for (const torch::Tensor& t : tensors)
    if (!kernel_layout(t) || t.numel() != n) return false;
  return true;
}

// In-place writes through data pointers bypass autograd's version counter; bump it as LibTorch's
// own in-place ops do, so that a stale saved tensor is still caught.
void mark_written(const torch::Tensor& t) { t.unsafeGetTensorImpl()->bump_version(); }

#define GM_AVX2 __attribute__((target("avx2,fma")))

constexpr int max_arrays = 4;
// Each kernel runs over `count` floats (a multiple of 8) of its arrays, the outputs first.
using Kernel = void (*)(float* const* arrays, std::int64_t count, const float* scalars);

// Runs `kernel` over n elements, split over LibTorch's threads. The last partial vector goes
// through a zero-padded copy, so that every element takes the same arithmetic.
void run(Kernel kernel, std::array<float*, max_arrays> arrays, int used, int outputs, std::int64_t n,
         const float* scalars = nullptr) {
  constexpr std::int64_t grain = 1 << 12;  // vectors of 8 per task: 128 KB of floats
  const std::int64_t vectors = n / 8;
  at::parallel_for(0, vectors, grain, [&](std::int64_t begin, std::int64_t end) {
    std::array<float*, max_arrays> shifted{};
    for (int i = 0; i < used; ++i) shifted[i] = arrays[i] + begin * 8;
    kernel(shifted.data(), (end - begin) * 8, scalars);
  });
  const std::int64_t tail = n - vectors * 8;
  if (tail == 0) return;
  alignas(32) float padded[max_arrays][8] = {};
  std::array<float*, max_arrays> rows{};
  for (int i = 0; i < used; ++i) {
    std::memcpy(padded[i], arrays[i] + vectors * 8, static_cast<size_t>(tail) * sizeof(float));
    rows[i] = padded[i];
  }
  kernel(rows.data(), 8, scalars);
  for (int i = 0; i < outputs; ++i) std::memcpy(arrays[i] + vectors * 8, padded[i], static_cast<size_t>(tail) * sizeof(float));
}

float* floats(const torch::Tensor& t) { return t.data_ptr<float>(); }

// e^x by Cephes' expf: range reduction by a split ln 2, a degree-6 polynomial, and the power of
// two written into the exponent bits. Within 2 ulp up to 88.37; from there the power is 2^128, so
// the result is +inf (float overflows at 88.72). Below -87.3 it flushes to zero where Sleef
// returns subnormals.
GM_AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.0f)), _mm256_set1_ps(89.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i two_to_n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(two_to_n));
}

GM_AVX2 inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// arrays: y, x
GM_AVX2 void silu_kernel(float* const* a, std::int64_t count, const float*) {
  for (std::int64_t i = 0; i < count; i += 8) {
    const __m256 x = _mm256_loadu_ps(a[1] + i);
    _mm256_storeu_ps(a[0] + i, _mm256_mul_ps(x, sigmoid8(x)));
  }
}

// arrays: y, s, x; s = sigmoid(x) is kept for the gradient
GM_AVX2 void silu_keep_kernel(float* const* a, std::int64_t count, const float*) {
  for (std::int64_t i = 0; i < count; i += 8) {
    const __m256 x = _mm256_loadu_ps(a[2] + i);
    const __m256 s = sigmoid8(x);
    _mm256_storeu_ps(a[1] + i, s);
    _mm256_storeu_ps(a[0] + i, _mm256_mul_ps(x, s));
  }
}

// arrays: dx, dy (may be the same), y, s. d/dx x s(x) = s (1 + x (1 - s)) = s + y - y s.
GM_AVX2 void silu_grad_kernel(float* const* a, std::int64_t count, const float*) {
  for (std::int64_t i = 0; i < count; i += 8) {
    const __m256 y = _mm256_loadu_ps(a[2] + i), s = _mm256_loadu_ps(a[3] + i);
    const __m256 slope = _mm256_add_ps(_mm256_fnmadd_ps(y, s, y), s);
    _mm256_storeu_ps(a[0] + i, _mm256_mul_ps(_mm256_loadu_ps(a[1] + i), slope));
  }
}

// arrays: average, value; scalars: keep, weight
GM_AVX2 void average_kernel(float* const* a, std::int64_t count, const float* c) {
  const __m256 keep = _mm256_set1_ps(c[0]), weight = _mm256_set1_ps(c[1]);
  for (std::int64_t i = 0; i < count; i += 8)
    _mm256_storeu_ps(a[0] + i, _mm256_fmadd_ps(_mm256_loadu_ps(a[0] + i), keep,
                                               _mm256_mul_ps(_mm256_loadu_ps(a[1] + i), weight)));
}

// arrays: values, first, second, grads; scalars: beta1, 1 - beta1, beta2, 1 - beta2,
// 1 / sqrt(correction2), eps, -lr / correction1
GM_AVX2 void adam_kernel(float* const* a, std::int64_t count, const float* c) {
  const __m256 b1 = _mm256_set1_ps(c[0]), rest1 = _mm256_set1_ps(c[1]), b2 = _mm256_set1_ps(c[2]),
               rest2 = _mm256_set1_ps(c[3]), scale2 = _mm256_set1_ps(c[4]), eps = _mm256_set1_ps(c[5]),
               step = _mm256_set1_ps(c[6]);
  for (std::int64_t i = 0; i < count; i += 8) {
    const __m256 g = _mm256_loadu_ps(a[3] + i);
    const __m256 m = _mm256_fmadd_ps(_mm256_loadu_ps(a[1] + i), b1, _mm256_mul_ps(g, rest1));
    const __m256 v = _mm256_fmadd_ps(_mm256_loadu_ps(a[2] + i), b2, _mm256_mul_ps(_mm256_mul_ps(g, g), rest2));
    const __m256 denominator = _mm256_fmadd_ps(_mm256_sqrt_ps(v), scale2, eps);
    _mm256_storeu_ps(a[1] + i, m);
    _mm256_storeu_ps(a[2] + i, v);
    _mm256_storeu_ps(a[0] + i, _mm256_fmadd_ps(_mm256_div_ps(m, denominator), step, _mm256_loadu_ps(a[0] + i)));
  }
}

torch::Tensor silu_forward(const torch::Tensor& x, torch::Tensor* sigmoid) {
  torch::Tensor y = torch::empty_like(x);
  if (sigmoid) {
    *sigmoid = torch::empty_like(x);
    run(silu_keep_kernel, {floats(y), floats(*sigmoid), floats(x)}, 3, 2, x.numel());
  } else {
    run(silu_kernel, {floats(y), floats(x)}, 2, 1, x.numel());
  }
  return y;
}

struct SiluFunction : torch::autograd::Function<SiluFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& x) {
    torch::Tensor sigmoid;
    torch::Tensor y = silu_forward(x, &sigmoid);
    context->save_for_backward({x, y, sigmoid});
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grads) {
    const torch::autograd::variable_list saved = context->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& dy = grads[0];
    // Under create_graph the gradient must itself be differentiable in x, as LibTorch's is.
    if (torch::GradMode::is_enabled()) {
      const torch::Tensor sigmoid = x.sigmoid();
      return {dy * sigmoid * (1 + x * (1 - sigmoid))};
    }
    if (!fusable({dy, x})) return {at::silu_backward(dy, x)};
    torch::Tensor dx = torch::empty_like(x);
    run(silu_grad_kernel, {floats(dx), floats(dy), floats(saved[1]), floats(saved[2])}, 4, 1, x.numel());
    return {dx};
  }
};

// Inputs: x, add (optional: an absent one is no autograd input, so it shifts the later inputs' edge
// numbers by one), then each layer's weight and bias. Saved: x, then per later layer silu(h),
// sigmoid(h) and its weight, then the first layer's weight. `sinks` holds, per weight or bias, the
// existing .grad() its gradient is added to (an undefined tensor: returned to autograd instead).
// They are kept out of the saved variables: other parameters' gradients, views of the same flat
// buffer, change its version during the backward pass.
struct SiluMlp : torch::autograd::Function<SiluMlp> {
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& x,
                               const c10::optional<torch::Tensor>& add, at::TensorList layers,
                               const std::vector<torch::Tensor>& sinks) {
    c10::List<at::Tensor> sink_list;
    std::vector<std::int64_t> sink_of;  // per layer tensor: its index in sink_list, or -1
    for (const torch::Tensor& sink : sinks) {
      sink_of.push_back(sink.defined() ? static_cast<std::int64_t>(sink_list.size()) : -1);
      if (sink.defined()) sink_list.push_back(sink);
    }
    context->saved_data["sinks"] = sink_list;
    context->saved_data["sink_of"] = sink_of;
    torch::Tensor h = at::addmm(layers[1], x, layers[0].t());
    if (add) h.add_(*add);
    torch::autograd::variable_list saved{x};
    for (size_t i = 2; i < layers.size(); i += 2) {
      torch::Tensor sigmoid;
      const torch::Tensor activation = silu_forward(h, &sigmoid);
      h = at::addmm(layers[i + 1], activation, layers[i].t());
      saved.insert(saved.end(), {activation, sigmoid, layers[i]});
    }
    saved.push_back(layers[0]);
    context->save_for_backward(saved);
    context->saved_data["add"] = add.has_value();
    if (add) context->saved_data["add_sizes"] = add->sizes().vec();
    return h;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grads) {
    TORCH_CHECK(!torch::GradMode::is_enabled(), "gm's fused SiLU MLP has no second derivative (create_graph=true)");
    const torch::autograd::variable_list saved = context->get_saved_variables();
    const size_t later = (saved.size() - 2) / 3;  // layers after the first
    const bool has_add = context->saved_data["add"].toBool();
    const auto needs = [&](size_t input) {
      if (input == 1 && !has_add) return false;
      return context->needs_input_grad(input > 1 && !has_add ? input - 1 : input);
    };
    const c10::List<at::Tensor> sinks = context->saved_data["sinks"].toTensorList();
    const std::vector<std::int64_t> sink_of = context->saved_data["sink_of"].toIntVector();
    torch::autograd::variable_list out(3 + 2 * (later + 1));  // the last: sinks, no tensor input
    torch::Tensor g = grads[0].contiguous();
    // The gradients of layer k's weight and bias, from the gradient at its output and its input.
    const auto layer_grads = [&](size_t k, const torch::Tensor& input) {
      const size_t weight = 2 + 2 * k;  // input index of the weight
      if (sink_of[2 * k] >= 0) sinks.get(static_cast<size_t>(sink_of[2 * k])).addmm_(g.t(), input);  // one GEMM, no add
      else if (needs(weight)) out[weight] = at::mm(g.t(), input);
      if (sink_of[2 * k + 1] >= 0) sinks.get(static_cast<size_t>(sink_of[2 * k + 1])).add_(g.sum(0));
      else if (needs(weight + 1)) out[weight + 1] = g.sum(0);
    };
    for (size_t i = later; i-- > 0;) {
      const torch::Tensor& activation = saved[1 + 3 * i];
      layer_grads(i + 1, activation);
      g = at::mm(g, saved[3 + 3 * i]);  // d activation, turned into d h in place
      run(silu_grad_kernel, {floats(g), floats(g), floats(activation), floats(saved[2 + 3 * i])}, 4, 1, g.numel());
    }
    layer_grads(0, saved[0]);
    if (needs(1)) out[1] = at::sum_to(g, context->saved_data["add_sizes"].toIntVector());
    if (needs(0)) out[0] = at::mm(g, saved.back());
    return out;
  }
};

}  // namespace
#endif

torch::Tensor silu_mlp(const torch::Tensor& x, const std::vector<torch::Tensor>& layers, const torch::Tensor& add) {
  TORCH_CHECK(layers.size() >= 2 && layers.size() % 2 == 0, "silu_mlp takes (weight, bias) pairs");
#ifdef GM_X86_KERNELS
  bool needs_grad = x.requires_grad() || (add.defined() && add.requires_grad());
  std::vector<torch::Tensor> sinks;
  for (const torch::Tensor& t : layers) {
    needs_grad = needs_grad || t.requires_grad();
    const bool sink = t.requires_grad() && t.is_leaf() && t.grad().defined() && fusable({t.grad(), t});
    sinks.push_back(sink ? t.grad() : torch::Tensor());
  }
  if (needs_grad && torch::GradMode::is_enabled() && fusable({x}) && (!add.defined() || fusable({add})) &&
      std::all_of(layers.begin(), layers.end(), kernel_layout))
    return SiluMlp::apply(x, add.defined() ? c10::optional<torch::Tensor>(add) : c10::nullopt, at::TensorList(layers),
                          sinks);
#endif
  torch::Tensor h = torch::nn::functional::linear(x, layers[0], layers[1]);
  if (add.defined()) h = h + add;
  for (size_t i = 2; i < layers.size(); i += 2) h = torch::nn::functional::linear(kernels::silu(h), layers[i], layers[i + 1]);
  return h;
}

torch::Tensor silu(const torch::Tensor& x) {
#ifdef GM_X86_KERNELS
  if (fusable({x})) {
    if (!torch::GradMode::is_enabled() || !x.requires_grad()) return silu_forward(x, nullptr);
    return SiluFunction::apply(x);
  }
#endif
  return torch::silu(x);
}

void move_average(const torch::Tensor& average, const torch::Tensor& value, double weight) {
  torch::NoGradGuard no_grad;
#ifdef GM_X86_KERNELS
  if (fusable({average, value})) {
    const float scalars[] = {static_cast<float>(1 - weight), static_cast<float>(weight)};
    run(average_kernel, {floats(average), floats(value)}, 2, 1, average.numel(), scalars);
    mark_written(average);
    return;
  }
#endif
  average.mul_(1 - weight).add_(value, weight);
}

void adam_step(const torch::Tensor& values, const torch::Tensor& grads, const torch::Tensor& first,
               const torch::Tensor& second, const AdamStep& step) {
  torch::NoGradGuard no_grad;
  const double correction1 = 1 - std::pow(step.beta1, static_cast<double>(step.step));
  const double correction2 = 1 - std::pow(step.beta2, static_cast<double>(step.step));
#ifdef GM_X86_KERNELS
  if (fusable({values, grads, first, second})) {
    const float scalars[] = {static_cast<float>(step.beta1),           static_cast<float>(1 - step.beta1),
                             static_cast<float>(step.beta2),           static_cast<float>(1 - step.beta2),
                             static_cast<float>(1 / std::sqrt(correction2)), static_cast<float>(step.eps),
                             static_cast<float>(-step.lr / correction1)};
    run(adam_kernel, {floats(values), floats(first), floats(second), floats(grads)}, 4, 3, values.numel(), scalars);
    for (const torch::Tensor& t : {values, first, second}) mark_written(t);
    return;
  }
#endif
  first.mul_(step.beta1).add_(grads, 1 - step.beta1);
  second.mul_(step.beta2).addcmul_(grads, grads, 1 - step.beta2);
  const torch::Tensor denominator = (second.sqrt() / std::sqrt(correction2)).add_(step.eps);
  values.addcdiv_(first, denominator, -step.lr / correction1);
}

}  // namespace gm::kernels
