// The classifier family: a conv classifier of images and the data it knows, used by gm-eval
// for features (FID, KID, PRDC) and class metrics.
#pragma once

#include <string>

#include "gm/io/model_file.hpp"
#include "gm/models/data_info.hpp"
#include "gm/nn/classifier.hpp"

namespace gm::models {

struct Classifier {
  nn::ConvClassifier net{nullptr};
  DataInfo data;

  nlohmann::json config() const;
  // Rows in file units -> features [N, F] and logits [N, classes], in batches, without gradients.
  std::pair<torch::Tensor, torch::Tensor> features_and_logits(const torch::Tensor& x, std::int64_t batch = 1000);
};

Classifier classifier_from_file(const io::ModelFile& file, const std::string& where);

}  // namespace gm::models
