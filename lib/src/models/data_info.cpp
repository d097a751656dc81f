#include "gm/models/data_info.hpp"

#include <cmath>

#include "gm/base/error.hpp"

namespace gm::models {

LatentSpace LatentSpace::from_json(const nlohmann::json& j) {
  LatentSpace l{j.at("space").get<std::string>(), j.at("path").get<std::string>(), j.at("family").get<std::string>()};
  if (l.space.size() != 64 || l.space.find_first_not_of("0123456789abcdef") != std::string::npos)
    fail("latent space {} is not a SHA-256 in hex", nlohmann::json(l.space).dump());
  return l;
}

torch::Tensor DataInfo::to_model(const torch::Tensor& x) const {
  return image_range ? data::to_unit(x, *image_range) : x.to(torch::kFloat);
}

torch::Tensor DataInfo::from_model(const torch::Tensor& x) const {
  return image_range ? data::from_unit(x, *image_range) : x;
}

void DataInfo::write(nlohmann::json& config) const {
  config["data_shape"] = shape;
  nlohmann::json data = nlohmann::json::object();
  if (image_range) data["image_range"] = *image_range;
  if (latent) data["autoencoder"] = latent->to_json();
  if (!class_names.empty()) {
    data["class_names"] = class_names;
    data["class_prior"] = class_prior;
  }
  if (!data.empty()) config["data"] = data;
}

DataInfo DataInfo::read(const nlohmann::json& config) {
  DataInfo info;
  info.shape = config.at("data_shape").get<std::vector<std::int64_t>>();
  bool ok = !info.shape.empty() && info.shape.size() <= 3;
  for (std::int64_t d : info.shape) ok = ok && d >= 1 && d <= (1 << 16);
  if (!ok) fail("data_shape {} is out of range", nlohmann::json(info.shape).dump());
  if (!config.contains("data")) return info;
  const nlohmann::json& data = config.at("data");
  if (data.contains("image_range")) {
    info.image_range = data.at("image_range").get<data::Range>();
    if (!(info.image_range->at(1) > info.image_range->at(0)) || !data::is_image_shape(info.shape))
      fail("data image_range {} does not fit data_shape {}", data.at("image_range").dump(), nlohmann::json(info.shape).dump());
  }
  if (data.contains("autoencoder")) {
    info.latent = LatentSpace::from_json(data.at("autoencoder"));
    if (info.image_range || info.shape.size() != 3) fail("data of an autoencoder's latents must be [L, h, w] rows");
  }
  if (data.contains("class_names")) {
    info.class_names = data.at("class_names").get<std::vector<std::string>>();
    info.class_prior = data.at("class_prior").get<std::vector<double>>();
    double total = 0;
    for (double p : info.class_prior) total += (p >= 0 && std::isfinite(p)) ? p : -1e9;
    if (info.class_names.empty() || info.class_prior.size() != info.class_names.size() || !(std::abs(total - 1) < 1e-6))
      fail("data class_names and class_prior do not match: {}", data.dump());
  }
  return info;
}

}  // namespace gm::models
