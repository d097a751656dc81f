#include "gm/io/model_file.hpp"

#include "gm/base/error.hpp"
#include "gm/io/output.hpp"

namespace gm::io {

void write_model(const std::string& target, const Context& context, const std::vector<nlohmann::json>& inputs,
                 const ModelFile& model) {
  std::vector<std::string> input_paths;
  for (const auto& record : inputs)
    if (record.contains("path")) input_paths.push_back(record["path"].get<std::string>());
  H5Output out(target, input_paths);
  const h5::Group root = out.root();
  stamp(root, Kind::model, context, inputs);
  root.set_attr("family", model.family);
  set_json_attr(root, "config", model.config);
  write_tensors(root.create_group("params"), model.params);
  if (!model.ema.empty()) write_tensors(root.create_group("ema"), model.ema);
  if (!model.buffers.empty()) write_tensors(root.create_group("buffers"), model.buffers);
  if (!model.history.empty()) write_tensors(root.create_group("history"), model.history);
  if (!model.resume.empty()) write_tensors(root.create_group("resume"), model.resume);
  out.commit();
}

ModelFile read_model(const Input& input) {
  if (input.kind != Kind::model) fail("{}: is not a model file", input.file.label());
  const h5::Group root = input.file.root();
  ModelFile model;
  model.family = root.string_attr("family");
  model.config = json_attr(root, "config");
  if (!model.config.is_object()) fail("{}: config is not a JSON object", input.file.label());
  model.params = read_tensors(root.group("params"));
  if (root.has_group("ema")) model.ema = read_tensors(root.group("ema"));
  if (root.has_group("buffers")) model.buffers = read_tensors(root.group("buffers"));
  if (root.has_group("history")) model.history = read_tensors(root.group("history"));
  if (root.has_group("resume")) model.resume = read_tensors(root.group("resume"));
  return model;
}

namespace {

// The groups of a model file, in the order they are written.
struct ModelGroup {
  const char* name;
  std::map<std::string, torch::Tensor> ModelFile::*member;
};
constexpr ModelGroup kModelGroups[] = {{"params", &ModelFile::params},
                                       {"ema", &ModelFile::ema},
                                       {"buffers", &ModelFile::buffers},
                                       {"history", &ModelFile::history},
                                       {"resume", &ModelFile::resume}};

}  // namespace

TensorFile model_to_tensor_file(const ModelFile& model, std::map<std::string, std::string> stamp) {
  TensorFile file;
  file.metadata = std::move(stamp);
  file.metadata["family"] = model.family;
  file.metadata["config"] = model.config.dump();
  for (const ModelGroup& group : kModelGroups)
    for (const auto& [name, tensor] : model.*group.member) file.tensors.emplace(std::string(group.name) + "/" + name, tensor);
  return file;
}

ModelFile model_from_tensor_file(const TensorFile& file, const std::string& where) {
  const auto& meta = file.metadata;
  if (!meta.count("gm_format") || !meta.count("gm_kind") || !meta.count("family") || !meta.count("config"))
    fail("{}: holds no gm model metadata (gm_format, gm_kind, family, config); it was not written by gm", where);
  if (meta.at("gm_format") != kFormat) fail("{}: gm_format is '{}', this gm reads '{}'", where, meta.at("gm_format"), kFormat);
  if (meta.at("gm_kind") != "model") fail("{}: is a {} file, expected model", where, meta.at("gm_kind"));
  ModelFile model;
  model.family = meta.at("family");
  model.config = nlohmann::json::parse(meta.at("config"), nullptr, false);
  if (model.config.is_discarded() || !model.config.is_object()) fail("{}: config is not a JSON object", where);
  for (const auto& [name, tensor] : file.tensors) {
    const size_t slash = name.find('/');
    const std::string group = name.substr(0, slash), key = slash == std::string::npos ? "" : name.substr(slash + 1);
    const ModelGroup* found = nullptr;
    for (const ModelGroup& g : kModelGroups)
      if (group == g.name) found = &g;
    if (!found || key.empty() || key.find('/') != std::string::npos)
      fail("{}: tensor '{}' is not params/, ema/, buffers/ or history/ NAME", where, name);
    (model.*found->member).emplace(key, tensor);
  }
  if (model.params.empty()) fail("{}: holds no params/ tensors", where);
  return model;
}

}  // namespace gm::io
