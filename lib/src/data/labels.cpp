#include "gm/data/labels.hpp"

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"
#include "gm/base/text.hpp"

namespace gm::data {

torch::Tensor checked_labels(const torch::Tensor& y, std::int64_t rows, const std::string& where) {
  if (y.dim() != 1 || y.size(0) != rows)
    fail("{}: labels of shape {} do not match {} rows", where, shape_text(y.sizes()), rows);
  if (y.is_floating_point() || y.scalar_type() == torch::kBool)
    fail("{}: labels are {}, not integers", where, c10::toString(y.scalar_type()));
  const torch::Tensor labels = y.to(torch::kLong);
  if (rows > 0 && labels.min().item<std::int64_t>() < 0) fail("{}: labels include negative values", where);
  return labels;
}

std::vector<std::string> class_names_for(const torch::Tensor& y, const std::string& given) {
  const std::int64_t classes = y.numel() > 0 ? y.max().item<std::int64_t>() + 1 : 0;
  if (!given.empty()) {
    std::vector<std::string> names = split(given, ',');
    if (static_cast<std::int64_t>(names.size()) < classes)
      usage_fail("--class-names gives {} names, the labels need {}", names.size(), classes);
    return names;
  }
  std::vector<std::string> names;
  for (std::int64_t c = 0; c < classes; ++c) names.push_back(std::to_string(c));
  return names;
}

}  // namespace gm::data
