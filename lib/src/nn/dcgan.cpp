#include "gm/nn/dcgan.hpp"

#include "gm/base/error.hpp"
#include "gm/nn/layers.hpp"
#include "gm/nn/mlp.hpp"

namespace gm::nn {

LabelledNet make_labelled_net(const nlohmann::json& config) {
  const std::string type = config.value("type", std::string());
  if (type == "mlp") return std::make_shared<MlpImpl>(MlpConfig::from_json(config));
  if (type == "dcgan_generator") return std::make_shared<DcganGeneratorImpl>(DcganConfig::from_json(config));
  if (type == "dcgan_discriminator") return std::make_shared<DcganDiscriminatorImpl>(DcganConfig::from_json(config));
  fail("network type {} is not one this build has (mlp, dcgan_generator, dcgan_discriminator)",
       config.value("type", nlohmann::json()).dump());
}

std::int64_t DcganConfig::levels() const {
  std::int64_t base = resolution, levels = 0;
  while (base % 2 == 0 && base > 7) base /= 2, ++levels;
  return levels;
}

nlohmann::json DcganConfig::to_json(const std::string& type) const {
  return {{"type", type},   {"channels", channels}, {"resolution", resolution},
          {"width", width}, {"latent", latent},     {"classes", classes}};
}

DcganConfig DcganConfig::from_json(const nlohmann::json& j) {
  DcganConfig c;
  c.channels = j.at("channels").get<std::int64_t>();
  c.resolution = j.at("resolution").get<std::int64_t>();
  c.width = j.at("width").get<std::int64_t>();
  c.latent = j.at("latent").get<std::int64_t>();
  c.classes = j.at("classes").get<std::int64_t>();
  if (c.channels < 1 || c.channels > 256 || c.resolution < 4 || c.resolution > 4096 || c.width < 8 || c.width > 4096 ||
      c.width % 8 != 0 || c.latent < 1 || c.latent > (1 << 16) || c.classes < 0 || c.classes > (1 << 20))
    fail("DCGAN config out of range: {}", j.dump());
  if (c.levels() < 1) fail("DCGAN resolution {} does not halve to a grid of at most 7", c.resolution);
  const double widest = static_cast<double>(c.width << (c.levels() - 1)), cells = 49;  // base grid at most 7x7
  const double features = 4.0 * static_cast<double>(c.width), latent = static_cast<double>(c.latent);
  check_parameter_bound(2 * latent * widest * cells + 32 * static_cast<double>(c.levels()) * widest * widest +
                            widest * cells * features + static_cast<double>(c.classes) * (latent + features) +
                            16 * widest * static_cast<double>(c.channels),
                        j);
  return c;
}

DcganGeneratorImpl::DcganGeneratorImpl(const DcganConfig& config) : config_(config) {
  const std::int64_t levels = config.levels(), base = config.resolution >> levels;
  std::int64_t channels = config.width << (levels - 1);
  if (config.classes > 0) class_embed_ = register_module("class_embed", torch::nn::Embedding(config.classes, config.latent));
  project_ = register_module("project", torch::nn::Linear(config.latent * (config.classes > 0 ? 2 : 1), channels * base * base));
  base_norm_ = register_module("base_norm", group_norm(channels));
  ups_ = register_module("ups", torch::nn::ModuleList());
  norms_ = register_module("norms", torch::nn::ModuleList());
  for (std::int64_t level = 0; level < levels; ++level) {
    const std::int64_t out = std::max(config.width, channels / 2);
    ups_->push_back(torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(channels, out, 4).stride(2).padding(1)));
    norms_->push_back(group_norm(out));
    channels = out;
  }
  output_ = register_module("output", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, config.channels, 3).padding(1)));
}

torch::Tensor DcganGeneratorImpl::forward(const torch::Tensor& z, const torch::Tensor& labels) {
  torch::Tensor input = z;
  if (class_embed_) {
    if (!labels.defined()) fail("this generator is class-conditional and needs labels");
    input = torch::cat({z, class_embed_(labels.to(z.device(), torch::kLong))}, 1);
  }
  const std::int64_t levels = config_.levels(), base = config_.resolution >> levels;
  torch::Tensor h = project_(input).view({z.size(0), -1, base, base});
  h = torch::relu(base_norm_(h));
  for (size_t i = 0; i < ups_->size(); ++i)
    h = torch::relu(norms_[i]->as<torch::nn::GroupNorm>()->forward(ups_[i]->as<torch::nn::ConvTranspose2d>()->forward(h)));
  return torch::tanh(output_(h));
}

DcganDiscriminatorImpl::DcganDiscriminatorImpl(const DcganConfig& config) : config_(config) {
  const std::int64_t levels = config.levels(), base = config.resolution >> levels;
  downs_ = register_module("downs", torch::nn::ModuleList());
  std::int64_t channels = config.channels;
  for (std::int64_t level = 0; level < levels; ++level) {
    const std::int64_t out = config.width << level;
    downs_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, out, 4).stride(2).padding(1)));
    channels = out;
  }
  const std::int64_t features = 4 * config.width;
  features_ = register_module("features", torch::nn::Linear(channels * base * base, features));
  output_ = register_module("output", torch::nn::Linear(features, 1));
  if (config.classes > 0) class_embed_ = register_module("class_embed", torch::nn::Embedding(config.classes, features));
}

torch::Tensor DcganDiscriminatorImpl::forward(const torch::Tensor& x, const torch::Tensor& labels) {
  torch::Tensor h = x;
  for (const auto& layer : *downs_) h = torch::leaky_relu(layer->as<torch::nn::Conv2d>()->forward(h), 0.2);
  const torch::Tensor features = torch::leaky_relu(features_(h.flatten(1)), 0.2);
  torch::Tensor logits = output_(features).view({-1});
  if (class_embed_) {
    if (!labels.defined()) fail("this discriminator is class-conditional and needs labels");
    logits = logits + (class_embed_(labels.to(x.device(), torch::kLong)) * features).sum(1);
  }
  return logits;
}

}  // namespace gm::nn
