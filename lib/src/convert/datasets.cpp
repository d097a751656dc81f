#include "gm/convert/datasets.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/shape.hpp"
#include "gm/data/images.hpp"
#include "gm/data/labels.hpp"
#include "gm/io/idx.hpp"
#include "gm/io/image.hpp"
#include "gm/io/npy.hpp"
#include "gm/io/zip.hpp"
#include "gm/io/output.hpp"
#include "gm/io/png.hpp"
#include "gm/io/sha256.hpp"

namespace gm::convert {

namespace fs = std::filesystem;

namespace {

nlohmann::json bytes_record(const std::string& path, const std::string& bytes) {
  return {{"path", path}, {"sha256", io::sha256_hex(bytes.data(), bytes.size())}};
}

// Rows as a dataset stores them: images uint8 [N, C, H, W], everything else float32.
torch::Tensor stored_rows(torch::Tensor x, const std::string& where) {
  if (x.dim() < 1) fail("{}: holds a scalar, not rows", where);
  if (x.scalar_type() == torch::kByte) {
    if (x.dim() == 3) x = x.unsqueeze(1);  // [N, H, W] gray images
    return x;
  }
  if (x.scalar_type() == torch::kBool) fail("{}: boolean arrays are not data gm trains on", where);
  if (x.dim() == 1) x = x.unsqueeze(1);
  x = x.to(torch::kFloat);
  if (!torch::isfinite(x).all().item<bool>()) fail("{}: holds NaN or infinite values", where);
  return x;
}

}  // namespace

bool is_idx_name(const std::string& path) {
  static const std::regex pattern(".*(idx[1-9]-ubyte|\\.idx)(\\.gz)?$");
  return std::regex_match(fs::path(path).filename().string(), pattern);
}

bool is_array_name(const std::string& path) {
  const std::string ext = fs::path(path).extension().string();
  return ext == ".npy" || ext == ".npz";
}

Arrays read_idx(const std::string& images, const std::string& labels) {
  Arrays arrays;
  const std::string bytes = io::read_bytes(images);
  arrays.x = io::parse_idx(bytes, images);
  arrays.sources.push_back(bytes_record(images, bytes));
  if (arrays.x.dim() == 3 && arrays.x.scalar_type() != torch::kByte) arrays.x = arrays.x.unsqueeze(1);
  arrays.x = stored_rows(arrays.x, images);
  if (!labels.empty()) {
    const std::string label_bytes = io::read_bytes(labels);
    arrays.y = data::checked_labels(io::parse_idx(label_bytes, labels), arrays.x.size(0), labels);
    arrays.sources.push_back(bytes_record(labels, label_bytes));
  }
  return arrays;
}

Arrays read_image_folder(const std::string& folder, int size) {
  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(folder))
    if (entry.is_directory()) classes.push_back(entry.path().filename().string());
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) fail("{}: has no class subfolders (expected FOLDER/CLASS/IMAGE)", folder);
  std::vector<std::pair<std::string, std::int64_t>> files;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(fs::path(folder) / classes[c]))
      if (entry.is_regular_file() && entry.path().filename().string().front() != '.') names.push_back(entry.path().string());
    std::sort(names.begin(), names.end());
    for (auto& name : names) files.emplace_back(std::move(name), static_cast<std::int64_t>(c));
  }
  if (files.empty()) fail("{}: its class subfolders hold no images", folder);
  // Colour wins: one RGB image makes every image RGB.
  std::vector<std::string> contents;
  int channels = 1;
  for (const auto& [path, label] : files) {
    contents.push_back(io::read_bytes(path));
    const io::ImageInfo info = io::image_info(contents.back(), path);
    if (info.channels >= 3) channels = 3;
  }
  Arrays arrays;
  std::vector<torch::Tensor> images;
  std::vector<std::int64_t> labels;
  nlohmann::json hashes = nlohmann::json::object();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& path = files[i].first;
    torch::Tensor image = io::decode_image(contents[i], channels, path);
    if (size > 0 && (image.size(1) != size || image.size(2) != size)) image = io::resize_image(image, size);
    if (!images.empty() && image.sizes() != images.front().sizes())
      fail("{}: is {}x{}, the first image {}x{}; --size N resizes them all", path, image.size(2), image.size(1),
           images.front().size(2), images.front().size(1));
    images.push_back(image);
    labels.push_back(files[i].second);
    hashes[fs::relative(path, folder).string()] = io::sha256_hex(contents[i].data(), contents[i].size());
  }
  arrays.x = torch::stack(images);
  arrays.y = torch::tensor(labels, torch::kLong);
  arrays.class_names = classes;
  arrays.sources.push_back({{"path", folder}, {"files", files.size()}, {"sha256", io::sha256_hex(hashes.dump().data(), hashes.dump().size())}});
  return arrays;
}

