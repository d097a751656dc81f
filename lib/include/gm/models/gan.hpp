// The GAN family: generator and discriminator MLPs on vectors or DCGAN networks on images
// (class-conditional when the data are labelled), the non-saturating and hinge losses, the R1
// penalty (Mescheder et al. 2018) and PacGAN packing (Lin et al. 2018).
#pragma once

#include <string>
#include <vector>

#include "gm/io/model_file.hpp"
#include "gm/models/data_info.hpp"
#include "gm/nn/labelled.hpp"

namespace gm::models {

struct GanConfig {
  std::int64_t latent = 16;
  std::string loss = "ns";  // ns (non-saturating) or hinge
  double r1 = 0;            // gamma of the R1 penalty on real data; 0 turns it off
  std::int64_t pack = 1;    // PacGAN: the discriminator judges `pack` samples at once
  DataInfo data;
  nlohmann::json generator, discriminator;  // network configs, by "type"

  nlohmann::json to_json() const;
  static GanConfig from_json(const nlohmann::json& j);
};

// Both networks under one module, so their parameters are named generator.* and discriminator.*.
class GanNetsImpl : public torch::nn::Module {
 public:
  explicit GanNetsImpl(const GanConfig& config);
  nn::LabelledNet generator, discriminator;
  const GanConfig& config() const { return config_; }
  // Discriminator logits for a batch, packed: [B, ...] -> [B / pack].
  torch::Tensor judge(const torch::Tensor& x, const torch::Tensor& labels = {});
  // Generated rows in the model's units for noise [N, latent] and labels (undefined when unconditional).
  torch::Tensor generate(const torch::Tensor& z, const torch::Tensor& labels = {});

 private:
  GanConfig config_;
};
TORCH_MODULE(GanNets);

torch::Tensor discriminator_loss(const torch::Tensor& real_logits, const torch::Tensor& fake_logits,
                                 const std::string& loss);
torch::Tensor generator_loss(const torch::Tensor& fake_logits, const std::string& loss);
// gamma / 2 * E |grad_x D(x)|^2 over real rows.
torch::Tensor r1_penalty(GanNetsImpl& nets, const torch::Tensor& real, double gamma, const torch::Tensor& labels = {});

GanNets gan_from_file(const io::ModelFile& file, const std::string& where);

}  // namespace gm::models
