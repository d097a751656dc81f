#include <CLI/CLI.hpp>

#include "gm/convert/convert.hpp"

#include <filesystem>
#include <iostream>
#include <set>

#include "gm/base/error.hpp"
#include "gm/base/runtime.hpp"
#include "gm/base/log.hpp"
#include "gm/base/shape.hpp"
#include "gm/base/text.hpp"
#include "gm/data/labels.hpp"
#include "gm/convert/datasets.hpp"
#include "gm/convert/import.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/model_file.hpp"
#include "gm/io/output.hpp"
#include "gm/io/png.hpp"
#include "gm/io/safetensors.hpp"
#include "gm/io/sha256.hpp"
#include "gm/io/torch_pickle.hpp"
#include "gm/models/families.hpp"

namespace gm::convert {

void ConvertOptions::register_on(CLI::App& app) {
  app.add_option("files", files,
                 "INPUT [OUTPUT]: a gm HDF5 file (- reads stdin) or a .safetensors, .pt or .pth model, and the "
                 "output, its format by extension: .h5 or .hdf5 (gm HDF5; - writes it to stdout), .safetensors or "
                 ".pt/.pth (a model's tensors, config and provenance), .png (a grid of images, or a density image of "
                 "2-D points), a folder ending in / (one PNG per image, in class subfolders), .npy (/x) or .npz (/x "
                 "and /y). Inputs to import as a dataset: IDX files (train-images-idx3-ubyte.gz, with --labels), a "
                 "folder of class subfolders of images (PNG, JPEG, BMP), .npy (with --labels) or .npz (x and y). "
                 "Or: merge SHARD... -o OUTPUT, joining the --shard K/N files of one gm-sample run")
      ->required();
  app.add_option("-o,--output", output, "The output file, as an option (the same as the positional one)")
      ->type_name("FILE");
  app.add_option("--like", like,
                 "Import a foreign .safetensors/.pt into a copy of this gm model: its config, with the foreign "
                 "weights in place of its parameters and buffers")
      ->type_name("MODEL.h5");
  app.add_option("--map", map, "Rename rules for --like, one 'REGEX REPLACEMENT' per line, first match wins")
      ->type_name("RULES");
  app.add_flag("--allow-partial", allow_partial,
               "With --like, write the model even when some tensors are unmapped, unused or mismatched (those "
               "keep the --like model's values)");
  app.add_option("--size", image_size,
                 "Pixels: the width and height of a scatter PNG (default 512), or the size that imported images "
                 "are resized to (default: keep their size, which must then be the same for all)");
  app.add_option("--labels", labels, "Labels for imported rows: an IDX file (.gz too) or a .npy of integers")
      ->type_name("FILE");
  app.add_option("--class-names", class_names, "Names of the classes 0, 1, ... as 'a,b,c' (default: the labels as text)");
  app.add_option("--imbalance", imbalance,
                 "Long-tail subsampling (CIFAR-10-LT): class c keeps floor(n_max * F^(-c/(C-1))) rows, chosen by --seed")
      ->type_name("F");
  app.add_option("--grid", grid, "Rows and columns of an image grid PNG (default 8x8)")->type_name("RxC");
  app.add_option("--key", key, "The entry of a .pt input that holds the state_dict, as in {\"model\": state_dict}");
  app.add_flag("--describe", describe,
               "Print what the input holds: kind, config, provenance, every dataset or tensor with its shape and "
               "dtype, and parameter counts");
  app.add_flag("--json", json, "With --describe, print JSON instead of a table");
}

namespace {

void walk(const h5::Group& group, nlohmann::json& datasets) {
  for (const auto& name : group.children()) {
    if (group.has_group(name)) {
      walk(group.group(name), datasets);
    } else if (group.has_dataset(name)) {
      const h5::Dataset ds = group.dataset(name);
      datasets[ds.path()] = {{"shape", ds.shape()},
                             {"dtype", c10::toString(ds.scalar_type())},
                             {"extendable", ds.extendable()},
                             {"attributes", attributes_json(ds)}};
    }
  }
}

// The checkpoint formats of other tools, picked by extension.
enum class Foreign { none, safetensors, torch };
Foreign foreign_format(const std::string& path) {
  if (ends_with(path, ".safetensors")) return Foreign::safetensors;
  if (ends_with(path, ".pt") || ends_with(path, ".pth")) return Foreign::torch;
  return Foreign::none;
}

// A gm model written as safetensors or .pt, restamped with this command and the input's record.
void export_model(const ConvertOptions& options, const Context& context, const io::Input& input, Foreign format) {
  if (input.kind != io::Kind::model)
    fail("{}: is a {} file; only model files convert to .safetensors or .pt", options.input, io::kind_name(input.kind));
  const io::ModelFile model = io::read_model(input);
  models::check_model_file(model, options.input);
  const io::TensorFile file = io::model_to_tensor_file(model, io::stamp_attributes(io::Kind::model, context, {input.record}));
  io::write_output(options.output, {options.input},
                   format == Foreign::safetensors ? io::encode_safetensors(file) : io::encode_torch_checkpoint(file));
}

struct ForeignInput {
  io::TensorFile file;
  nlohmann::json record;
};

ForeignInput read_foreign(const ConvertOptions& options, Foreign format) {
  const std::string bytes = io::read_bytes(options.input);
  ForeignInput input;
  input.file = format == Foreign::safetensors ? io::parse_safetensors(bytes, options.input)
                                              : io::parse_torch_checkpoint(bytes, options.input, options.key);
  input.record = io::file_record(options.input, io::sha256_hex(bytes.data(), bytes.size()), input.file.metadata);
  return input;
}

// The elements of every tensor, summed by top-level group (params, ema, buffers, ...).
nlohmann::json parameter_counts(const nlohmann::json& datasets) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [path, entry] : datasets.items()) {
    const std::string name = path.front() == '/' ? path.substr(1) : path;
    const size_t slash = name.find('/');
    if (slash == std::string::npos) continue;  // rows (/x, /y), not parameters
    std::int64_t count = 1;
    for (const auto& extent : entry.at("shape")) count *= extent.get<std::int64_t>();
    const std::string group = name.substr(0, slash);
    counts[group] = counts.value(group, std::int64_t{0}) + count;
  }
  return counts;
}

