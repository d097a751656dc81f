#include "gm/nn/classifier.hpp"

#include "gm/base/error.hpp"
#include "gm/kernels/cpu.hpp"
#include "gm/nn/layers.hpp"

namespace gm::nn {

nlohmann::json ConvClassifierConfig::to_json() const {
  return {{"type", "conv_classifier"}, {"channels", channels}, {"resolution", resolution},
          {"width", width},            {"features", features}, {"classes", classes}};
}

ConvClassifierConfig ConvClassifierConfig::from_json(const nlohmann::json& j) {
  if (j.value("type", std::string()) != "conv_classifier")
    fail("network type {} is not one this build has (conv_classifier)", j.value("type", nlohmann::json()).dump());
  ConvClassifierConfig c;
  c.channels = j.at("channels").get<std::int64_t>();
  c.resolution = j.at("resolution").get<std::int64_t>();
  c.width = j.at("width").get<std::int64_t>();
  c.features = j.at("features").get<std::int64_t>();
  c.classes = j.at("classes").get<std::int64_t>();
  if (c.channels < 1 || c.channels > 64 || c.resolution < 4 || c.resolution > 1024 || c.resolution % 4 != 0 ||
      c.width < 1 || c.width > 1024 || c.features < 1 || c.features > 65536 || c.classes < 2 || c.classes > (1 << 20))
    fail("classifier config out of range: {}", j.dump());
  const double w = static_cast<double>(c.width), side = static_cast<double>(c.resolution / 4);
  check_parameter_bound(9 * (static_cast<double>(c.channels) * w + 7 * w * w) + 2 * w * side * side * static_cast<double>(c.features) +
                            static_cast<double>(c.features) * static_cast<double>(c.classes + 1),
                        j);
  return c;
}

ConvClassifierImpl::ConvClassifierImpl(const ConvClassifierConfig& config) : config_(config) {
  const auto conv = [](std::int64_t in, std::int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1));
  };
  const std::int64_t w = config.width;
  body_ = register_module(
      "body", torch::nn::Sequential(conv(config.channels, w), torch::nn::SiLU(), conv(w, w), torch::nn::SiLU(),
                                    torch::nn::AvgPool2d(2), conv(w, 2 * w), torch::nn::SiLU(), conv(2 * w, 2 * w),
                                    torch::nn::SiLU(), torch::nn::AvgPool2d(2)));
  const std::int64_t side = config.resolution / 4;
  hidden_ = register_module("hidden", torch::nn::Linear(2 * w * side * side, config.features));
  output_ = register_module("output", torch::nn::Linear(config.features, config.classes));
}

torch::Tensor ConvClassifierImpl::features(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != config_.channels || x.size(2) != config_.resolution || x.size(3) != config_.resolution)
    fail("the classifier takes images [N, {}, {}, {}], got {}", config_.channels, config_.resolution,
         config_.resolution, c10::str(x.sizes()));
  return kernels::silu(hidden_(body_->forward(x).flatten(1)));
}

torch::Tensor ConvClassifierImpl::logits(const torch::Tensor& features) { return output_(features); }

}  // namespace gm::nn
