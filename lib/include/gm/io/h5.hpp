// RAII over the HDF5 C API: files (on disk or in memory), groups, datasets, attributes, and
// tensors stored chunked along the first axis so they can be read in slices and appended to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <hdf5.h>
#include <torch/types.h>

namespace gm::h5 {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  // Gives up ownership without closing.
  hid_t release() {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// How a new dataset is laid out.
struct Layout {
  bool extendable = false;       // unlimited first axis, chunked, for append and merge
  std::int64_t chunk_rows = 0;   // 0: rows that make a chunk of about 1 MiB, or fewer when
  std::int64_t expected_rows = 0;  // ... the rows expected are fewer, so small files stay small
};

// Anything that carries attributes: the file's root group, groups and datasets.
class Object {
 public:
  bool has_attr(const std::string& name) const;
  std::vector<std::string> attr_names() const;
  void set_attr(const std::string& name, const std::string& value) const;
  void set_attr(const std::string& name, const char* value) const { set_attr(name, std::string(value)); }
  void set_attr(const std::string& name, double value) const;
  void set_attr(const std::string& name, std::int64_t value) const;
  void set_attr(const std::string& name, const std::vector<double>& values) const;
  void set_attr(const std::string& name, const std::vector<std::string>& values) const;
  std::string string_attr(const std::string& name) const;
  double double_attr(const std::string& name) const;
  std::int64_t int_attr(const std::string& name) const;
  std::vector<double> doubles_attr(const std::string& name) const;
  std::vector<std::string> strings_attr(const std::string& name) const;
  enum class AttrClass { string, integer, floating, other };
  AttrClass attr_class(const std::string& name) const;
  // Elements in the attribute: 1 for a scalar.
  std::int64_t attr_size(const std::string& name) const;
  // Copies every attribute of `source` onto this object, replacing those of the same name.
  void copy_attrs_from(const Object& source) const;

  hid_t id() const { return handle_.get(); }
  // "file.h5:/x", for error messages.
  std::string where() const;
  const std::string& file_label() const { return file_label_; }
  const std::string& path() const { return path_; }

 protected:
  Object(Handle handle, std::string file_label, std::string path)
      : handle_(std::move(handle)), file_label_(std::move(file_label)), path_(std::move(path)) {}
  Handle handle_;
  std::string file_label_;
  std::string path_;

 private:
  Handle open_attr(const std::string& name) const;
  void replace_attr(const std::string& name, hid_t file_type, hid_t memory_type, hid_t space, const void* data) const;
};

class Dataset : public Object {
 public:
  std::vector<std::int64_t> shape() const;
  // The tensor type that holds this dataset's elements without loss.
  torch::ScalarType scalar_type() const;
  bool extendable() const;

  torch::Tensor read() const;
  torch::Tensor read_rows(std::int64_t start, std::int64_t count) const;
  // Writes rows [start, start + rows) of an existing dataset; the tensor's trailing shape must match.
  void write_rows(std::int64_t start, const torch::Tensor& rows) const;
  // Grows an extendable dataset by the tensor's rows.
  void append(const torch::Tensor& rows) const;

 private:
  friend class Group;
  using Object::Object;
};

class Group : public Object {
 public:
  bool has(const std::string& path) const;  // a link at this (possibly nested) path exists
  bool has_dataset(const std::string& path) const;
  bool has_group(const std::string& path) const;
  std::vector<std::string> children() const;  // names of direct members, in name order

  Group group(const std::string& path) const;
  Group create_group(const std::string& path) const;  // intermediate groups are created too

  Dataset dataset(const std::string& path) const;
  Dataset create_dataset(const std::string& path, torch::ScalarType type, const std::vector<std::int64_t>& shape,
                         const Layout& layout = {}) const;
  // Creates a dataset shaped like the tensor and writes it.
  Dataset write(const std::string& path, const torch::Tensor& tensor, const Layout& layout = {}) const;
  // Copies a member of `source` (a dataset or a whole group, with attributes) to `name` here.
  void copy_from(const Group& source, const std::string& name) const;

 private:
  friend class File;
  using Object::Object;
  std::string child_path(const std::string& name) const;
};

enum class Access { read_only, read_write };

class File {
 public:
  // Truncates. `label` names the file in errors (the final name of a temporary file); default: path.
  static File create(const std::string& path, const std::string& label = "");
  static File open(const std::string& path, Access access = Access::read_only);
  // Opens a copy of an HDF5 file image (for example stdin read fully).
  static File open_image(const std::vector<char>& bytes, const std::string& label);

  Group root() const;
  const std::string& label() const { return label_; }
  void flush() const;
  void close();

 private:
  File(Handle handle, std::string label) : handle_(std::move(handle)), label_(std::move(label)) {}
  Handle handle_;
  std::string label_;
};

// The innermost message on the HDF5 error stack ("file signature not found"), then clears it.
std::string last_error();

}  // namespace gm::h5
