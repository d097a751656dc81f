#include "gm/models/gan.hpp"

#include "gm/base/error.hpp"
#include "gm/nn/state.hpp"

namespace gm::models {

nlohmann::json GanConfig::to_json() const {
  return {{"latent", latent},
          {"loss", loss},
          {"r1", r1},
          {"pack", pack},
          {"data_shape", data_shape},
          {"generator", generator.to_json()},
          {"discriminator", discriminator.to_json()}};
}

GanConfig GanConfig::from_json(const nlohmann::json& j) {
  GanConfig c;
  c.latent = j.at("latent").get<std::int64_t>();
  c.loss = j.at("loss").get<std::string>();
  c.r1 = j.at("r1").get<double>();
  c.pack = j.at("pack").get<std::int64_t>();
  c.data_shape = j.at("data_shape").get<std::vector<std::int64_t>>();
  c.generator = nn::MlpConfig::from_json(j.at("generator"));
  c.discriminator = nn::MlpConfig::from_json(j.at("discriminator"));
  if (c.loss != "ns" && c.loss != "hinge") fail("GAN loss '{}' is neither ns nor hinge", c.loss);
  if (c.pack < 1 || c.latent != c.generator.in || c.discriminator.in != c.generator.out * c.pack)
    fail("GAN config is inconsistent: {}", j.dump());
  return c;
}

GanNetsImpl::GanNetsImpl(const GanConfig& config) : config_(config) {
  generator = register_module("generator", nn::Mlp(config.generator));
  discriminator = register_module("discriminator", nn::Mlp(config.discriminator));
}

torch::Tensor GanNetsImpl::judge(const torch::Tensor& x) {
  if (x.size(0) % config_.pack != 0) fail("a batch of {} rows does not pack by {}", x.size(0), config_.pack);
  return discriminator->forward(x.reshape({x.size(0) / config_.pack, -1})).view({-1});
}

torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits,
                                 const std::string& loss) {
  if (loss == "hinge") return torch::relu(1 - real_logits).mean() + torch::relu(1 + fake_logits).mean();
  return torch::softplus(-real_logits).mean() + torch::softplus(fake_logits).mean();
}

torch::Tensor generator_loss(const torch::Tensor& fake_logits, const std::string& loss) {
  if (loss == "hinge") return -fake_logits.mean();
  return torch::softplus(-fake_logits).mean();  // non-saturating: -log sigmoid(D(G(z)))
}

torch::Tensor r1_penalty(GanNetsImpl& nets, const torch::Tensor& real, double gamma) {
  const torch::Tensor x = real.detach().requires_grad_(true);
  const torch::Tensor logits = nets.judge(x);
  const torch::Tensor grad = torch::autograd::grad({logits.sum()}, {x}, {}, /*retain_graph=*/true,
                                                   /*create_graph=*/true)[0];
  // Packed rows share one logit; the squared gradient norm is taken per packed sample.
  return gamma / 2 * grad.pow(2).reshape({logits.size(0), -1}).sum(1).mean();
}

GanNets gan_from_file(const io::ModelFile& file, const std::string& where) {
  if (file.family != "gan") fail("{}: is a {} model, not a GAN", where, file.family);
  GanConfig config;
  try {
    config = GanConfig::from_json(file.config);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: config is malformed: {}", where, e.what());
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  GanNets nets(config);
  nn::load_parameters(*nets, file.params, where);
  if (!file.ema.empty()) fail("{}: a GAN file holds no /ema, this one does", where);
  nets->eval();
  return nets;
}

}  // namespace gm::models
