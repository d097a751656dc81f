#include "gm/models/gan.hpp"

#include "gm/base/error.hpp"
#include "gm/nn/dcgan.hpp"
#include "gm/nn/mlp.hpp"
#include "gm/nn/state.hpp"

namespace gm::models {

nlohmann::json GanConfig::to_json() const {
  nlohmann::json j = {{"latent", latent}, {"loss", loss},           {"r1", r1},
                      {"pack", pack},     {"generator", generator}, {"discriminator", discriminator}};
  data.write(j);
  return j;
}

GanConfig GanConfig::from_json(const nlohmann::json& j) {
  GanConfig c;
  c.latent = j.at("latent").get<std::int64_t>();
  c.loss = j.at("loss").get<std::string>();
  c.r1 = j.at("r1").get<double>();
  c.pack = j.at("pack").get<std::int64_t>();
  c.data = DataInfo::read(j);
  c.generator = j.at("generator");
  c.discriminator = j.at("discriminator");
  if (c.loss != "ns" && c.loss != "hinge") fail("GAN loss '{}' is neither ns nor hinge", c.loss);
  std::int64_t elements = 1;
  for (std::int64_t d : c.data.shape) elements *= d;
  const std::string type = c.generator.value("type", std::string());
  bool consistent = c.pack >= 1 && c.pack <= 64 && c.discriminator.is_object();
  if (consistent && type == "mlp") {
    const nn::MlpConfig g = nn::MlpConfig::from_json(c.generator), d = nn::MlpConfig::from_json(c.discriminator);
    consistent = c.latent == g.in && g.out == elements && d.in == elements * c.pack && d.out == 1 && c.data.classes() == 0;
  } else if (consistent && type == "dcgan_generator") {
    const nn::DcganConfig g = nn::DcganConfig::from_json(c.generator), d = nn::DcganConfig::from_json(c.discriminator);
    consistent = c.data.is_image() && c.latent == g.latent && g.channels == c.data.shape[0] &&
                 g.resolution == c.data.shape[1] && c.data.shape[1] == c.data.shape[2] && d.channels == g.channels * c.pack &&
                 d.resolution == g.resolution && g.classes == c.data.classes() && d.classes == g.classes &&
                 (c.pack == 1 || g.classes == 0);
  } else {
    consistent = false;
  }
  if (!consistent) fail("GAN config is inconsistent: {}", j.dump());
  return c;
}

GanNetsImpl::GanNetsImpl(const GanConfig& config) : config_(config) {
  generator = register_module("generator", nn::make_labelled_net(config.generator));
  discriminator = register_module("discriminator", nn::make_labelled_net(config.discriminator));
}

torch::Tensor GanNetsImpl::judge(const torch::Tensor& x, const torch::Tensor& labels) {
  if (x.size(0) % config_.pack != 0) fail("a batch of {} rows does not pack by {}", x.size(0), config_.pack);
  // Packed images stack along the channels; packed vectors side by side.
  const torch::Tensor packed = x.dim() == 4 ? x.reshape({x.size(0) / config_.pack, -1, x.size(2), x.size(3)})
                                            : x.reshape({x.size(0) / config_.pack, -1});
  return discriminator->forward(packed, labels).view({-1});
}

torch::Tensor GanNetsImpl::generate(const torch::Tensor& z, const torch::Tensor& labels) {
  return generator->forward(z, labels);
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

torch::Tensor r1_penalty(GanNetsImpl& nets, const torch::Tensor& real, double gamma, const torch::Tensor& labels) {
  const torch::Tensor x = real.detach().requires_grad_(true);
  const torch::Tensor logits = nets.judge(x, labels);
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
