#include "gm/models/classifier.hpp"

#include "gm/base/error.hpp"
#include "gm/nn/state.hpp"

namespace gm::models {

nlohmann::json Classifier::config() const {
  nlohmann::json config = {{"network", net->config().to_json()}};
  data.write(config);
  return config;
}

std::pair<torch::Tensor, torch::Tensor> Classifier::features_and_logits(const torch::Tensor& x, std::int64_t batch) {
  torch::NoGradGuard no_grad;
  const torch::Device device = net->parameters().front().device();
  std::vector<torch::Tensor> features, logits;
  for (std::int64_t at = 0; at < x.size(0); at += batch) {
    const torch::Tensor rows = data.to_model(x.slice(0, at, std::min(x.size(0), at + batch)).to(device));
    const torch::Tensor f = net->features(rows);
    features.push_back(f.to(torch::kCPU));
    logits.push_back(net->logits(f).to(torch::kCPU));
  }
  if (features.empty()) return {torch::zeros({0, net->config().features}), torch::zeros({0, net->config().classes})};
  return {torch::cat(features), torch::cat(logits)};
}

Classifier classifier_from_file(const io::ModelFile& file, const std::string& where) {
  if (file.family != "classifier") fail("{}: is a {} model, not a classifier", where, file.family);
  Classifier classifier;
  try {
    classifier.data = DataInfo::read(file.config);
    const nn::ConvClassifierConfig config = nn::ConvClassifierConfig::from_json(file.config.at("network"));
    if (!classifier.data.is_image() || classifier.data.classes() != config.classes ||
        classifier.data.shape != std::vector<std::int64_t>{config.channels, config.resolution, config.resolution})
      fail("the network does not match the data it was trained on");
    classifier.net = nn::ConvClassifier(config);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: config is malformed: {}", where, e.what());
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  }
  nn::load_parameters(*classifier.net, file.params, where);
  nn::load_buffers(*classifier.net, file.buffers, where);
  classifier.net->eval();
  return classifier;
}

}  // namespace gm::models
