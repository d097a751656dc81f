#include "gm/io/zip.hpp"

#include <algorithm>

#include <zlib.h>

#include "gm/base/error.hpp"
#include "gm/io/compress.hpp"

namespace gm::io {
namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEndRecord = 0x06054b50;

void put16(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

std::uint32_t get(const std::string& bytes, std::size_t at, int width) {
  std::uint32_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}

}  // namespace

std::uint32_t crc32(const char* data, std::size_t size, std::uint32_t crc) {
  // zlib's crc32 takes at most 4 GiB - 1 bytes a call.
  for (std::size_t done = 0; done < size;) {
    const auto part = static_cast<uInt>(std::min<std::size_t>(size - done, 1u << 30));
    crc = static_cast<std::uint32_t>(::crc32(crc, reinterpret_cast<const Bytef*>(data + done), part));
    done += part;
  }
  return crc;
}

ZipWriter::ZipWriter() : sink_([this](const char* data, std::size_t size) { bytes_.append(data, size); }) {}

ZipWriter::ZipWriter(Sink sink) : sink_(std::move(sink)) {}

void ZipWriter::put(const std::string& bytes) {
  sink_(bytes.data(), bytes.size());
  written_ += bytes.size();
}

void ZipWriter::add(const std::string& name, const std::string& data, std::size_t align) {
  add(name, data.size(), crc32(data.data(), data.size()),
      [&data](const Sink& sink) { sink(data.data(), data.size()); }, align);
}

void ZipWriter::add(const std::string& name, std::uint64_t size, std::uint32_t crc,
                    const std::function<void(const Sink&)>& write_data, std::size_t align) {
  constexpr std::uint64_t kHeaderBytes = 30, kLimit = 0xffffffffu;
  std::uint64_t padding = 0;
  const std::uint64_t data_at = written_ + kHeaderBytes + name.size();
  if (align > 1 && data_at % align != 0) padding = align - data_at % align;
  // The padding goes in an extra field, which needs a 4-byte header of its own.
  if (padding > 0 && padding < 4) padding += align;
  if (written_ + kHeaderBytes + name.size() + padding + size >= kLimit || name.size() > 0xffff)
    fail("{}: too large for a zip archive without ZIP64 (4 GiB)", name);
  Entry entry{name, crc, static_cast<std::uint32_t>(size), static_cast<std::uint32_t>(written_)};
  std::string header;
  put32(header, kLocalHeader);
  put16(header, 20);  // version needed: 2.0
  put16(header, 0);   // flags
  put16(header, 0);   // stored
  put16(header, 0);   // time
  put16(header, 0x21);  // date: 1980-01-01, so archives do not depend on the clock
  put32(header, entry.crc);
  put32(header, entry.size);
  put32(header, entry.size);
  put16(header, static_cast<std::uint32_t>(name.size()));
  put16(header, static_cast<std::uint32_t>(padding));
  header += name;
  if (padding > 0) {
    put16(header, 0x4246);  // "FB", the id PyTorch's writer uses for alignment padding
    put16(header, static_cast<std::uint32_t>(padding - 4));
    header.append(padding - 4, 'Z');
  }
  put(header);
  std::uint64_t sent = 0;
  write_data([&](const char* data, std::size_t count) {
    sink_(data, count);
    sent += count;
  });
  if (sent != size) fail("{}: wrote {} bytes of an entry announced as {}", name, sent, size);
  written_ += size;
  entries_.push_back(entry);
}

std::string ZipWriter::finish() {
  const std::uint64_t directory_at = written_;
  std::string directory;
  for (const Entry& e : entries_) {
    put32(directory, kCentralHeader);
    put16(directory, 20);  // made by
    put16(directory, 20);  // needed
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0x21);
    put32(directory, e.crc);
    put32(directory, e.size);
    put32(directory, e.size);
    put16(directory, static_cast<std::uint32_t>(e.name.size()));
    put16(directory, 0);  // extra
    put16(directory, 0);  // comment
    put16(directory, 0);  // disk
    put16(directory, 0);  // internal attributes
    put32(directory, 0);  // external attributes
    put32(directory, e.offset);
    directory += e.name;
  }
  if (directory_at + directory.size() >= 0xffffffffu || entries_.size() > 0xffff)
    fail("too large for a zip archive without ZIP64");
  const auto directory_size = static_cast<std::uint32_t>(directory.size());
  put32(directory, kEndRecord);
  put16(directory, 0);
  put16(directory, 0);
  put16(directory, static_cast<std::uint32_t>(entries_.size()));
  put16(directory, static_cast<std::uint32_t>(entries_.size()));
  put32(directory, directory_size);
  put32(directory, static_cast<std::uint32_t>(directory_at));
  put16(directory, 0);
  put(directory);
  return std::move(bytes_);
}