Arrays read_arrays(const std::string& path, const std::string& labels, const std::string& key) {
  Arrays arrays;
  const std::string bytes = io::read_bytes(path);
  arrays.sources.push_back(bytes_record(path, bytes));
  if (fs::path(path).extension() == ".npz") {
    if (!labels.empty()) usage_fail("--labels goes with a .npy input; a .npz holds its labels as y");
    const auto entries = io::parse_npz(bytes, path);
    std::string name = key.empty() ? "x" : key;
    if (key.empty() && !entries.count("x") && entries.size() == 1) name = entries.begin()->first;
    const auto found = entries.find(name);
    if (found == entries.end()) {
      std::string known;
      for (const auto& [entry, tensor] : entries) known += (known.empty() ? "" : ", ") + entry;
      fail("{}: holds no array '{}' (it holds: {}); --key names the rows", path, name, known.empty() ? "none" : known);
    }
    arrays.x = stored_rows(found->second, path + ":" + name);
    if (entries.count("y") && name != "y") arrays.y = data::checked_labels(entries.at("y"), arrays.x.size(0), path + ":y");
    return arrays;
  }
  if (!key.empty()) usage_fail("--key picks an array inside a .npz (or a dict inside a .pt)");
  arrays.x = stored_rows(io::parse_npy(bytes, path), path);
  if (!labels.empty()) {
    const std::string label_bytes = io::read_bytes(labels);
    arrays.y = data::checked_labels(io::parse_npy(label_bytes, labels), arrays.x.size(0), labels);
    arrays.sources.push_back(bytes_record(labels, label_bytes));
  }
  return arrays;
}

torch::Tensor long_tail_rows(const torch::Tensor& y, std::int64_t classes, double factor, std::uint64_t seed) {
  if (!(factor >= 1) || !std::isfinite(factor)) usage_fail("--imbalance {}: must be a number >= 1", factor);
  if (classes < 2) fail("long-tail subsampling needs at least 2 classes, the labels have {}", classes);
  const torch::Tensor counts = torch::bincount(y, {}, classes);
  const double n_max = static_cast<double>(counts.max().item<std::int64_t>());
  at::Generator generator = at::detail::createCPUGenerator(seed);
  std::vector<torch::Tensor> kept;
  for (std::int64_t c = 0; c < classes; ++c) {
    const auto want = static_cast<std::int64_t>(
        std::floor(n_max * std::pow(factor, -static_cast<double>(c) / static_cast<double>(classes - 1))));
    const torch::Tensor rows = (y == c).nonzero().view({-1});
    const torch::Tensor order = torch::randperm(rows.size(0), generator, torch::kLong);
    if (want > rows.size(0))
      log::info("class {} has {} rows, fewer than the {} the profile asks; keeping all", c, rows.size(0), want);
    kept.push_back(rows.index_select(0, order.slice(0, 0, std::min(want, rows.size(0)))));
  }
  return std::get<0>(torch::cat(kept).sort());
}

