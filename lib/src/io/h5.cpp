#include "gm/io/h5.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "gm/base/error.hpp"
#include "gm/base/shape.hpp"
#include "gm/io/limits.hpp"

namespace gm::h5 {
namespace {

// HDF5 prints its error stack to stderr by default; gm reports one line instead.
void ensure_init() {
  static const bool done = [] {
    // No clean-up at exit: after a failed write (a full disk) a file can stay open, and HDF5's
    // own atexit close of it crashes. gm closes every file it keeps; the rest dies with the process.
    H5dont_atexit();
    H5open();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

herr_t collect_innermost(unsigned n, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::string*>(data);
  if (n == 0 && err->desc) *out = err->desc;
  return 0;
}

void check(herr_t rc, const std::string& where, const char* what) {
  if (rc < 0) fail("{}: {}: {}", where, what, last_error());
}

hid_t check_id(hid_t id, const std::string& where, const char* what) {
  if (id < 0) fail("{}: {}: {}", where, what, last_error());
  return id;
}

Handle make_half_type() {
  // HDF5 has no predefined half type; this is the layout h5py and NumPy use for float16.
  Handle type(H5Tcopy(H5T_IEEE_F32LE));
  H5Tset_fields(type.get(), 15, 10, 5, 0, 10);
  H5Tset_size(type.get(), 2);
  H5Tset_ebias(type.get(), 15);
  return type;
}

Handle make_string_type() {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

// The stored and in-memory HDF5 types for a tensor element type.
struct ElementType {
  Handle owned;  // set when the type is not predefined
  hid_t file = H5I_INVALID_HID;
  hid_t memory = H5I_INVALID_HID;
};

ElementType element_type(torch::ScalarType type) {
  ElementType t;
  switch (type) {
    case torch::kFloat: t.file = H5T_IEEE_F32LE; t.memory = H5T_NATIVE_FLOAT; break;
    case torch::kDouble: t.file = H5T_IEEE_F64LE; t.memory = H5T_NATIVE_DOUBLE; break;
    case torch::kLong: t.file = H5T_STD_I64LE; t.memory = H5T_NATIVE_INT64; break;
    case torch::kInt: t.file = H5T_STD_I32LE; t.memory = H5T_NATIVE_INT32; break;
    case torch::kByte: t.file = H5T_STD_U8LE; t.memory = H5T_NATIVE_UINT8; break;
    case torch::kChar: t.file = H5T_STD_I8LE; t.memory = H5T_NATIVE_INT8; break;
    case torch::kHalf:
      t.owned = make_half_type();
      t.file = t.memory = t.owned.get();
      break;
    default: fail("tensor type {} has no HDF5 equivalent in gm files", c10::toString(type));
  }
  return t;
}

// Tensors as HDF5 stores them: contiguous CPU memory of a storable type.
torch::Tensor storable(const torch::Tensor& tensor) {
  torch::Tensor t = tensor.detach().to(torch::kCPU);
  if (t.scalar_type() == torch::kBFloat16) t = t.to(torch::kFloat);  // lossless widening
  if (t.scalar_type() == torch::kBool) t = t.to(torch::kByte);
  return t.contiguous();
}

std::vector<hsize_t> to_hsize(const std::vector<std::int64_t>& dims) { return {dims.begin(), dims.end()}; }

std::string join_path(const std::string& base, const std::string& name) {
  if (!name.empty() && name[0] == '/') return name;
  return base == "/" ? "/" + name : base + "/" + name;
}

Handle create_fapl() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  // The 1.8 format stores large attributes (long provenance chains) densely and is read by
  // every h5py and h5dump still in use.
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18);
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
  return fapl;
}

Handle create_lcpl() {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl.get(), 1);
  return lcpl;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;  // already closed, e.g. by a strong file close
  }
  id_ = H5I_INVALID_HID;
}

std::string last_error() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_innermost, &message);
  H5Eclear2(H5E_DEFAULT);
  // The file driver's messages span lines and quote the system's reason; keep the reason.
  const size_t quoted = message.find("error message = '");
  if (quoted != std::string::npos) {
    const size_t start = quoted + 17, end = message.find('\'', start);
    const std::string reason = message.substr(start, end == std::string::npos ? std::string::npos : end - start);
    message = message.substr(0, message.find(':')) + ": " + reason;
  }
  std::replace(message.begin(), message.end(), '\n', ' ');
  return message.empty() ? "HDF5 error" : message;
}

