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

struct DataInfo {
  std::vector<std::int64_t> shape;
  std::optional<data::Range> image_range;
  std::vector<std::string> class_names;
  std::vector<double> class_prior;

  std::int64_t classes() const { return static_cast<std::int64_t>(class_names.size()); }
  bool is_image() const { return image_range.has_value(); }
  // Rows in file units -> the model's units ([-1, 1] for images), and back.
  torch::Tensor to_model(const torch::Tensor& x) const;
  torch::Tensor from_model(const torch::Tensor& x) const;

  // As config["data_shape"] and, when there is more to say, config["data"].
  void write(nlohmann::json& config) const;
  static DataInfo read(const nlohmann::json& config);
};

}  // namespace gm::models
