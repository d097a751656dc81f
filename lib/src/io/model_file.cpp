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
  return model;
}

}  // namespace gm::io
