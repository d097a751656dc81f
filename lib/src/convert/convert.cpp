#include <CLI/CLI.hpp>

#include "gm/convert/convert.hpp"

#include <iostream>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/model_file.hpp"
#include "gm/io/output.hpp"
#include "gm/io/png.hpp"
#include "gm/io/safetensors.hpp"
#include "gm/io/sha256.hpp"

namespace gm::convert {

void ConvertOptions::register_on(CLI::App& app) {
  app.add_option("input", input, "Input file: gm HDF5 (- reads stdin), or .safetensors written by gm")->required();
  app.add_option("output", output,
                 "Output file, format by extension: .h5 or .hdf5 (gm HDF5), .safetensors (a model's tensors, "
                 "config and provenance), .png (a density image of 2-D points); - writes gm HDF5 to stdout");
  app.add_option("--size", image_size, "Width and height of a scatter PNG, in pixels")->capture_default_str();
  app.add_flag("--describe", describe, "Print what the input holds as JSON (kind, datasets, attributes, provenance)");
}

namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

nlohmann::json attributes(const h5::Object& object) {
  nlohmann::json out = nlohmann::json::object();
  using AttrClass = h5::Object::AttrClass;
  for (const auto& name : object.attr_names()) {
    const AttrClass cls = object.attr_class(name);
    const bool single = object.attr_size(name) == 1;
    if (cls == AttrClass::string && !single) {
      out[name] = object.strings_attr(name);
    } else if (cls == AttrClass::string) {
      // JSON-valued attributes (config, provenance) are shown as JSON, not as quoted text.
      const std::string text = object.string_attr(name);
      const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
      out[name] = (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) ? parsed : nlohmann::json(text);
    } else if (cls == AttrClass::integer && single) {
      out[name] = object.int_attr(name);
    } else if (cls == AttrClass::integer || cls == AttrClass::floating) {
      const auto values = object.doubles_attr(name);
      out[name] = single ? nlohmann::json(values[0]) : nlohmann::json(values);
    } else {
      out[name] = "(unsupported attribute type)";
    }
  }
  return out;
}

void walk(const h5::Group& group, nlohmann::json& datasets) {
  for (const auto& name : group.children()) {
    if (group.has_group(name)) {
      walk(group.group(name), datasets);
    } else if (group.has_dataset(name)) {
      const h5::Dataset ds = group.dataset(name);
      datasets[ds.path()] = {{"shape", ds.shape()},
                             {"dtype", c10::toString(ds.scalar_type())},
                             {"extendable", ds.extendable()},
                             {"attributes", attributes(ds)}};
    }
  }
}

bool is_h5_name(const std::string& path) { return path == "-" || ends_with(path, ".h5") || ends_with(path, ".hdf5"); }

// A gm model written as safetensors, restamped with this command and the input's record.
void export_safetensors(const ConvertOptions& options, const Context& context, const io::Input& input) {
  if (input.kind != io::Kind::model)
    fail("{}: is a {} file; only model files convert to .safetensors", options.input, io::kind_name(input.kind));
  const io::ModelFile model = io::read_model(input);
  const auto stamp = io::stamp_attributes(io::Kind::model, context, {input.record});
  io::write_output(options.output, {options.input}, io::encode_safetensors(io::model_to_safetensors(model, stamp)));
}

struct SafetensorsInput {
  io::Safetensors file;
  nlohmann::json record;
};

SafetensorsInput read_safetensors(const std::string& path) {
  const std::vector<char> bytes = io::read_all(path);
  SafetensorsInput input;
  input.file = io::parse_safetensors(std::string(bytes.begin(), bytes.end()), path);
  input.record = io::file_record(path, io::sha256_hex(bytes.data(), bytes.size()), input.file.metadata);
  return input;
}

nlohmann::json describe_safetensors(const std::string& path, const io::Safetensors& file) {
  nlohmann::json tensors = nlohmann::json::object();
  for (const auto& [name, tensor] : file.tensors)
    tensors[name] = {{"shape", tensor.sizes().vec()}, {"dtype", c10::toString(tensor.scalar_type())}};
  return {{"file", path}, {"metadata", file.metadata}, {"tensors", tensors}};
}

void copy_gm_file(const ConvertOptions& options, const Context& context, const io::Input& input) {
  io::H5Output out(options.output, {options.input});
  const h5::Group source = input.file.root();
  const h5::Group target = out.root();
  target.copy_attrs_from(source);
  for (const auto& name : source.children()) target.copy_from(source, name);
  io::stamp(target, input.kind, context, {input.record});
  out.commit();
}

// A density image of 2-D points: log-scaled counts per pixel, dark on white, over the data's
// nominal range (the /x `range` attribute) or else its bounding box.
void write_scatter(const ConvertOptions& options, const io::Input& input) {
  const h5::Dataset dataset = input.file.root().dataset("x");
  const torch::Tensor x = dataset.read().to(torch::kDouble);
  if (x.dim() != 2 || x.size(1) != 2)
    usage_fail("{}: a scatter PNG needs 2-D points [N, 2], /x is {}", options.input, shape_text(x.sizes()));
  if (x.size(0) == 0) fail("{}: /x has no rows to draw", options.input);
  double lo = x.min().item<double>(), hi = x.max().item<double>();
  if (dataset.has_attr("range")) {
    const auto range = dataset.doubles_attr("range");
    if (range.size() == 2 && range[1] > range[0]) lo = range[0], hi = range[1];
  }
  if (!(hi > lo)) hi = lo + 1;
  const std::int64_t size = options.image_size;
  if (size < 16 || size > 8192) usage_fail("--size {}: must be between 16 and 8192 pixels", size);
  // Row 0 is the top of the image: y grows upwards as in a plot.
  const torch::Tensor col = ((x.select(1, 0) - lo) / (hi - lo) * size).floor().to(torch::kLong);
  const torch::Tensor row = (size - 1) - ((x.select(1, 1) - lo) / (hi - lo) * size).floor().to(torch::kLong);
  const torch::Tensor inside = (col >= 0) & (col < size) & (row >= 0) & (row < size);
  const torch::Tensor counts =
      torch::bincount((row * size + col).masked_select(inside), {}, size * size).to(torch::kDouble);
  const double peak = std::log1p(counts.max().item<double>());
  const torch::Tensor shade = peak > 0 ? counts.log1p() / peak : counts;
  const torch::Tensor gray = (255.0 * (1.0 - shade)).round().clamp(0, 255).to(torch::kByte).view({size, size});
  io::write_output(options.output, {options.input}, io::encode_png(gray));
}

}  // namespace

