#include "gm/models/diffusion.hpp"

#include "gm/base/error.hpp"
#include "gm/nn/state.hpp"

namespace gm::models {

RawNet DiffusionModel::raw(const torch::Tensor& labels, double guidance) const {
  const nn::Denoiser module = net;
  if (module->takes_guidance()) {
    // A latent consistency student: the guidance scale is an input, one evaluation.
    return [module, labels, guidance](const torch::Tensor& x, const torch::Tensor& c_noise) {
      return module->forward(x, c_noise, labels, torch::full({1}, guidance, x.options()));
    };
  }
  if (guidance == 0 || module->classes() == 0)
    return [module, labels](const torch::Tensor& x, const torch::Tensor& c_noise) {
      return module->forward(x, c_noise, labels);
    };
  return [module, labels, guidance](const torch::Tensor& x, const torch::Tensor& c_noise) {
    const std::int64_t n = x.size(0);
    const torch::Tensor conditional = nn::labels_or_null(labels, n, module->classes(), x.device());
    const torch::Tensor noise = c_noise.numel() == 1 ? c_noise : torch::cat({c_noise, c_noise});
    const torch::Tensor both = module->forward(torch::cat({x, x}), noise,
                                               torch::cat({conditional, torch::full_like(conditional, module->classes())}));
    return (1 + guidance) * both.slice(0, 0, n) - guidance * both.slice(0, n);
  };
}

Denoiser DiffusionModel::denoiser(const torch::Tensor& labels, double guidance) const {
  const RawNet f = raw(labels, guidance);
  const EdmConfig config = edm;
  // One noise level for the whole batch, as a single element that broadcasts: the network then
  // embeds it once instead of once per row.
  return [f, config](const torch::Tensor& x, double sigma) {
    return edm_denoise(f, x, torch::full({1}, sigma, x.options()), config);
  };
}

nlohmann::json DiffusionModel::config() const {
  nlohmann::json config = {{"network", net->config_json()}, {"parametrisation", edm.parametrisation}, {"edm", edm.to_json()}};
  data.write(config);
  if (!grid.empty()) config["grid"] = grid;
  return config;
}

DiffusionModel DiffusionModel::from_file(const io::ModelFile& file, const std::string& where, bool use_ema,
                                         const std::string& family) {
  if (file.family != family) fail("{}: is a {} model, not a {} model", where, file.family, family);
  DiffusionModel model;
  try {
    const auto& config = file.config;
    model.edm = EdmConfig::from_json(config.at("edm"), config.at("parametrisation").get<std::string>());
    model.data = DataInfo::read(config);
    model.net = nn::make_denoiser(config.at("network"));
    if (model.net->classes() != model.data.classes())
      fail("the network has {} classes, the data {}", model.net->classes(), model.data.classes());
    if (config.contains("grid")) {
      model.grid = config.at("grid").get<std::vector<double>>();
      bool valid = model.grid.size() >= 2 && model.grid.back() == 0.0;
      for (size_t i = 0; valid && i + 1 < model.grid.size(); ++i) valid = model.grid[i] > model.grid[i + 1];
      if (!valid) fail("{}: config grid must fall strictly to a final 0", where);
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: config is malformed: {}", where, e.what());
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  // Both sets are checked against the network; the one loaded last is the one used.
  const bool ema = use_ema && !file.ema.empty();
  if (!file.ema.empty()) nn::load_parameters(*model.net, ema ? file.params : file.ema, where);
  nn::load_parameters(*model.net, ema ? file.ema : file.params, where);
  nn::load_buffers(*model.net, file.buffers, where);
  model.net->eval();
  return model;
}

}  // namespace gm::models