// ---------------------------------------------------------------------------------------------
std::string Object::where() const { return path_ == "/" ? file_label_ : file_label_ + ":" + path_; }

bool Object::has_attr(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

std::vector<std::string> Object::attr_names() const {
  std::vector<std::string> names;
  H5O_info_t info;
  check(H5Oget_info2(id(), &info, H5O_INFO_NUM_ATTRS), where(), "reading attributes");
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    const ssize_t size = H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (size < 0) fail("{}: reading attribute names: {}", where(), last_error());
    std::string name(static_cast<size_t>(size) + 1, '\0');
    H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(size));
    names.push_back(name);
  }
  return names;
}

Handle Object::open_attr(const std::string& name) const {
  if (!has_attr(name)) fail("{}: attribute '{}' is missing", where(), name);
  return Handle(check_id(H5Aopen(id(), name.c_str(), H5P_DEFAULT), where(), "opening attribute"));
}

void Object::replace_attr(const std::string& name, hid_t file_type, hid_t memory_type, hid_t space,
                          const void* data) const {
  if (has_attr(name)) check(H5Adelete(id(), name.c_str()), where(), "replacing attribute");
  Handle attr(check_id(H5Acreate2(id(), name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), where(),
                       "creating attribute"));
  check(H5Awrite(attr.get(), memory_type, data), where(), "writing attribute");
}

void Object::set_attr(const std::string& name, const std::string& value) const {
  Handle type = make_string_type();
  Handle space(H5Screate(H5S_SCALAR));
  const char* text = value.c_str();
  replace_attr(name, type.get(), type.get(), space.get(), &text);
}

void Object::set_attr(const std::string& name, double value) const {
  Handle space(H5Screate(H5S_SCALAR));
  replace_attr(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void Object::set_attr(const std::string& name, std::int64_t value) const {
  Handle space(H5Screate(H5S_SCALAR));
  replace_attr(name, H5T_STD_I64LE, H5T_NATIVE_INT64, space.get(), &value);
}

void Object::set_attr(const std::string& name, const std::vector<double>& values) const {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  replace_attr(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), values.data());
}

void Object::set_attr(const std::string& name, const std::vector<std::string>& values) const {
  const hsize_t n = values.size();
  Handle type = make_string_type();
  Handle space(H5Screate_simple(1, &n, nullptr));
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  replace_attr(name, type.get(), type.get(), space.get(), texts.data());
}

namespace {
hssize_t attr_points(hid_t attr, const std::string& where, const std::string& name) {
  Handle space(H5Aget_space(attr));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || n > (1 << 24)) fail("{}: attribute '{}' has an invalid size", where, name);
  return n;
}
}  // namespace

std::string Object::string_attr(const std::string& name) const {
  Handle attr = open_attr(name);
  Handle type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) fail("{}: attribute '{}' is not a string", where(), name);
  if (attr_points(attr.get(), where(), name) != 1) fail("{}: attribute '{}' is not a single string", where(), name);
  if (H5Tis_variable_str(type.get()) > 0) {
    Handle memory = make_string_type();
    char* text = nullptr;
    check(H5Aread(attr.get(), memory.get(), &text), where(), "reading attribute");
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(type.get());
  if (size == 0 || size > (size_t{1} << 30)) fail("{}: attribute '{}' has an invalid size", where(), name);
  Handle memory(H5Tcopy(H5T_C_S1));
  H5Tset_size(memory.get(), size);
  // Null-padded reading keeps every stored character; h5py writes fixed strings without a terminator.
  H5Tset_strpad(memory.get(), H5T_STR_NULLPAD);
  std::string value(size + 1, '\0');
  check(H5Aread(attr.get(), memory.get(), value.data()), where(), "reading attribute");
  value.resize(std::strlen(value.c_str()));
  return value;
}