std::map<std::string, std::string> read_zip(const std::string& bytes, const std::string& where) {
  // The end record: 22 bytes plus a comment of up to 65535, searched from the end.
  if (bytes.size() < 22) fail("{}: too short for a zip archive", where);
  std::size_t end = std::string::npos;
  const std::size_t lowest = bytes.size() > 22 + 0xffff ? bytes.size() - 22 - 0xffff : 0;
  for (std::size_t at = bytes.size() - 22 + 1; at-- > lowest;)
    if (get(bytes, at, 4) == kEndRecord && at + 22 + get(bytes, at + 20, 2) == bytes.size()) {
      end = at;
      break;
    }
  if (end == std::string::npos) fail("{}: not a zip archive (no end-of-directory record)", where);
  const std::uint32_t count = get(bytes, end + 10, 2), directory_size = get(bytes, end + 12, 4),
                      directory_at = get(bytes, end + 16, 4);
  if (count == 0xffff || directory_at == 0xffffffffu) fail("{}: is a ZIP64 archive, which gm does not read", where);
  if (static_cast<std::uint64_t>(directory_at) + directory_size > end)
    fail("{}: zip directory runs past the end of the archive", where);
  std::map<std::string, std::string> entries;
  std::size_t at = directory_at;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (at + 46 > directory_at + directory_size || get(bytes, at, 4) != kCentralHeader)
      fail("{}: zip directory entry {} is malformed", where, i);
    const std::uint32_t flags = get(bytes, at + 8, 2), method = get(bytes, at + 10, 2), crc = get(bytes, at + 16, 4),
                        packed = get(bytes, at + 20, 4), size = get(bytes, at + 24, 4),
                        name_size = get(bytes, at + 28, 2), extra_size = get(bytes, at + 30, 2),
                        comment_size = get(bytes, at + 32, 2), local = get(bytes, at + 42, 4);
    if (at + 46 + name_size > directory_at + directory_size) fail("{}: zip directory entry {} is malformed", where, i);
    const std::string name = bytes.substr(at + 46, name_size);
    if (flags & 1) fail("{}: zip entry '{}' is encrypted", where, name);
    if ((method != 0 && method != 8) || (method == 0 && packed != size))
      fail("{}: zip entry '{}' uses compression method {}; gm reads stored and deflated entries", where, name, method);
    if (static_cast<std::uint64_t>(local) + 30 > directory_at || get(bytes, local, 4) != kLocalHeader)
      fail("{}: zip entry '{}' has no valid local header", where, name);
    const std::uint64_t data_at = static_cast<std::uint64_t>(local) + 30 + get(bytes, local + 26, 2) + get(bytes, local + 28, 2);
    if (data_at + packed > directory_at) fail("{}: zip entry '{}' runs past its data", where, name);
    std::string data = method == 8 ? inflate_raw(bytes.substr(data_at, packed), size, where + ":" + name)
                                   : bytes.substr(data_at, size);
    if (crc32(data.data(), data.size()) != crc) fail("{}: zip entry '{}' fails its CRC-32 check", where, name);
    if (!entries.emplace(name, std::move(data)).second) fail("{}: zip entry '{}' appears twice", where, name);
    at += 46 + name_size + extra_size + comment_size;
  }
  return entries;
}

}  // namespace gm::io
