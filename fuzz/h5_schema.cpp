// The gm schema over HDF5: root attributes, model configs and tensor groups, and dataset rows,
// labels and ranges, as gm-train, gm-sample and gm-eval read them. The input describes a file
// that HDF5 itself writes (so the fuzzer explores what a well-formed HDF5 file can say, not
// HDF5's own decoder, which upstream fuzzes):
//   byte 0: gm_kind (dataset, samples, model, or a bad one) and whether gm_format is right;
//   text up to NUL: the model's config JSON;  text up to NUL: the model's family;
//   then objects: a byte picking the group (root, params, ema, buffers, resume), a name up to
//   NUL, a dtype byte, a rank byte and 16-bit extents, a byte of flags (range attribute,
//   class_names, extendable) and its values; elements are filled from the input, repeated.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "fuzz/target.hpp"
#include "gm/base/context.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/families.hpp"
#include "gm/train/loop.hpp"

namespace {

class Reader {
 public:
  explicit Reader(const std::string& bytes) : bytes_(bytes) {}
  bool done() const { return at_ >= bytes_.size(); }
  unsigned byte() { return done() ? 0u : static_cast<unsigned char>(bytes_[at_++]); }
  std::string text() {
    const size_t end = std::min(bytes_.find('\0', at_), bytes_.size());
    std::string out = bytes_.substr(std::min(at_, bytes_.size()), end - std::min(at_, bytes_.size()));
    at_ = end + 1;
    return out;
  }
  double number() {
    double value = 0;
    char raw[sizeof value] = {};
    for (char& c : raw) c = static_cast<char>(byte());
    std::memcpy(&value, raw, sizeof value);
    return value;
  }
  const std::string& all() const { return bytes_; }

 private:
  const std::string& bytes_;
  size_t at_ = 0;
};

const torch::ScalarType kTypes[] = {torch::kByte, torch::kChar, torch::kShort, torch::kInt,
                                    torch::kLong, torch::kHalf, torch::kFloat, torch::kDouble};
const char* kGroups[] = {"", "params/", "ema/", "buffers/", "resume/", "history/"};
const char* kKinds[] = {"dataset", "samples", "model", "weights"};

void write_object(const gm::h5::Group& root, Reader& in) {
  const std::string name = std::string(kGroups[in.byte() % 6]) + in.text();
  if (name.empty() || name.back() == '/' || root.has(name)) return;
  const torch::ScalarType type = kTypes[in.byte() % 8];
  std::vector<std::int64_t> shape(in.byte() % 6);
  for (auto& extent : shape) extent = static_cast<std::int64_t>(in.byte() | (in.byte() << 8));
  const unsigned flags = in.byte();
  gm::h5::Layout layout;
  layout.extendable = (flags & 4) && !shape.empty();
  std::int64_t count = 1;  // saturates at 4097: only small datasets are written
  for (auto extent : shape) count = std::min<std::int64_t>(count * extent, 4097);
  const gm::h5::Dataset set = root.create_dataset(name, type, shape, layout);
  if (count > 0 && count <= 4096) {  // larger ones stay unwritten: HDF5 reads them as fill values
    torch::Tensor values = torch::empty({count}, torch::kByte);
    const std::string& source = in.all();
    auto* out = values.data_ptr<std::uint8_t>();
    for (std::int64_t i = 0; i < count; ++i) out[i] = source.empty() ? 0 : static_cast<std::uint8_t>(source[i % source.size()]);
    torch::Tensor typed = type == torch::kByte ? values : values.to(type);
    if (typed.is_floating_point() && (flags & 32)) typed = typed / 255.0 - 0.5;
    set.write_rows(0, typed.view(shape.empty() ? std::vector<std::int64_t>{1} : shape));
  }
  if (flags & 1) set.set_attr("range", std::vector<double>{in.number(), in.number()});
  if (flags & 2) {
    std::vector<std::string> names(in.byte() % 12);
    for (auto& n : names) n = in.text();
    set.set_attr("class_names", names);
  }
  if (flags & 8) set.set_attr("range", in.text());
}

// HDF5 prints its own error stack to stderr unless told not to; gm reads errors through
// h5::last_error, so the fuzzer's log stays quiet.
const bool kQuiet = [] {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  return true;
}();

}  // namespace

GM_FUZZ_TARGET(bytes) {
  // In memory where there is a /dev/shm; each process its own file.
  static const std::string path =
      (std::filesystem::is_directory("/dev/shm") ? std::string("/dev/shm") : std::filesystem::temp_directory_path().string()) +
      "/gm-fuzz-h5-" + std::to_string(getpid()) + ".h5";
  Reader in(bytes);
  const unsigned head = in.byte();
  const char* kind = kKinds[head % 4];
  try {
    gm::h5::File file = gm::h5::File::create(path);
    const gm::h5::Group root = file.root();
    root.set_attr("gm_format", head & 4 ? "gm/0" : gm::io::kFormat);
    root.set_attr("gm_kind", kind);
    root.set_attr("config", in.text());
    root.set_attr("family", in.text());
    if (head & 8) root.set_attr("provenance", "[]");
    while (!in.done()) write_object(root, in);
    file.close();
  } catch (const gm::Error&) {
    return;  // the description asked for something HDF5 will not write; not a reader finding
  }
  gm::Context context;
  const gm::io::Input input = gm::io::open_gm(path, {});
  if (input.kind == gm::io::Kind::model) {
    const gm::io::ModelFile model = gm::io::read_model(input);
    gm::models::check_model_file(model, path);
  } else {
    gm::train::load_training_data(path, context, "fuzz", true, head & 16 ? "yes" : "auto");
  }
}