std::vector<std::string> Object::strings_attr(const std::string& name) const {
  Handle attr = open_attr(name);
  Handle type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
    fail("{}: attribute '{}' is not an array of variable-length strings", where(), name);
  const hssize_t n = attr_points(attr.get(), where(), name);
  Handle memory = make_string_type();
  std::vector<char*> texts(static_cast<size_t>(n), nullptr);
  check(H5Aread(attr.get(), memory.get(), texts.data()), where(), "reading attribute");
  std::vector<std::string> values;
  for (char* t : texts) {
    values.emplace_back(t ? t : "");
    H5free_memory(t);
  }
  return values;
}

std::vector<double> Object::doubles_attr(const std::string& name) const {
  Handle attr = open_attr(name);
  Handle type(H5Aget_type(attr.get()));
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail("{}: attribute '{}' is not numeric", where(), name);
  std::vector<double> values(static_cast<size_t>(attr_points(attr.get(), where(), name)));
  check(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, values.data()), where(), "reading attribute");
  return values;
}

double Object::double_attr(const std::string& name) const {
  const std::vector<double> values = doubles_attr(name);
  if (values.size() != 1) fail("{}: attribute '{}' is not a single number", where(), name);
  return values[0];
}

std::int64_t Object::int_attr(const std::string& name) const {
  Handle attr = open_attr(name);
  Handle type(H5Aget_type(attr.get()));
  if (H5Tget_class(type.get()) != H5T_INTEGER) fail("{}: attribute '{}' is not an integer", where(), name);
  if (attr_points(attr.get(), where(), name) != 1) fail("{}: attribute '{}' is not a single integer", where(), name);
  std::int64_t value = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), where(), "reading attribute");
  return value;
}

Object::AttrClass Object::attr_class(const std::string& name) const {
  Handle attr = open_attr(name);
  Handle type(H5Aget_type(attr.get()));
  switch (H5Tget_class(type.get())) {
    case H5T_STRING: return AttrClass::string;
    case H5T_INTEGER: return AttrClass::integer;
    case H5T_FLOAT: return AttrClass::floating;
    default: return AttrClass::other;
  }
}

std::int64_t Object::attr_size(const std::string& name) const {
  Handle attr = open_attr(name);
  return attr_points(attr.get(), where(), name);
}

void Object::copy_attrs_from(const Object& source) const {
  for (const auto& name : source.attr_names()) {
    Handle attr = source.open_attr(name);
    Handle type(H5Aget_type(attr.get()));
    Handle space(H5Aget_space(attr.get()));
    const hssize_t points = attr_points(attr.get(), source.where(), name);
    const size_t size = H5Tget_size(type.get());
    if (size == 0 || size > (size_t{1} << 30) / static_cast<size_t>(std::max<hssize_t>(points, 1)))
      fail("{}: attribute '{}' is too large to copy", source.where(), name);
    std::vector<char> buffer(size * static_cast<size_t>(std::max<hssize_t>(points, 1)));
    check(H5Aread(attr.get(), type.get(), buffer.data()), source.where(), "reading attribute");
    replace_attr(name, type.get(), type.get(), space.get(), buffer.data());
    if (H5Tdetect_class(type.get(), H5T_VLEN) > 0 || H5Tis_variable_str(type.get()) > 0)
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, buffer.data());
  }
}

// ---------------------------------------------------------------------------------------------
std::vector<std::int64_t> Dataset::shape() const {
  Handle space(H5Dget_space(id()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0 || rank > 16) fail("{}: unsupported rank", where());
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return {dims.begin(), dims.end()};
}

bool Dataset::extendable() const {
  Handle space(H5Dget_space(id()));
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank <= 0) return false;
  std::vector<hsize_t> dims(static_cast<size_t>(rank)), maxdims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), maxdims.data());
  return maxdims[0] == H5S_UNLIMITED;
}

torch::ScalarType Dataset::scalar_type() const {
  Handle type(H5Dget_type(id()));
  const size_t size = H5Tget_size(type.get());
  switch (H5Tget_class(type.get())) {
    case H5T_FLOAT:
      if (size == 2) return torch::kHalf;
      if (size == 4) return torch::kFloat;
      if (size == 8) return torch::kDouble;
      break;
    case H5T_INTEGER: {
      const bool is_signed = H5Tget_sign(type.get()) == H5T_SGN_2;
      if (size == 1) return is_signed ? torch::kChar : torch::kByte;
      if (size == 2) return torch::kInt;
      if (size == 4) return is_signed ? torch::kInt : torch::kLong;
      if (size == 8) return torch::kLong;
      break;
    }
    default: break;
  }
  fail("{}: element type is not a number gm can read (float16/32/64 or an integer)", where());
}