nlohmann::json describe_foreign(const std::string& path, const io::TensorFile& file) {
  nlohmann::json tensors = nlohmann::json::object();
  for (const auto& [name, tensor] : file.tensors)
    tensors[name] = {{"shape", tensor.sizes().vec()}, {"dtype", c10::toString(tensor.scalar_type())}};
  nlohmann::json attributes = nlohmann::json::object();
  for (const auto& [key, value] : file.metadata) {
    const nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
    attributes[key] = (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) ? parsed : nlohmann::json(value);
  }
  return {{"file", path}, {"attributes", attributes}, {"datasets", tensors}, {"parameters", parameter_counts(tensors)}};
}

// --describe without --json: the same facts as a table for people.
std::string describe_text(const nlohmann::json& d) {
  const nlohmann::json& a = d.at("attributes");
  const auto text = [&](const char* key) { return a.contains(key) ? (a[key].is_string() ? a[key].get<std::string>() : a[key].dump()) : std::string("-"); };
  std::string out = fmt::format("file        {}\nkind        {}{}\ncreated by  {}\ncreated at  {}\n", d.at("file").get<std::string>(),
                                text("gm_kind"), a.contains("family") ? " (" + text("family") + ")" : "", text("created_by"), text("created_at"));
  if (a.contains("provenance") && a["provenance"].contains("inputs"))
    for (const auto& input : a["provenance"]["inputs"])
      out += fmt::format("input       {}\n", input.value("path", input.value("source", input.dump())));
  if (a.contains("config")) out += fmt::format("config      {}\n", a["config"].dump());
  for (const auto& [key, value] : a.items())
    if (!std::set<std::string>{"gm_kind", "family", "created_by", "created_at", "provenance", "config"}.count(key))
      out += fmt::format("{:<11} {}\n", key, value.is_string() ? value.get<std::string>() : value.dump());
  size_t width = 4;
  for (const auto& [name, entry] : d.at("datasets").items()) width = std::max(width, name.size());
  out += fmt::format("\n{:<{}}  {:<16}  {}\n", "name", width, "shape", "dtype");
  for (const auto& [name, entry] : d.at("datasets").items())
    out += fmt::format("{:<{}}  {:<16}  {}\n", name, width, entry.at("shape").dump(), entry.at("dtype").get<std::string>());
  if (!d.at("parameters").empty()) {
    out += "\n";
    for (const auto& [group, count] : d.at("parameters").items())
      out += fmt::format("{} elements in {}\n", count.get<std::int64_t>(), group);
  }
  return out;
}

