#include "gm/io/torch_pickle.hpp"

#include <cstring>
#include <memory>
#include <variant>
#include <vector>

#include "gm/base/error.hpp"
#include "gm/io/zip.hpp"

namespace gm::io {
namespace {

struct StorageType {
  const char* name;
  torch::ScalarType type;
};
constexpr StorageType kStorages[] = {
    {"FloatStorage", torch::kFloat}, {"DoubleStorage", torch::kDouble}, {"HalfStorage", torch::kHalf},
    {"BFloat16Storage", torch::kBFloat16}, {"LongStorage", torch::kLong}, {"IntStorage", torch::kInt},
    {"ShortStorage", torch::kShort}, {"CharStorage", torch::kChar}, {"ByteStorage", torch::kByte},
    {"BoolStorage", torch::kBool}};

const char* storage_name(torch::ScalarType type) {
  for (const auto& s : kStorages)
    if (s.type == type) return s.name;
  fail("tensors of type {} have no PyTorch storage type gm writes", c10::toString(type));
}

// ---- writing: protocol 2, the opcodes torch.save itself emits for a dict of tensors ----

class PickleWriter {
 public:
  std::string out = "\x80\x02";  // PROTO 2
  void global(const std::string& module, const std::string& name) { out += "c" + module + "\n" + name + "\n"; }
  void text(const std::string& s) {
    out += 'X';
    put32(static_cast<std::uint32_t>(s.size()));
    out += s;
  }
  void integer(std::int64_t v) {
    if (v >= 0 && v < (1ll << 31)) {
      out += 'J';
      put32(static_cast<std::uint32_t>(v));
      return;
    }
    out += '\x8a';  // LONG1: little-endian two's complement
    out += '\x08';
    for (int i = 0; i < 8; ++i) out += static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff);
  }
  void tuple_of(const std::vector<std::int64_t>& values) {
    out += '(';
    for (std::int64_t v : values) integer(v);
    out += 't';
  }

 private:
  void put32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
};

// ---- reading ----

struct Value;
using ValuePtr = std::shared_ptr<Value>;
struct Global {
  std::string module, name;
};
struct Mark {};
using List = std::vector<ValuePtr>;
using Dict = std::vector<std::pair<ValuePtr, ValuePtr>>;
struct Tuple {
  std::vector<ValuePtr> items;
};
struct Value {
  std::variant<std::monostate, bool, std::int64_t, double, std::string, List, Tuple, Dict, torch::Tensor, Global, Mark>
      v;
};

template <typename T>
ValuePtr make(T value) {
  auto p = std::make_shared<Value>();
  p->v = std::move(value);
  return p;
}

bool allowed_global(const Global& g) {
  if (g.module == "collections" && g.name == "OrderedDict") return true;
  if (g.module == "torch._utils" && (g.name == "_rebuild_tensor_v2" || g.name == "_rebuild_parameter")) return true;
  if (g.module == "torch")
    for (const auto& s : kStorages)
      if (g.name == s.name) return true;
  return false;
}

class Unpickler {
 public:
  Unpickler(const std::string& data, const std::map<std::string, std::string>& records, std::string prefix,
            std::string where)
      : data_(data), records_(records), prefix_(std::move(prefix)), where_(std::move(where)) {}