nlohmann::json describe(const h5::File& file) {
  const h5::Group root = file.root();
  nlohmann::json datasets = nlohmann::json::object();
  walk(root, datasets);
  return {{"file", file.label()}, {"attributes", attributes(root)}, {"datasets", datasets}};
}

void run(const ConvertOptions& options, const Context& context) {
  if (options.describe && !options.output.empty()) usage_fail("--describe prints to stdout and takes no output file");
  if (!options.describe && options.output.empty()) usage_fail("no output file given (or use --describe)");
  if (ends_with(options.input, ".safetensors")) {
    const SafetensorsInput input = read_safetensors(options.input);
    if (options.describe) {
      std::cout << describe_safetensors(options.input, input.file).dump(2) << std::endl;
      return;
    }
    if (!is_h5_name(options.output))
      usage_fail("{}: a .safetensors input converts to gm HDF5 (.h5, .hdf5 or -)", options.output);
    io::write_model(options.output, context, {input.record}, io::model_from_safetensors(input.file, options.input));
    return;
  }
  if (options.describe) {
    const io::Input input = io::open_gm(options.input, {});
    std::cout << describe(input.file).dump(2) << std::endl;
    return;
  }
  // Read and check the input before anything is created, so a bad input leaves no output.
  const io::Input input = io::open_gm(options.input, {});
  if (is_h5_name(options.output)) return copy_gm_file(options, context, input);
  if (ends_with(options.output, ".safetensors")) return export_safetensors(options, context, input);
  if (ends_with(options.output, ".png")) return write_scatter(options, input);
  usage_fail("{}: unknown output format; gm-convert writes .h5, .hdf5, .safetensors and .png", options.output);
}

}  // namespace gm::convert
