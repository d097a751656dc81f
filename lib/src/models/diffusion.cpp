#include "gm/models/diffusion.hpp"

#include "gm/base/error.hpp"
#include "gm/nn/state.hpp"

namespace gm::models {

RawNet DiffusionModel::raw() const {
  nn::NoiseMlp module = net;
  return [module](const torch::Tensor& x, const torch::Tensor& c_noise) mutable { return module->forward(x, c_noise); };
}

Denoiser DiffusionModel::denoiser() const {
  const RawNet f = raw();
  const EdmConfig config = edm;
  return [f, config](const torch::Tensor& x, double sigma) {
    return edm_denoise(f, x, torch::full({x.size(0)}, sigma, x.options()), config);
  };
}

nlohmann::json DiffusionModel::config() const {
  nlohmann::json config = {{"network", net->config().to_json()},
                           {"parametrisation", edm.parametrisation},
                           {"edm", edm.to_json()},
                           {"data_shape", data_shape}};
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
    model.data_shape = config.at("data_shape").get<std::vector<std::int64_t>>();
    model.net = nn::NoiseMlp(nn::NoiseMlpConfig::from_json(config.at("network")));
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