  ValuePtr run() {
    while (true) {
      const unsigned char op = byte();
      switch (op) {
        case 0x80: byte(); break;                       // PROTO
        case 0x95: take(8); break;                      // FRAME
        case '(': push(make(Mark{})); break;            // MARK
        case '}': push(make(Dict{})); break;            // EMPTY_DICT
        case ']': push(make(List{})); break;            // EMPTY_LIST
        case ')': push(make(Tuple{})); break;           // EMPTY_TUPLE
        case 'N': push(make(std::monostate{})); break;  // NONE
        case 0x88: push(make(true)); break;             // NEWTRUE
        case 0x89: push(make(false)); break;            // NEWFALSE
        case 'K': push(make<std::int64_t>(byte())); break;
        case 'M': push(make<std::int64_t>(unsigned_le(2))); break;
        case 'J': push(make<std::int64_t>(static_cast<std::int32_t>(unsigned_le(4)))); break;
        case 0x8a: push(make(long1())); break;
        case 'G': push(make(binfloat())); break;
        case 'X': push(make(take(unsigned_le(4)))); break;    // BINUNICODE
        case 0x8c: push(make(take(byte()))); break;          // SHORT_BINUNICODE
        case 'T': push(make(take(unsigned_le(4)))); break;    // BINSTRING
        case 'U': push(make(take(byte()))); break;           // SHORT_BINSTRING
        case 'c': {                                           // GLOBAL
          std::string module = line(), name = line();
          push(global(std::move(module), std::move(name)));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          std::string name = text(pop()), module = text(pop());
          push(global(std::move(module), std::move(name)));
          break;
        }
        case 'q': memo(byte()); break;           // BINPUT
        case 'r': memo(unsigned_le(4)); break;   // LONG_BINPUT
        case 0x94: memo(memo_.size()); break;    // MEMOIZE
        case 'h': push(recall(byte())); break;   // BINGET
        case 'j': push(recall(unsigned_le(4))); break;
        case 't': push(make(Tuple{pop_to_mark()})); break;
        case 0x85: push(make(Tuple{pop_n(1)})); break;
        case 0x86: push(make(Tuple{pop_n(2)})); break;
        case 0x87: push(make(Tuple{pop_n(3)})); break;
        case 'a': {  // APPEND
          ValuePtr item = pop();
          list(top()).push_back(item);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<ValuePtr> items = pop_to_mark();
          List& l = list(top());
          l.insert(l.end(), items.begin(), items.end());
          break;
        }
        case 's': {  // SETITEM
          ValuePtr value = pop(), key = pop();
          dict(top()).emplace_back(key, value);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<ValuePtr> items = pop_to_mark();
          if (items.size() % 2) bad("SETITEMS with an odd number of items");
          Dict& d = dict(top());
          for (size_t i = 0; i < items.size(); i += 2) d.emplace_back(items[i], items[i + 1]);
          break;
        }
        case 'R': {  // REDUCE
          ValuePtr args = pop(), callable = pop();
          push(reduce(callable, args));
          break;
        }
        case 'b': {  // BUILD: an OrderedDict's __dict__ (state_dict's _metadata); kept out of the result
          pop();
          dict(top());
          break;
        }
        case 'Q': push(persistent(pop())); break;  // BINPERSID
        case '.': return pop();                    // STOP
        default: bad(fmt::format("opcode 0x{:02x}, which a state_dict never needs", op));
      }
    }
  }

 private:
  [[noreturn]] void bad(const std::string& what) const { fail("{}: refused pickle: {}", where_, what); }