torch::Tensor Dataset::read() const {
  const auto dims = shape();
  if (dims.empty()) {
    const torch::ScalarType type = scalar_type();
    torch::Tensor out = torch::empty({}, torch::TensorOptions().dtype(type));
    ElementType et = element_type(type);
    check(H5Dread(id(), et.memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()), where(), "reading");
    return out;
  }
  return read_rows(0, dims[0]);
}

torch::Tensor Dataset::read_rows(std::int64_t start, std::int64_t count) const {
  auto dims = shape();
  if (dims.empty()) fail("{}: is a scalar, not an array of rows", where());
  if (start < 0 || count < 0 || start + count > dims[0])
    fail("{}: rows [{}, {}) are out of range ({} rows)", where(), start, start + count, dims[0]);
  const torch::ScalarType type = scalar_type();
  std::uint64_t bytes = static_cast<std::uint64_t>(count) * c10::elementSize(type);
  for (size_t i = 1; i < dims.size(); ++i) {
    if (dims[i] != 0 && bytes > io::max_buffer_bytes() / static_cast<std::uint64_t>(dims[i])) bytes = ~std::uint64_t{0};
    else bytes *= static_cast<std::uint64_t>(dims[i]);
  }
  if (bytes > io::max_buffer_bytes()) fail("{}: {} rows are larger than gm's limit for one buffer (this machine's memory, or GM_MAX_BUFFER_MB)", where(), count);
  dims[0] = count;
  torch::Tensor out = torch::empty(dims, torch::TensorOptions().dtype(type));
  if (count == 0 || out.numel() == 0) return out;
  Handle file_space(H5Dget_space(id()));
  std::vector<hsize_t> offset(dims.size(), 0), extent = to_hsize(dims);
  offset[0] = static_cast<hsize_t>(start);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(), nullptr),
        where(), "selecting rows");
  Handle memory_space(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr));
  ElementType et = element_type(type);
  check(H5Dread(id(), et.memory, memory_space.get(), file_space.get(), H5P_DEFAULT, out.data_ptr()), where(),
        "reading");
  return out;
}

void Dataset::write_rows(std::int64_t start, const torch::Tensor& rows) const {
  const auto dims = shape();
  const torch::Tensor t = storable(rows).to(scalar_type());
  if (dims.empty()) {
    if (t.dim() != 0) fail("{}: cannot write a tensor of rank {} into a scalar", where(), t.dim());
    ElementType et = element_type(t.scalar_type());
    check(H5Dwrite(id(), et.memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr()), where(), "writing");
    return;
  }
  if (t.dim() != static_cast<int64_t>(dims.size()))
    fail("{}: cannot write rows of rank {} into a dataset of rank {}", where(), t.dim(), dims.size());
  for (size_t i = 1; i < dims.size(); ++i)
    if (t.size(static_cast<int64_t>(i)) != dims[i])
      fail("{}: row shape {} does not match the dataset's {}", where(), shape_text(t.sizes().slice(1)),
           shape_text(c10::IntArrayRef(dims).slice(1)));
  if (start < 0 || start + t.size(0) > dims[0])
    fail("{}: rows [{}, {}) are out of range ({} rows)", where(), start, start + t.size(0), dims[0]);
  if (t.numel() == 0) return;
  Handle file_space(H5Dget_space(id()));
  std::vector<hsize_t> offset(dims.size(), 0), extent(t.sizes().begin(), t.sizes().end());
  offset[0] = static_cast<hsize_t>(start);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, extent.data(), nullptr),
        where(), "selecting rows");
  Handle memory_space(H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr));
  ElementType et = element_type(t.scalar_type());
  check(H5Dwrite(id(), et.memory, memory_space.get(), file_space.get(), H5P_DEFAULT, t.data_ptr()), where(),
        "writing");
}

