// Class labels as gm files hold them: one non-negative int64 per row, with class names.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

namespace gm::data {

// Checks that `y` is one integer label per row of `rows`, none negative, and returns it as
// int64; failures name `where`.
torch::Tensor checked_labels(const torch::Tensor& y, std::int64_t rows, const std::string& where);

// Class names given as "a,b,c", or the label values as text when `given` is empty; there must be
// a name for every label.
std::vector<std::string> class_names_for(const torch::Tensor& y, const std::string& given);

}  // namespace gm::data
