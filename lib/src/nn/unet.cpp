#include "gm/nn/unet.hpp"

#include <algorithm>
#include <cmath>

#include "gm/base/error.hpp"
#include "gm/kernels/cpu.hpp"
#include "gm/nn/layers.hpp"

namespace gm::nn {

nlohmann::json UNetConfig::to_json() const {
  nlohmann::json j = {{"type", "unet"},         {"channels", channels}, {"resolution", resolution},       {"width", width},
                      {"multipliers", multipliers}, {"blocks", blocks}, {"attention", attention},         {"classes", classes},
                      {"fourier", fourier},     {"fourier_scale", fourier_scale}};
  if (guidance_input) j["guidance_input"] = true;
  return j;
}

UNetConfig UNetConfig::from_json(const nlohmann::json& j) {
  if (j.value("type", std::string()) != "unet")
    fail("network type {} is not one this build has (unet)", j.value("type", nlohmann::json()).dump());
  UNetConfig c;
  c.channels = j.at("channels").get<std::int64_t>();
  c.resolution = j.at("resolution").get<std::int64_t>();
  c.width = j.at("width").get<std::int64_t>();
  c.multipliers = j.at("multipliers").get<std::vector<std::int64_t>>();
  c.blocks = j.at("blocks").get<std::int64_t>();
  c.attention = j.at("attention").get<std::vector<std::int64_t>>();
  c.classes = j.at("classes").get<std::int64_t>();
  c.fourier = j.at("fourier").get<std::int64_t>();
  c.fourier_scale = j.at("fourier_scale").get<double>();
  c.guidance_input = j.value("guidance_input", false);
  bool ok = c.channels >= 1 && c.channels <= 64 && c.width >= 8 && c.width <= 4096 && c.width % 8 == 0 &&
            !c.multipliers.empty() && c.multipliers.size() <= 8 && c.blocks >= 1 && c.blocks <= 16 && c.classes >= 0 &&
            c.classes <= (1 << 20) && c.fourier >= 1 && c.fourier <= (1 << 12) && c.resolution >= 1 &&
            c.resolution <= (1 << 14);
  for (std::int64_t m : c.multipliers) ok = ok && m >= 1 && m <= 64;
  if (!ok) fail("UNet config out of range: {}", j.dump());
  if (c.resolution % (std::int64_t{1} << (c.multipliers.size() - 1)) != 0)
    fail("UNet resolution {} does not halve {} times", c.resolution, c.multipliers.size() - 1);
  // Every block (res, attention, resampling) is at most 33 C^2 + E C for the widest C.
  const double widest = static_cast<double>(c.width) * static_cast<double>(*std::max_element(c.multipliers.begin(), c.multipliers.end()));
  const double embedding = 4.0 * static_cast<double>(c.width);
  const double blocks = static_cast<double>(c.multipliers.size()) * (2.0 * static_cast<double>(c.blocks) + 2) + 2;
  check_parameter_bound(blocks * (33 * widest * widest + embedding * widest) +
                            embedding * ((c.guidance_input ? 4.0 : 2.0) * static_cast<double>(c.fourier) + embedding + static_cast<double>(c.classes) + 1) +
                            18 * widest * static_cast<double>(c.channels),
                        j);
  return c;
}

namespace {

torch::nn::Conv2d conv(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

void zero_(torch::nn::Conv2d& layer) {
  torch::NoGradGuard no_grad;
  layer->weight.zero_();
  layer->bias.zero_();
}

// GroupNorm, SiLU, conv; the embedding added per channel; GroupNorm, SiLU, conv (zero at the
// start, so each block begins as the identity); a 1x1 conv on the skip when widths differ.
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(std::int64_t in, std::int64_t out, std::int64_t embedding) {
    norm1_ = register_module("norm1", group_norm(in));
    conv1_ = register_module("conv1", conv(in, out, 3));
    embed_ = register_module("embed", torch::nn::Linear(embedding, out));
    norm2_ = register_module("norm2", group_norm(out));
    conv2_ = register_module("conv2", conv(out, out, 3));
    zero_(conv2_);
    if (in != out) skip_ = register_module("skip", conv(in, out, 1));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& embedding) {
    torch::Tensor h = conv1_(kernels::silu(norm1_(x)));
    h = h + embed_(kernels::silu(embedding)).unsqueeze(-1).unsqueeze(-1);
    h = conv2_(kernels::silu(norm2_(h)));
    return (skip_ ? skip_(x) : x) + h;
  }

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, skip_{nullptr};
  torch::nn::Linear embed_{nullptr};
};
TORCH_MODULE(ResBlock);

// Single-head self-attention over the pixels, added to the input.
class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(std::int64_t channels) {
    norm_ = register_module("norm", group_norm(channels));
    qkv_ = register_module("qkv", conv(channels, 3 * channels, 1));
    proj_ = register_module("proj", conv(channels, channels, 1));
    zero_(proj_);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const auto qkv = qkv_(norm_(x)).view({n, 3, c, h * w}).unbind(1);
    const torch::Tensor weights = torch::softmax(qkv[0].transpose(1, 2).bmm(qkv[1]) / std::sqrt(static_cast<double>(c)), -1);
    const torch::Tensor out = qkv[2].bmm(weights.transpose(1, 2)).view({n, c, h, w});
    return x + proj_(out);
  }

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d qkv_{nullptr}, proj_{nullptr};
};
TORCH_MODULE(Attention);

// One step of the UNet: a residual block (with attention after it at the named resolutions)
// or a resampling: a stride-2 conv down, nearest-neighbour doubling and a conv up.
class StepImpl : public torch::nn::Module {
 public:
  static std::shared_ptr<StepImpl> block(std::int64_t in, std::int64_t out, std::int64_t embedding, bool attention) {
    auto step = std::make_shared<StepImpl>();
    step->res_ = step->register_module("res", ResBlock(in, out, embedding));
    if (attention) step->attention_ = step->register_module("attention", Attention(out));
    return step;
  }
  static std::shared_ptr<StepImpl> resample(std::int64_t channels, bool down) {
    auto step = std::make_shared<StepImpl>();
    step->down_ = down;
    step->conv_ = step->register_module(down ? "down" : "up", conv(channels, channels, 3, down ? 2 : 1));
    return step;
  }
  bool takes_skip() const { return !res_.is_empty(); }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& embedding) {
    if (res_) x = res_(x, embedding);
    if (attention_) x = attention_(x);
    if (conv_) {
      if (!down_) x = torch::upsample_nearest2d(x, {x.size(2) * 2, x.size(3) * 2});
      x = conv_(x);
    }
    return x;
  }