void Dataset::append(const torch::Tensor& rows) const {
  if (!extendable()) fail("{}: was not created extendable, cannot append", where());
  auto dims = shape();
  if (rows.dim() != static_cast<int64_t>(dims.size()))
    fail("{}: cannot append rows of rank {} to a dataset of rank {}", where(), rows.dim(), dims.size());
  const std::int64_t old_rows = dims[0];
  dims[0] += rows.size(0);
  const auto extent = to_hsize(dims);
  check(H5Dset_extent(id(), extent.data()), where(), "growing");
  write_rows(old_rows, rows);
}

// ---------------------------------------------------------------------------------------------
std::string Group::child_path(const std::string& name) const { return join_path(path_, name); }

bool Group::has(const std::string& path) const {
  if (path.empty()) return false;
  // H5Lexists fails on a missing intermediate group, so walk the components.
  std::string partial = path[0] == '/' ? "/" : "";
  size_t pos = path[0] == '/' ? 1 : 0;
  while (pos <= path.size()) {
    const size_t next = path.find('/', pos);
    const std::string part = path.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (!part.empty()) {
      partial += (partial.empty() || partial.back() == '/') ? part : "/" + part;
      if (H5Lexists(id(), partial.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  return true;
}

namespace {
H5O_type_t object_type(hid_t base, const std::string& path) {
  H5O_info_t info;
  if (H5Oget_info_by_name2(base, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return H5O_TYPE_UNKNOWN;
  }
  return info.type;
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}
}  // namespace

bool Group::has_dataset(const std::string& path) const {
  return has(path) && object_type(id(), path) == H5O_TYPE_DATASET;
}

bool Group::has_group(const std::string& path) const {
  return has(path) && object_type(id(), path) == H5O_TYPE_GROUP;
}

std::vector<std::string> Group::children() const {
  std::vector<std::string> names;
  hsize_t index = 0;
  check(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, &names), where(), "listing members");
  return names;
}

Group Group::group(const std::string& path) const {
  if (!has_group(path)) fail("{}:{}: group is missing", file_label_, child_path(path));
  Handle handle(check_id(H5Gopen2(id(), path.c_str(), H5P_DEFAULT), where(), "opening group"));
  return Group(std::move(handle), file_label_, child_path(path));
}

Group Group::create_group(const std::string& path) const {
  Handle lcpl = create_lcpl();
  Handle handle(check_id(H5Gcreate2(id(), path.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                         file_label_ + ":" + child_path(path), "creating group"));
  return Group(std::move(handle), file_label_, child_path(path));
}

Dataset Group::dataset(const std::string& path) const {
  if (!has_dataset(path)) fail("{}:{}: dataset is missing", file_label_, child_path(path));
  Handle handle(check_id(H5Dopen2(id(), path.c_str(), H5P_DEFAULT), where(), "opening dataset"));
  return Dataset(std::move(handle), file_label_, child_path(path));
}

Dataset Group::create_dataset(const std::string& path, torch::ScalarType type, const std::vector<std::int64_t>& shape,
                              const Layout& layout) const {
  const std::string full = file_label_ + ":" + child_path(path);
  if (type == torch::kBFloat16) type = torch::kFloat;
  if (type == torch::kBool) type = torch::kByte;
  ElementType et = element_type(type);
  const auto dims = to_hsize(shape);
  std::vector<hsize_t> maxdims = dims;
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (layout.extendable) {
    if (shape.empty()) fail("{}: a scalar cannot be extendable", full);
    maxdims[0] = H5S_UNLIMITED;
    std::uint64_t row_bytes = c10::elementSize(type);
    for (size_t i = 1; i < shape.size(); ++i) {
      if (shape[i] <= 0) fail("{}: trailing dimensions must be positive, got {}", full, shape_text(shape));
      row_bytes *= static_cast<std::uint64_t>(shape[i]);
    }
    std::int64_t rows = layout.chunk_rows;
    if (rows <= 0) {
      rows = std::max<std::int64_t>(1, static_cast<std::int64_t>((1u << 20) / row_bytes));
      if (layout.expected_rows > 0) rows = std::min(rows, layout.expected_rows);
    }
    std::vector<hsize_t> chunk = dims;
    chunk[0] = static_cast<hsize_t>(rows);
    check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), full, "setting chunks");
  }
  Handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data()));
  Handle lcpl = create_lcpl();
  Handle handle(check_id(H5Dcreate2(id(), path.c_str(), et.file, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT),
                         full, "creating dataset"));
  return Dataset(std::move(handle), file_label_, child_path(path));
}

Dataset Group::write(const std::string& path, const torch::Tensor& tensor, const Layout& layout) const {
  const torch::Tensor t = storable(tensor);
  Dataset ds = create_dataset(path, t.scalar_type(), t.sizes().vec(), layout);
  ds.write_rows(0, t);
  return ds;
}

void Group::copy_from(const Group& source, const std::string& name) const {
  // Copied through gm's own reads and writes, in chunks, rather than with H5Ocopy: HDF5 1.10's
  // H5Ocopy crashes when the disk fills during the copy.
  if (!source.has(name)) fail("{}:{}: is missing", source.file_label(), source.child_path(name));
  if (source.has_group(name)) {
    const Group from = source.group(name), to = create_group(name);
    to.copy_attrs_from(from);
    for (const auto& child : from.children()) to.copy_from(from, child);
    return;
  }
  const Dataset from = source.dataset(name);
  std::vector<std::int64_t> shape = from.shape();
  if (shape.empty()) {
    write(name, from.read()).copy_attrs_from(from);
    return;
  }
  const std::int64_t rows = shape[0];
  Layout layout;
  layout.extendable = from.extendable();
  layout.expected_rows = rows;
  if (layout.extendable) shape[0] = 0;  // grown by append below
  const Dataset to = create_dataset(name, from.scalar_type(), shape, layout);
  to.copy_attrs_from(from);
  std::int64_t row_elements = 1;
  for (size_t i = 1; i < shape.size(); ++i) row_elements *= std::max<std::int64_t>(shape[i], 1);
  const std::int64_t chunk = std::max<std::int64_t>(1, (std::int64_t{64} << 20) / (row_elements * 8));
  for (std::int64_t at = 0; at < rows; at += chunk) {
    const torch::Tensor part = from.read_rows(at, std::min(chunk, rows - at));
    if (layout.extendable) to.append(part);
    else to.write_rows(at, part);
  }
}

// ---------------------------------------------------------------------------------------------
File File::create(const std::string& path, const std::string& label) {
  ensure_init();
  Handle fapl = create_fapl();
  Handle handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()));
  const std::string name = label.empty() ? path : label;
  if (!handle.valid()) fail("{}: cannot create: {}", name, last_error());
  return File(std::move(handle), name);
}

