// What a model knows about the data it was trained on, kept in its config: the row shape, for
// images the file units its [-1, 1] maps to, and for class-conditional models the class names
// and how often each occurred (the prior that unlabelled sampling draws from).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "gm/data/images.hpp"

namespace gm::models {

// The latent space of an autoencoder, named by its file's SHA-256: rows in it decode only
// through that autoencoder.
struct LatentSpace {
  std::string space;   // the autoencoder file's sha256
  std::string path;    // its absolute path when the latents were made
  std::string family;  // vae or vqvae
  nlohmann::json to_json() const { return {{"space", space}, {"path", path}, {"family", family}}; }
  static LatentSpace from_json(const nlohmann::json& j);
};

struct DataInfo {
  std::vector<std::int64_t> shape;
  std::optional<LatentSpace> latent;  // rows are latents [L, h, w] of this autoencoder
  std::optional<data::Range> image_range;
  std::vector<std::string> class_names;
  std::vector<double> class_prior;

  std::int64_t classes() const { return static_cast<std::int64_t>(class_names.size()); }
  bool is_image() const { return image_range.has_value(); }
  // Images or latents [C, H, W]: what the UNet and the conv networks take.
  bool is_spatial() const { return shape.size() == 3; }
  // Rows in file units -> the model's units ([-1, 1] for images), and back.
  torch::Tensor to_model(const torch::Tensor& x) const;
  torch::Tensor from_model(const torch::Tensor& x) const;

  // As config["data_shape"] and, when there is more to say, config["data"].
  void write(nlohmann::json& config) const;
  static DataInfo read(const nlohmann::json& config);
};

}  // namespace gm::models