void print_description(const nlohmann::json& description, bool json) {
  std::cout << (json ? description.dump(2) + "\n" : describe_text(description)) << std::flush;
}

// --like: the foreign weights renamed and checked against a gm model, written as a gm model.
void import_into_like(const ConvertOptions& options, const Context& context, const ForeignInput& input) {
  if (options.describe) usage_fail("--describe and --like do not go together");
  if (!io::is_h5_name(options.output)) usage_fail("{}: --like writes a gm HDF5 model (.h5, .hdf5 or -)", options.output);
  const std::vector<RenameRule> rules = options.map.empty() ? std::vector<RenameRule>{} : read_rules(options.map);
  const io::Input like = io::open_gm(options.like, {io::Kind::model});
  const Import imported = import_weights(input.file, io::read_model(like), rules);
  for (const auto& name : imported.unmapped) log::info("unmapped: {} (no such tensor in {})", name, options.like);
  for (const auto& name : imported.unused) log::info("unused: {} of {} (no foreign tensor maps to it)", name, options.like);
  for (const auto& text : imported.mismatched) log::info("mismatched: {}", text);
  if (!imported.complete() && !options.allow_partial)
    fail("{}: {} unmapped, {} unused and {} mismatched tensors against {} (listed above); --allow-partial writes "
         "the model anyway",
         options.input, imported.unmapped.size(), imported.unused.size(), imported.mismatched.size(), options.like);
  io::write_model(options.output, context, {input.record, like.record}, imported.model);
}

// --imbalance: the long-tailed subset of a labelled dataset, every other member dropped.
void write_long_tail(const ConvertOptions& options, const Context& context, const io::Input& input) {
  const h5::Group source = input.file.root();
  if (input.kind != io::Kind::dataset) fail("{}: --imbalance subsamples a dataset file, this is a {} file", options.input, io::kind_name(input.kind));
  if (!source.has_dataset("y")) fail("{}: --imbalance needs class labels, and the file has no /y", options.input);
  const h5::Dataset y_set = source.dataset("y");
  const h5::Dataset x_set = source.dataset("x");
  const torch::Tensor y = data::checked_labels(y_set.read(), x_set.shape().empty() ? 0 : x_set.shape()[0], y_set.where());
  std::int64_t classes = y.numel() > 0 ? y.max().item<std::int64_t>() + 1 : 0;
  if (y_set.has_attr("class_names")) classes = std::max<std::int64_t>(classes, y_set.strings_attr("class_names").size());
  const torch::Tensor keep = long_tail_rows(y, classes, options.imbalance, context.seed);
  io::H5Output out(options.output, {options.input});
  const h5::Group target = out.root();
  target.copy_attrs_from(source);
  for (const auto& name : source.children())
    if (name != "x" && name != "y" && name != "z") target.copy_from(source, name);
  io::stamp(target, input.kind, context, {input.record});
  target.set_attr("imbalance", options.imbalance);
  target.set_attr("imbalance_seed", static_cast<std::int64_t>(context.seed));
  for (const char* name : {"x", "y", "z"}) {
    if (!source.has_dataset(name)) continue;
    const h5::Dataset from = source.dataset(name);
    const auto shape = from.shape();
    const h5::Dataset to = io::create_rows(target, name, from.scalar_type(), {shape.begin() + 1, shape.end()}, keep.size(0));
    to.copy_attrs_from(from);
    // Rows are copied a slab at a time, so memory stays bounded by the slab, not the file.
    constexpr std::int64_t kSlab = 8192;
    for (std::int64_t at = 0; at < shape[0]; at += kSlab) {
      const std::int64_t stop = std::min(shape[0], at + kSlab);
      // keep is sorted: this slab's rows are one contiguous run of it.
      const std::int64_t first = torch::searchsorted(keep, at).item<std::int64_t>();
      const std::int64_t last = torch::searchsorted(keep, stop).item<std::int64_t>();
      const torch::Tensor mine = keep.slice(0, first, last) - at;
      if (mine.numel() > 0) to.append(from.read_rows(at, stop - at).index_select(0, mine));
    }
  }
  out.commit();
  log::info("kept {} of {} rows", keep.size(0), y.size(0));
}

