// What a checkpoint holds beyond the model, so that a run continues bit for bit: optimiser
// moments, weight averages, the random generator, the data order and the loop's counters. Each
// piece is tracked where it lives and restored in place.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include "gm/nn/state.hpp"

namespace gm::train {

class ResumeState {
 public:
  // Names are dotted (they become HDF5 names under /resume).
  void track(const std::string& name, torch::Tensor* tensor);  // restored by copying into it
  void track(const std::string& name, std::int64_t* value);
  void track(const std::string& name, std::map<std::string, double>* values);
  void track(const std::string& name, at::Generator* generator);

  nn::NamedTensors save() const;
  // Every tracked piece must be in `saved`, shaped as it is now; `where` names the file.
  void restore(const nn::NamedTensors& saved, const std::string& where) const;

 private:
  struct Piece {
    std::string name;
    std::function<void(nn::NamedTensors&)> save;
    std::function<void(const nn::NamedTensors&, const std::string&)> restore;
  };
  std::vector<Piece> pieces_;
};

}  // namespace gm::train