 private:
  ResBlock res_{nullptr};
  Attention attention_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
  bool down_ = false;
};

}  // namespace

UNetImpl::UNetImpl(const UNetConfig& config) : config_(config) {
  const std::int64_t embedding = 4 * config.width;
  frequencies_ = register_buffer("frequencies", fourier_frequencies(config.fourier, config.fourier_scale));
  embed_ = register_module("embed", torch::nn::Linear(2 * config.fourier, embedding));
  embed_out_ = register_module("embed_out", torch::nn::Linear(embedding, embedding));
  if (config.classes > 0)
    class_embed_ = register_module("class_embed", torch::nn::Embedding(config.classes + 1, embedding));
  if (config.guidance_input) guidance_embed_ = register_module("guidance_embed", zero_linear(2 * config.fourier, embedding));
  input_ = register_module("input", conv(config.channels, config.width, 3));
  down_ = register_module("down", torch::nn::ModuleList());
  middle_ = register_module("middle", torch::nn::ModuleList());
  up_ = register_module("up", torch::nn::ModuleList());

  const auto attends = [&](std::int64_t resolution) {
    return std::find(config.attention.begin(), config.attention.end(), resolution) != config.attention.end();
  };
  const auto levels = static_cast<std::int64_t>(config.multipliers.size());
  std::vector<std::int64_t> skips{config.width};
  std::int64_t channels = config.width, resolution = config.resolution;
  for (std::int64_t level = 0; level < levels; ++level) {
    const std::int64_t out = config.width * config.multipliers[level];
    for (std::int64_t b = 0; b < config.blocks; ++b) {
      down_->push_back(StepImpl::block(channels, out, embedding, attends(resolution)));
      channels = out;
      skips.push_back(channels);
    }
    if (level + 1 < levels) {
      down_->push_back(StepImpl::resample(channels, true));
      skips.push_back(channels);
      resolution /= 2;
    }
  }
  middle_->push_back(StepImpl::block(channels, channels, embedding, true));
  middle_->push_back(StepImpl::block(channels, channels, embedding, false));
  for (std::int64_t level = levels - 1; level >= 0; --level) {
    const std::int64_t out = config.width * config.multipliers[level];
    for (std::int64_t b = 0; b <= config.blocks; ++b) {
      up_->push_back(StepImpl::block(channels + skips.back(), out, embedding, attends(resolution)));
      skips.pop_back();
      channels = out;
    }
    if (level > 0) {
      up_->push_back(StepImpl::resample(channels, false));
      resolution *= 2;
    }
  }
  output_norm_ = register_module("output_norm", group_norm(channels));
  output_ = register_module("output", conv(channels, config.channels, 3));
  zero_(output_);
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x, const torch::Tensor& noise, const torch::Tensor& labels,
                                const torch::Tensor& guidance) {
  if (x.dim() != 4 || x.size(1) != config_.channels || x.size(2) != config_.resolution || x.size(3) != config_.resolution)
    fail("the UNet takes images [N, {}, {}, {}], got {}", config_.channels, config_.resolution, config_.resolution,
         c10::str(x.sizes()));
  torch::Tensor embedding = embed_out_(kernels::silu(embed_(fourier_features(noise, frequencies_))));
  if (class_embed_) embedding = embedding + class_embed_(labels_or_null(labels, x.size(0), config_.classes, x.device()));
  if (guidance_embed_) embedding = embedding + guidance_embed_(guidance_features(guidance_or_zero(guidance, x), config_.fourier));
  torch::Tensor h = input_(x);
  std::vector<torch::Tensor> skips{h};
  for (const auto& step : *down_) {
    h = step->as<StepImpl>()->forward(h, embedding);
    skips.push_back(h);
  }
  for (const auto& step : *middle_) h = step->as<StepImpl>()->forward(h, embedding);
  for (const auto& module : *up_) {
    auto* step = module->as<StepImpl>();
    // Resampling steps take no skip; every block takes one.
    if (step->takes_skip()) {
      h = torch::cat({h, skips.back()}, 1);
      skips.pop_back();
    }
    h = step->forward(h, embedding);
  }
  return output_(kernels::silu(output_norm_(h)));
}

}  // namespace gm::nn
