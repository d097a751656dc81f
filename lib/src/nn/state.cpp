#include "gm/nn/state.hpp"

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"

namespace gm::nn {
namespace {

NamedTensors detached(const torch::OrderedDict<std::string, torch::Tensor>& items) {
  NamedTensors out;
  for (const auto& item : items) out.emplace(item.key(), item.value().detach());
  return out;
}

void copy_into(const torch::OrderedDict<std::string, torch::Tensor>& targets, const NamedTensors& tensors,
               const std::string& what, const std::string& where) {
  if (targets.size() != tensors.size())
    fail("{}: holds {} {} tensors, the network has {}", where, tensors.size(), what, targets.size());
  torch::NoGradGuard no_grad;
  for (const auto& item : targets) {
    const auto found = tensors.find(item.key());
    if (found == tensors.end()) fail("{}: {} tensor '{}' is missing", where, what, item.key());
    if (found->second.sizes() != item.value().sizes())
      fail("{}: {} '{}' has shape {}, the network needs {}", where, what, item.key(), shape_text(found->second.sizes()),
           shape_text(item.value().sizes()));
    item.value().copy_(found->second);
  }
}

}  // namespace

NamedTensors parameters_of(const torch::nn::Module& module) { return detached(module.named_parameters()); }
NamedTensors buffers_of(const torch::nn::Module& module) { return detached(module.named_buffers()); }

void load_parameters(torch::nn::Module& module, const NamedTensors& tensors, const std::string& where) {
  copy_into(module.named_parameters(), tensors, "parameter", where);
}

void load_buffers(torch::nn::Module& module, const NamedTensors& tensors, const std::string& where) {
  copy_into(module.named_buffers(), tensors, "buffer", where);
}

void copy_matching(torch::nn::Module& to, const torch::nn::Module& from) {
  const auto copy = [](const torch::OrderedDict<std::string, torch::Tensor>& targets,
                       const torch::OrderedDict<std::string, torch::Tensor>& sources) {
    torch::NoGradGuard no_grad;
    for (const auto& item : sources) {
      const torch::Tensor* target = targets.find(item.key());
      if (!target || target->sizes() != item.value().sizes())
        fail("the grown network has no tensor '{}' of shape {}", item.key(), shape_text(item.value().sizes()));
      target->copy_(item.value());
    }
  };
  copy(to.named_parameters(), from.named_parameters());
  copy(to.named_buffers(), from.named_buffers());
}

}  // namespace gm::nn