  unsigned char byte() {
    if (at_ >= data_.size()) bad("it ends early");
    return static_cast<unsigned char>(data_[at_++]);
  }
  std::string take(std::uint64_t n) {
    if (n > data_.size() - at_) bad("a string runs past the end");
    std::string s = data_.substr(at_, n);
    at_ += n;
    return s;
  }
  std::uint64_t unsigned_le(int n) {
    const std::string b = take(static_cast<std::uint64_t>(n));
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
    return v;
  }
  std::int64_t long1() {
    const unsigned n = byte();
    if (n > 8) bad("an integer wider than 64 bits");
    if (n == 0) return 0;
    const std::uint64_t raw = unsigned_le(static_cast<int>(n));
    if (n == 8) return static_cast<std::int64_t>(raw);
    const std::uint64_t sign = 1ull << (8 * n - 1);
    return static_cast<std::int64_t>((raw ^ sign) - sign);
  }
  double binfloat() {
    std::uint64_t bits = 0;
    for (unsigned char c : take(8)) bits = (bits << 8) | c;  // big-endian
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  std::string line() {
    const size_t end = data_.find('\n', at_);
    if (end == std::string::npos || end - at_ > 256) bad("a GLOBAL name is malformed");
    std::string s = data_.substr(at_, end - at_);
    at_ = end + 1;
    return s;
  }

  void push(ValuePtr v) {
    if (stack_.size() > 100000) bad("the stack grows past 100000 items");
    stack_.push_back(std::move(v));
  }
  ValuePtr pop() {
    if (stack_.empty()) bad("it pops an empty stack");
    ValuePtr v = stack_.back();
    stack_.pop_back();
    if (std::holds_alternative<Mark>(v->v)) bad("it pops a MARK");
    return v;
  }
  ValuePtr& top() {
    if (stack_.empty()) bad("it reads an empty stack");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_n(size_t n) {
    std::vector<ValuePtr> items(n);
    for (size_t i = n; i-- > 0;) items[i] = pop();
    return items;
  }
  std::vector<ValuePtr> pop_to_mark() {
    std::vector<ValuePtr> items;
    while (true) {
      if (stack_.empty()) bad("no MARK to pop to");
      ValuePtr v = stack_.back();
      stack_.pop_back();
      if (std::holds_alternative<Mark>(v->v)) break;
      items.push_back(v);
    }
    return {items.rbegin(), items.rend()};
  }
  void memo(std::uint64_t index) {
    if (index > 1000000) bad("a memo index past 1000000");
    if (memo_.size() <= index) memo_.resize(index + 1);
    memo_[index] = top();
  }
  ValuePtr recall(std::uint64_t index) {
    if (index >= memo_.size() || !memo_[index]) bad("it recalls a memo entry never stored");
    return memo_[index];
  }

  ValuePtr global(std::string module, std::string name) {
    Global g{std::move(module), std::move(name)};
    if (!allowed_global(g)) bad(fmt::format("forbidden global '{}.{}'", g.module, g.name));
    return make(g);
  }
  std::string text(const ValuePtr& v) {
    if (!std::holds_alternative<std::string>(v->v)) bad("a name that is not a string");
    return std::get<std::string>(v->v);
  }
  std::int64_t integer(const ValuePtr& v) {
    if (!std::holds_alternative<std::int64_t>(v->v)) bad("an integer expected");
    return std::get<std::int64_t>(v->v);
  }
  Dict& dict(ValuePtr& v) {
    if (!std::holds_alternative<Dict>(v->v)) bad("a dict expected");
    return std::get<Dict>(v->v);
  }
  List& list(ValuePtr& v) {
    if (!std::holds_alternative<List>(v->v)) bad("a list expected");
    return std::get<List>(v->v);
  }
  std::vector<ValuePtr>& items(const ValuePtr& v) {
    if (!std::holds_alternative<Tuple>(v->v)) bad("a tuple expected");
    return std::get<Tuple>(v->v).items;
  }
  std::vector<std::int64_t> integers(const ValuePtr& v) {
    std::vector<std::int64_t> out;
    for (const auto& item : items(v)) out.push_back(integer(item));
    return out;
  }

  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
    if (!std::holds_alternative<Global>(callable->v)) bad("REDUCE of something not a global");
    const Global& g = std::get<Global>(callable->v);
    auto& a = items(args);
    if (g.name == "OrderedDict") {
      if (!a.empty()) bad("OrderedDict with arguments");
      return make(Dict{});
    }
    if (g.name == "_rebuild_parameter") {
      if (a.size() != 3 || !std::holds_alternative<torch::Tensor>(a[0]->v)) bad("malformed _rebuild_parameter");
      return a[0];
    }
    if (g.name == "_rebuild_tensor_v2") {
      if (a.size() < 4 || !std::holds_alternative<torch::Tensor>(a[0]->v)) bad("malformed _rebuild_tensor_v2");
      const torch::Tensor& storage = std::get<torch::Tensor>(a[0]->v);
      const std::int64_t offset = integer(a[1]);
      const std::vector<std::int64_t> size = integers(a[2]), stride = integers(a[3]);
      if (size.size() != stride.size() || size.size() > 64) bad("a tensor whose size and stride disagree");
      // The view may hold no more elements than its storage (a state_dict has no expanded
      // views, and this bounds the copy), and its furthest element must lie inside it.
      std::int64_t count = 1, last = offset;
      for (size_t i = 0; i < size.size(); ++i) {
        if (size[i] < 0 || stride[i] < 0) bad("a negative tensor size or stride");
        if (size[i] > 0 && count > storage.numel() / size[i] + 1) bad("a tensor larger than its storage");
        count *= size[i];
      }
      if (count > storage.numel()) bad("a tensor larger than its storage");
      for (size_t i = 0; i < size.size() && count > 0; ++i) {
        if (stride[i] > storage.numel()) bad("a tensor stride past the end of its storage");
        last += (size[i] - 1) * stride[i];
      }
      if (offset < 0 || (count > 0 && last >= storage.numel())) bad("a tensor view past the end of its storage");
      return make(storage.as_strided(size, stride, offset).clone());
    }
    bad(fmt::format("'{}.{}' called as a function", g.module, g.name));
  }

  ValuePtr persistent(const ValuePtr& pid) {
    auto& p = items(pid);
    if (p.size() != 5 || text(p[0]) != "storage" || !std::holds_alternative<Global>(p[1]->v))
      bad("a persistent id that is not a storage");
    const std::string& type_name = std::get<Global>(p[1]->v).name;
    torch::ScalarType type = torch::kFloat;
    bool known = false;
    for (const auto& s : kStorages)
      if (type_name == s.name) type = s.type, known = true;
    if (!known) bad(fmt::format("storage type '{}'", type_name));
    const std::string key = text(p[2]);
    const std::int64_t numel = integer(p[4]);
    const auto cached = storages_.find(key);
    if (cached != storages_.end()) return make(cached->second);
    const auto record = records_.find(prefix_ + "data/" + key);
    if (record == records_.end()) fail("{}: storage '{}' is missing from the archive", where_, key);
    const auto element = static_cast<std::int64_t>(c10::elementSize(type));
    if (numel < 0 || static_cast<std::uint64_t>(numel) * element != record->second.size())
      fail("{}: storage '{}' holds {} bytes, not {} elements of {}", where_, key, record->second.size(), numel,
           c10::toString(type));
    torch::Tensor storage = torch::empty({numel}, torch::TensorOptions().dtype(type));
    if (numel > 0) std::memcpy(storage.data_ptr(), record->second.data(), record->second.size());
    storages_.emplace(key, storage);
    return make(storage);
  }

  const std::string& data_;
  const std::map<std::string, std::string>& records_;
  std::string prefix_, where_;
  size_t at_ = 0;
  std::vector<ValuePtr> stack_, memo_;
  std::map<std::string, torch::Tensor> storages_;
};

}  // namespace

std::string encode_torch_checkpoint(const TensorFile& checkpoint) {
  ZipWriter zip;
  PickleWriter pickle;
  std::vector<torch::Tensor> storages;
  pickle.out += '}';  // EMPTY_DICT
  pickle.out += '(';  // MARK: the SETITEMS that fill it
  for (const auto& [name, tensor] : checkpoint.tensors) {
    if (name == "__metadata__") fail("a tensor cannot be named __metadata__");
    const torch::Tensor data = tensor.to(torch::kCPU).contiguous();
    pickle.text(name);
    pickle.global("torch._utils", "_rebuild_tensor_v2");
    pickle.out += '(';
    pickle.out += '(';  // the persistent id of the storage
    pickle.text("storage");
    pickle.global("torch", storage_name(data.scalar_type()));
    pickle.text(std::to_string(storages.size()));
    pickle.text("cpu");
    pickle.integer(data.numel());
    pickle.out += "tQ";         // TUPLE, BINPERSID
    pickle.integer(0);          // storage offset
    pickle.tuple_of(data.sizes().vec());
    pickle.tuple_of(data.strides().vec());
    pickle.out += '\x89';       // requires_grad False
    pickle.global("collections", "OrderedDict");
    pickle.out += ")R";         // OrderedDict(): no backward hooks
    pickle.out += "tR";         // the call of _rebuild_tensor_v2
    storages.push_back(data);
  }
  if (!checkpoint.metadata.empty()) {
    pickle.text("__metadata__");
    pickle.out += "}(";
    for (const auto& [key, value] : checkpoint.metadata) {
      pickle.text(key);
      pickle.text(value);
    }
    pickle.out += 'u';
  }
  pickle.out += "u.";  // SETITEMS, STOP
  zip.add("archive/data.pkl", pickle.out);
  for (size_t i = 0; i < storages.size(); ++i) {
    const torch::Tensor& s = storages[i];
    zip.add("archive/data/" + std::to_string(i),
            std::string(static_cast<const char*>(s.data_ptr()), static_cast<size_t>(s.numel()) * s.element_size()), 64);
  }
  zip.add("archive/version", "3\n");
  return zip.finish();
}

TensorFile parse_torch_checkpoint(const std::string& bytes, const std::string& where, const std::string& key) {
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80)
    fail("{}: is a legacy (pre-1.6, not zip) PyTorch file; re-save it with torch.save in PyTorch 1.6 or later", where);
  const std::map<std::string, std::string> records = read_zip(bytes, where);
  std::string prefix;
  bool found = false;
  for (const auto& [name, data] : records) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      prefix = name.substr(0, slash + 1);
      found = true;
      break;
    }
  }
  if (!found) fail("{}: no data.pkl in the archive; not a PyTorch checkpoint", where);
  Unpickler unpickler(records.at(prefix + "data.pkl"), records, prefix, where);
  ValuePtr root = unpickler.run();
  const auto as_dict = [&](const ValuePtr& v, const std::string& what) -> const Dict& {
    if (!std::holds_alternative<Dict>(v->v)) fail("{}: {} is not a dict of tensors", where, what);
    return std::get<Dict>(v->v);
  };
  const auto key_text = [](const ValuePtr& k) -> const std::string* {
    return std::holds_alternative<std::string>(k->v) ? &std::get<std::string>(k->v) : nullptr;
  };
  const Dict* chosen = &as_dict(root, "the pickled object");
  if (!key.empty()) {
    const Dict* nested = nullptr;
    for (const auto& [k, v] : *chosen)
      if (const std::string* name = key_text(k); name && *name == key) nested = &as_dict(v, "'" + key + "'");
    if (!nested) fail("{}: has no entry '{}' (--key)", where, key);
    chosen = nested;
  }
  TensorFile checkpoint;
  for (const auto& [k, v] : *chosen) {
    const std::string* name = key_text(k);
    if (!name) continue;
    if (std::holds_alternative<torch::Tensor>(v->v)) {
      checkpoint.tensors.emplace(*name, std::get<torch::Tensor>(v->v));
    } else if (*name == "__metadata__" && std::holds_alternative<Dict>(v->v)) {
      for (const auto& [mk, mv] : std::get<Dict>(v->v))
        if (key_text(mk) && std::holds_alternative<std::string>(mv->v))
          checkpoint.metadata.emplace(*key_text(mk), std::get<std::string>(mv->v));
    }
  }
  if (checkpoint.tensors.empty())
    fail("{}: holds no tensors{}", where, key.empty() ? " at its top level; name the dict that does with --key" : "");
  return checkpoint;
}

}  // namespace gm::io