void write_dataset(const std::string& output, const Context& context, const Arrays& arrays,
                   const std::vector<std::string>& inputs) {
  io::H5Output out(output, inputs);
  const h5::Group root = out.root();
  io::stamp(root, io::Kind::dataset, context, arrays.sources);
  std::vector<std::int64_t> row_shape(arrays.x.sizes().begin() + 1, arrays.x.sizes().end());
  const h5::Dataset x = io::create_rows(root, "x", arrays.x.scalar_type(), row_shape, arrays.x.size(0));
  x.append(arrays.x.contiguous());
  if (arrays.x.scalar_type() == torch::kByte) {
    x.set_attr("range", std::vector<double>{0, 255});
  } else if (arrays.x.numel() > 0) {
    x.set_attr("range", std::vector<double>{arrays.x.min().item<double>(), arrays.x.max().item<double>()});
  }
  if (arrays.y.defined()) {
    const h5::Dataset y = io::create_rows(root, "y", torch::kLong, {}, arrays.y.size(0));
    y.append(arrays.y.contiguous());
    y.set_attr("class_names", arrays.class_names.empty() ? data::class_names_for(arrays.y, "") : arrays.class_names);
  }
  out.commit();
}

namespace {

// The images of a file as uint8 pixels, scaled from /x's range.
torch::Tensor file_pixels(const io::Input& input, std::int64_t limit) {
  const h5::Dataset dataset = input.file.root().dataset("x");
  const auto shape = dataset.shape();
  if (shape.size() != 4 || !data::is_image_shape({shape.data() + 1, 3}))
    fail("{}: /x of shape {} is not images [N, C, H, W] with C 1 or 3", input.file.label(), shape_text(shape));
  const torch::Tensor x = dataset.read_rows(0, std::min(shape[0], limit));
  data::Range range{0, 255};
  if (const auto given = io::range_attr(dataset)) {
    range = *given;
  } else if (x.scalar_type() != torch::kByte && x.numel() > 0) {
    range = {x.min().item<double>(), x.max().item<double>() + 1e-12};
  }
  if (x.is_floating_point() && !torch::isfinite(x).all().item<bool>())
    fail("{}: /x holds NaN or infinite values", input.file.label());
  return data::to_pixels(x, range);
}

}  // namespace

void write_grid(const io::Input& input, const std::string& output, const std::string& grid) {
  std::int64_t rows = 8, cols = 8;
  if (!grid.empty()) {
    static const std::regex pattern("([1-9][0-9]{0,3})x([1-9][0-9]{0,3})");
    std::smatch m;
    if (!std::regex_match(grid, m, pattern)) usage_fail("--grid {}: expected ROWSxCOLS, such as 8x8", grid);
    rows = std::stoll(m[1].str());
    cols = std::stoll(m[2].str());
  }
  const torch::Tensor pixels = file_pixels(input, rows * cols);
  if (pixels.size(0) == 0) fail("{}: /x has no images to draw", input.file.label());
  if (grid.empty()) rows = std::min(rows, (pixels.size(0) + cols - 1) / cols);
  io::write_output(output, {input.path}, io::encode_png(data::image_grid(pixels, rows, cols)));
}