void copy_gm_file(const ConvertOptions& options, const Context& context, const io::Input& input) {
  if (input.kind == io::Kind::model) models::check_model_file(io::read_model(input), options.input);
  io::H5Output out(options.output, {options.input});
  const h5::Group source = input.file.root();
  const h5::Group target = out.root();
  target.copy_attrs_from(source);
  // Datasets of rows (/x, /y, /z) a chunk at a time, so memory stays flat; the rest (a model's
  // tensor groups) as HDF5 copies them, which for a large dataset held tens of megabytes.
  for (const auto& name : source.children()) {
    if (input.kind != io::Kind::model && source.has_dataset(name) && !source.dataset(name).shape().empty())
      io::copy_rows(source.dataset(name), target, name);
    else
      target.copy_from(source, name);
  }
  io::stamp(target, input.kind, context, {input.record});
  out.commit();
}

// A density image of 2-D points: log-scaled counts per pixel, dark on white, over the data's
// nominal range (the /x `range` attribute) or else its bounding box.
void write_scatter(const ConvertOptions& options, const io::Input& input) {
  const h5::Dataset dataset = input.file.root().dataset("x");
  const torch::Tensor x = dataset.read().to(torch::kDouble);
  if (x.dim() != 2 || x.size(1) != 2)
    fail("{}: a scatter PNG needs 2-D points [N, 2], /x is {}", options.input, shape_text(x.sizes()));
  if (!torch::isfinite(x).all().item<bool>()) fail("{}: /x holds NaN or infinite values", options.input);
  if (x.size(0) == 0) fail("{}: /x has no rows to draw", options.input);
  double lo = x.min().item<double>(), hi = x.max().item<double>();
  if (dataset.has_attr("range")) {
    const auto range = dataset.doubles_attr("range");
    if (range.size() == 2 && range[1] > range[0]) lo = range[0], hi = range[1];
  }
  if (!(hi > lo)) hi = lo + 1;
  const std::int64_t size = options.image_size == 0 ? 512 : options.image_size;
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

nlohmann::json attributes_json(const h5::Object& object) {
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

nlohmann::json describe(const h5::File& file) {
  const h5::Group root = file.root();
  nlohmann::json datasets = nlohmann::json::object();
  walk(root, datasets);
  return {{"file", file.label()}, {"attributes", attributes_json(root)}, {"datasets", datasets},
          {"parameters", parameter_counts(datasets)}};
}

void run(const ConvertOptions& given, const Context& context) {
  return_large_buffers_to_the_system();  // memory stays flat however large the files
  ConvertOptions options = given;
  if (options.files.front() == "merge") {
    if (options.output.empty()) usage_fail("merge writes the file named by -o");
    return merge_shards({options.files.begin() + 1, options.files.end()}, options.output, context);
  }
  if (options.files.size() > 2) usage_fail("expected INPUT [OUTPUT], got {} files", options.files.size());
  options.input = options.files[0];
  if (options.files.size() == 2) {
    if (!options.output.empty()) usage_fail("the output is named twice, as {} and by -o {}", options.files[1], options.output);
    options.output = options.files[1];
  }
  if (options.json && !options.describe) usage_fail("--json goes with --describe");
  if (options.describe && !options.output.empty()) usage_fail("--describe prints to stdout and takes no output file");
  if (!options.describe && options.output.empty()) usage_fail("no output file given (or use --describe)");
  if (!options.key.empty() && foreign_format(options.input) != Foreign::torch)
    usage_fail("--key picks a dict inside a .pt or .pth input");
  if ((!options.map.empty() || options.allow_partial) && options.like.empty())
    usage_fail("--map and --allow-partial go with --like");
  if (const Foreign format = foreign_format(options.input); format != Foreign::none) {
    const ForeignInput input = read_foreign(options, format);
    if (!options.like.empty()) return import_into_like(options, context, input);
    if (options.describe) {
      print_description(describe_foreign(options.input, input.file), options.json);
      return;
    }
    if (!io::is_h5_name(options.output)) usage_fail("{}: a .safetensors or .pt input converts to gm HDF5 (.h5, .hdf5 or -)", options.output);
    const io::ModelFile model = io::model_from_tensor_file(input.file, options.input);
    models::check_model_file(model, options.input);
    io::write_model(options.output, context, {input.record}, model);
    return;
  }
  if (options.describe) {
    const io::Input input = io::open_gm(options.input, {});
    print_description(describe(input.file), options.json);
    return;
  }
  const bool importing = is_idx_name(options.input) || is_array_name(options.input) ||
                         (options.input != "-" && std::filesystem::is_directory(options.input));
  if ((!options.labels.empty() || !options.class_names.empty()) && !importing)
    usage_fail("--labels and --class-names go with an IDX, .npy/.npz or image-folder input");
  if (importing) {
    if (!io::is_h5_name(options.output)) usage_fail("{}: an import writes a gm dataset (.h5, .hdf5 or -)", options.output);
    if (options.imbalance != 0) usage_fail("--imbalance subsamples a gm dataset file; import first, then subsample");
    if (options.image_size < 0 || options.image_size > 8192) usage_fail("--size {}: must be 1 to 8192 pixels", options.image_size);
    if (options.image_size != 0 && !std::filesystem::is_directory(options.input))
      usage_fail("--size resizes the images of an image folder");
    Arrays arrays = is_idx_name(options.input)     ? read_idx(options.input, options.labels)
                    : is_array_name(options.input) ? read_arrays(options.input, options.labels, options.key)
                                                   : read_image_folder(options.input, static_cast<int>(options.image_size));
    if (arrays.y.defined() && (arrays.class_names.empty() || !options.class_names.empty()))
      arrays.class_names = data::class_names_for(arrays.y, options.class_names);
    std::vector<std::string> inputs{options.input};
    if (!options.labels.empty()) inputs.push_back(options.labels);
    return write_dataset(options.output, context, arrays, inputs);
  }
  // Read and check the input before anything is created, so a bad input leaves no output.
  const io::Input input = io::open_gm(options.input, {});
  if (options.imbalance != 0) {
    if (!io::is_h5_name(options.output)) usage_fail("{}: --imbalance writes a gm dataset (.h5, .hdf5 or -)", options.output);
    return write_long_tail(options, context, input);
  }
  if (!options.grid.empty() && !ends_with(options.output, ".png")) usage_fail("--grid goes with a .png output");
  if (io::is_h5_name(options.output)) return copy_gm_file(options, context, input);
  if (const Foreign format = foreign_format(options.output); format != Foreign::none)
    return export_model(options, context, input, format);
  if (ends_with(options.output, ".npy") || ends_with(options.output, ".npz")) return write_arrays(input, options.output);
  if (ends_with(options.output, "/")) return write_png_folder(input, options.output);
  if (ends_with(options.output, ".png")) {
    const auto shape = input.file.root().dataset("x").shape();
    if (shape.size() == 4) return write_grid(input, options.output, options.grid);
    if (!options.grid.empty()) fail("{}: --grid draws images, and /x holds rows of shape {}", options.input, shape_text(shape));
    return write_scatter(options, input);
  }
  usage_fail("{}: unknown output format; gm-convert writes .h5, .hdf5, .safetensors, .pt, .pth, .png, .npy, .npz and "
             "FOLDER/", options.output);
}

}  // namespace gm::convert
