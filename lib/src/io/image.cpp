#include "gm/io/image.hpp"

#include <climits>
#include <memory>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "gm/base/error.hpp"
#include "gm/io/limits.hpp"

namespace gm::io {

namespace {

int byte_count(const std::string& bytes, const std::string& where) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) fail("{}: image file is over 2 GiB", where);
  return static_cast<int>(bytes.size());
}

}  // namespace

ImageInfo image_info(const std::string& bytes, const std::string& where) {
  ImageInfo info;
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  if (!stbi_info_from_memory(data, byte_count(bytes, where), &info.width, &info.height, &info.channels))
    fail("{}: not an image stb_image decodes ({})", where, stbi_failure_reason());
  check_allocation(static_cast<std::uint64_t>(info.width) * static_cast<std::uint64_t>(info.height) * 4, "the image",
                   where);
  return info;
}

torch::Tensor decode_image(const std::string& bytes, int channels, const std::string& where) {
  if (channels != 1 && channels != 3) fail("{}: images decode to 1 or 3 channels, not {}", where, channels);
  image_info(bytes, where);  // checks the size the header claims before decoding
  int width = 0, height = 0, found = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), byte_count(bytes, where), &width, &height,
                            &found, channels),
      stbi_image_free);
  if (!pixels) fail("{}: cannot decode the image: {}", where, stbi_failure_reason());
  // clone, not contiguous: a one-channel permute is already contiguous and would alias the freed buffer.
  return torch::from_blob(pixels.get(), {height, width, channels}, torch::kByte).permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
}

torch::Tensor resize_image(const torch::Tensor& image, int size) {
  const torch::Tensor hwc = image.permute({1, 2, 0}).contiguous();
  const int channels = static_cast<int>(image.size(0));
  torch::Tensor out = torch::empty({size, size, channels}, torch::kByte);
  if (!stbir_resize_uint8(hwc.data_ptr<std::uint8_t>(), static_cast<int>(image.size(2)), static_cast<int>(image.size(1)),
                          0, out.data_ptr<std::uint8_t>(), size, size, 0, channels))
    fail("cannot resize an image of {}x{} to {}x{}", image.size(2), image.size(1), size, size);
  return out.permute({2, 0, 1}).contiguous();
}

}  // namespace gm::io
