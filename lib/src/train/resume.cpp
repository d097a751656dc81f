#include "gm/train/resume.hpp"

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"

namespace gm::train {
namespace {

const torch::Tensor& saved_tensor(const nn::NamedTensors& saved, const std::string& name, const std::string& where) {
  const auto found = saved.find(name);
  if (found == saved.end()) fail("{}: resume state '{}' is missing; not a checkpoint of this kind of run", where, name);
  return found->second;
}

}  // namespace

void ResumeState::track(const std::string& name, torch::Tensor* tensor) {
  pieces_.push_back({name, [name, tensor](nn::NamedTensors& out) { out.emplace(name, tensor->detach().to(torch::kCPU).clone()); },
                     [name, tensor](const nn::NamedTensors& saved, const std::string& where) {
                       const torch::Tensor& value = saved_tensor(saved, name, where);
                       if (value.sizes() != tensor->sizes() || value.scalar_type() != tensor->scalar_type())
                         fail("{}: resume state '{}' has shape {}, this run needs {}", where, name,
                              shape_text(value.sizes()), shape_text(tensor->sizes()));
                       torch::NoGradGuard no_grad;
                       tensor->copy_(value);
                     }});
}

void ResumeState::track(const std::string& name, std::int64_t* value) {
  pieces_.push_back({name, [name, value](nn::NamedTensors& out) { out.emplace(name, torch::tensor(*value, torch::kLong)); },
                     [name, value](const nn::NamedTensors& saved, const std::string& where) {
                       const torch::Tensor& t = saved_tensor(saved, name, where);
                       if (t.numel() != 1 || t.scalar_type() != torch::kLong) fail("{}: resume state '{}' is malformed", where, name);
                       *value = t.item<std::int64_t>();
                     }});
}

void ResumeState::track(const std::string& name, std::map<std::string, double>* values) {
  // One entry per key, "NAME.KEY", so that the set of keys travels too.
  pieces_.push_back({name,
                     [name, values](nn::NamedTensors& out) {
                       out.emplace(name, torch::tensor(static_cast<std::int64_t>(values->size())));
                       for (const auto& [key, v] : *values) out.emplace(name + "." + key, torch::tensor(v, torch::kDouble));
                     },
                     [name, values](const nn::NamedTensors& saved, const std::string& where) {
                       saved_tensor(saved, name, where);
                       values->clear();
                       const std::string prefix = name + ".";
                       for (const auto& [key, t] : saved)
                         if (key.rfind(prefix, 0) == 0) (*values)[key.substr(prefix.size())] = t.item<double>();
                     }});
}

void ResumeState::track(const std::string& name, at::Generator* generator) {
  pieces_.push_back({name, [name, generator](nn::NamedTensors& out) { out.emplace(name, generator->get_state()); },
                     [name, generator](const nn::NamedTensors& saved, const std::string& where) {
                       const torch::Tensor& state = saved_tensor(saved, name, where);
                       try {
                         generator->set_state(state);
                       } catch (const c10::Error&) {
                         fail("{}: resume state '{}' is not a generator state", where, name);
                       }
                     }});
}

nn::NamedTensors ResumeState::save() const {
  nn::NamedTensors out;
  for (const Piece& piece : pieces_) piece.save(out);
  return out;
}

void ResumeState::restore(const nn::NamedTensors& saved, const std::string& where) const {
  for (const Piece& piece : pieces_) piece.restore(saved, where);
}

}  // namespace gm::train