File File::open(const std::string& path, Access access) {
  ensure_init();
  if (::access(path.c_str(), F_OK) != 0) fail("{}: no such file", path);
  if (::access(path.c_str(), R_OK) != 0) fail("{}: permission denied", path);
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    fail("{}: not an HDF5 file", path);
  }
  Handle fapl = create_fapl();
  H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_EARLIEST, H5F_LIBVER_V18);
  Handle handle(H5Fopen(path.c_str(), access == Access::read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl.get()));
  if (!handle.valid()) fail("{}: cannot open: {}", path, last_error());
  return File(std::move(handle), path);
}

File File::open_image(const std::vector<char>& bytes, const std::string& label) {
  ensure_init();
  static const char signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  if (bytes.size() < 8 || std::memcmp(bytes.data(), signature, 8) != 0) fail("{}: not an HDF5 file", label);
  static int counter = 0;
  Handle fapl = create_fapl();
  check(H5Pset_fapl_core(fapl.get(), 1 << 20, 0), label, "setting up an in-memory file");
  check(H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()), label, "loading file image");
  const std::string name = "gm-image-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  Handle handle(H5Fopen(name.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!handle.valid()) fail("{}: cannot open: {}", label, last_error());
  return File(std::move(handle), label);
}

Group File::root() const {
  Handle handle(check_id(H5Gopen2(handle_.get(), "/", H5P_DEFAULT), label_, "opening root group"));
  return Group(std::move(handle), label_, "/");
}

void File::flush() const { check(H5Fflush(handle_.get(), H5F_SCOPE_GLOBAL), label_, "flushing"); }

void File::close() {
  if (!handle_.valid()) return;
  // Forget the id either way: a failed close must not be retried by the destructor.
  if (H5Fclose(handle_.release()) < 0) fail("{}: closing failed: {}", label_, last_error());
}

}  // namespace gm::h5