void write_png_folder(const io::Input& input, const std::string& folder) {
  const fs::path target = fs::path(folder).lexically_normal();
  const fs::path clean = target.filename().empty() ? target.parent_path() : target;
  if (fs::exists(clean) && !(fs::is_directory(clean) && fs::is_empty(clean)))
    fail("{}: exists and is not an empty folder; gm-convert writes a new one", folder);
  const h5::Group root = input.file.root();
  const torch::Tensor pixels = file_pixels(input, std::numeric_limits<std::int64_t>::max());
  std::vector<std::int64_t> labels;
  std::vector<std::string> names;
  if (root.has_dataset("y")) {
    const h5::Dataset y = root.dataset("y");
    const torch::Tensor checked = data::checked_labels(y.read(), pixels.size(0), y.where()).contiguous();
    labels.assign(checked.data_ptr<std::int64_t>(), checked.data_ptr<std::int64_t>() + checked.numel());
    names = y.has_attr("class_names") ? y.strings_attr("class_names") : data::class_names_for(checked, "");
    if (!labels.empty() && *std::max_element(labels.begin(), labels.end()) >= static_cast<std::int64_t>(names.size()))
      fail("{}: /y holds labels past its {} class_names", input.file.label(), names.size());
    for (const auto& name : names)
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
        fail("{}: class name '{}' cannot be a folder name", input.file.label(), name);
  }
  // Built beside the target and renamed into place, so the folder appears whole or not at all.
  const fs::path temp = clean.parent_path() / fmt::format(".{}.tmp-{}", clean.filename().string(), getpid());
  fs::remove_all(temp);
  try {
    fs::create_directories(temp);
    for (std::int64_t i = 0; i < pixels.size(0); ++i) {
      fs::path dir = temp;
      if (!labels.empty()) dir /= names[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)])];
      fs::create_directories(dir);
      const torch::Tensor image = pixels[i].size(0) == 1 ? pixels[i][0] : pixels[i].permute({1, 2, 0});
      const std::string png = io::encode_png(image.contiguous());
      std::ofstream file(dir / fmt::format("{:06d}.png", i), std::ios::binary);
      file.write(png.data(), static_cast<std::streamsize>(png.size()));
      if (!file.flush()) fail("{}: cannot write {}: {}", folder, (dir / fmt::format("{:06d}.png", i)).string(), std::strerror(errno));
    }
    if (fs::exists(clean)) fs::remove(clean);
    fs::rename(temp, clean);
  } catch (const fs::filesystem_error& e) {
    fs::remove_all(temp);
    fail("{}: cannot write the folder: {}", folder, e.code().message());
  } catch (...) {
    fs::remove_all(temp);
    throw;
  }
}

void write_arrays(const io::Input& input, const std::string& output) {
  const h5::Group root = input.file.root();
  const bool npy = fs::path(output).extension() == ".npy";
  std::vector<std::pair<std::string, h5::Dataset>> arrays;
  arrays.emplace_back("x", root.dataset("x"));
  if (!npy && root.has_dataset("y")) arrays.emplace_back("y", root.dataset("y"));
  // Streamed a chunk at a time: memory stays flat whatever the size of the file.
  io::StreamOutput out(output, {input.path});
  const io::ZipWriter::Sink to_file = [&out](const char* data, std::size_t size) { out.write(data, size); };
  const auto send = [](const h5::Dataset& set, const std::string& header, const io::ZipWriter::Sink& sink) {
    sink(header.data(), header.size());
    io::for_each_row_chunk(set, [&](const torch::Tensor& rows) { sink(static_cast<const char*>(rows.data_ptr()), rows.nbytes()); });
  };
  if (npy) {
    const h5::Dataset& x = arrays[0].second;
    send(x, io::npy_header(x.scalar_type(), x.shape()), to_file);
  } else {
    io::ZipWriter zip(to_file);
    for (const auto& array : arrays) {
      const h5::Dataset& set = array.second;  // a variable, which C++17 lambdas may capture
      const std::string header = io::npy_header(set.scalar_type(), set.shape());
      // A zip entry's header holds its checksum, so the rows are read twice: once for it.
      std::uint64_t size = 0;
      std::uint32_t crc = 0;
      send(set, header, [&](const char* data, std::size_t count) {
        crc = io::crc32(data, count, crc);
        size += count;
      });
      zip.add(array.first + ".npy", size, crc, [&](const io::ZipWriter::Sink& sink) { send(set, header, sink); });
    }
    zip.finish();
  }
  out.commit();
}

}  // namespace gm::convert
