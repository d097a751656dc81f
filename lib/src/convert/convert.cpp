#include <CLI/CLI.hpp>

#include "gm/convert/convert.hpp"

#include <iostream>

#include "gm/base/error.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/output.hpp"

namespace gm::convert {

void ConvertOptions::register_on(CLI::App& app) {
  app.add_option("input", input, "Input file; - reads stdin")->required();
  app.add_option("output", output, "Output file, format by extension (.h5, .hdf5); - writes gm HDF5 to stdout");
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

void copy_gm_file(const ConvertOptions& options, const Context& context, const io::Input& input) {
  io::H5Output out(options.output, {options.input});
  const h5::Group source = input.file.root();
  const h5::Group target = out.root();
  target.copy_attrs_from(source);
  for (const auto& name : source.children()) target.copy_from(source, name);
  io::stamp(target, input.kind, context, {input.record});
  out.commit();
}

}  // namespace

nlohmann::json describe(const h5::File& file) {
  const h5::Group root = file.root();
  nlohmann::json datasets = nlohmann::json::object();
  walk(root, datasets);
  return {{"file", file.label()}, {"attributes", attributes(root)}, {"datasets", datasets}};
}

void run(const ConvertOptions& options, const Context& context) {
  if (options.describe) {
    if (!options.output.empty()) usage_fail("--describe prints to stdout and takes no output file");
    const io::Input input = io::open_gm(options.input, {});
    std::cout << describe(input.file).dump(2) << std::endl;
    return;
  }
  if (options.output.empty()) usage_fail("no output file given (or use --describe)");
  // Read and check the input before anything is created, so a bad input leaves no output.
  const io::Input input = io::open_gm(options.input, {});
  if (options.output == "-" || ends_with(options.output, ".h5") || ends_with(options.output, ".hdf5"))
    return copy_gm_file(options, context, input);
  usage_fail("{}: unknown output format; gm-convert writes .h5 and .hdf5", options.output);
}

}  // namespace gm::convert
