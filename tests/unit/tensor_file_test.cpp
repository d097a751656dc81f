#include <gtest/gtest.h>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/io/safetensors.hpp"
#include "gm/io/torch_pickle.hpp"
#include "gm/io/zip.hpp"

namespace {

gm::io::TensorFile every_dtype() {
  gm::io::TensorFile file;
  file.metadata = {{"config", "{\"a\": 1}"}, {"note", "strings only"}};
  file.tensors = {{"f64", torch::randn({3, 2}, torch::kDouble)},
                  {"f32", torch::randn({5})},
                  {"f16", torch::randn({2, 2}).to(torch::kHalf)},
                  {"bf16", torch::randn({4}).to(torch::kBFloat16)},
                  {"i64", torch::arange(6, torch::kLong).view({2, 3})},
                  {"i32", torch::arange(3, torch::kInt)},
                  {"u8", torch::tensor({0, 255, 7}, torch::kByte)},
                  {"bool", torch::tensor({true, false, true})},
                  {"scalar", torch::tensor(2.5)},
                  {"empty", torch::zeros({0, 4})}};
  return file;
}

void expect_same(const gm::io::TensorFile& back, const gm::io::TensorFile& file) {
  EXPECT_EQ(back.metadata, file.metadata);
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (const auto& [name, tensor] : file.tensors) {
    const torch::Tensor& got = back.tensors.at(name);
    EXPECT_EQ(got.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(torch::equal(got, tensor)) << name;
  }
}

TEST(Safetensors, EveryDtypeRoundTripsBitExact) {
  const gm::io::TensorFile file = every_dtype();
  const std::string bytes = gm::io::encode_safetensors(file);
  // The header is padded to 8 bytes, so the data starts aligned.
  std::uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(header % 8, 0u);
  expect_same(gm::io::parse_safetensors(bytes, "t.safetensors"), file);
}

TEST(TorchCheckpoint, EveryDtypeRoundTripsBitExact) {
  gm::io::TensorFile file = every_dtype();
  file.tensors.emplace("strided", torch::randn({4, 6}).t());  // written contiguous, read back equal
  expect_same(gm::io::parse_torch_checkpoint(gm::io::encode_torch_checkpoint(file), "t.pt"), file);
}

TEST(TorchCheckpoint, EveryTruncationFailsCleanly) {
  gm::io::TensorFile file;
  file.tensors = {{"w", torch::randn({4, 3})}};
  const std::string bytes = gm::io::encode_torch_checkpoint(file);
  for (size_t keep = 0; keep < bytes.size(); ++keep)
    EXPECT_THROW(gm::io::parse_torch_checkpoint(bytes.substr(0, keep), "cut"), gm::Error) << keep;
}

TEST(Zip, Crc32OfTheCheckValue) {
  // The standard check value of CRC-32/ISO-HDLC.
  EXPECT_EQ(gm::io::crc32("123456789", 9), 0xcbf43926u);
}

TEST(Safetensors, EveryTruncationFailsCleanly) {
  gm::io::TensorFile file;
  file.tensors = {{"w", torch::randn({4, 3})}, {"b", torch::randn({3})}};
  const std::string bytes = gm::io::encode_safetensors(file);
  for (size_t keep = 0; keep < bytes.size(); ++keep)
    EXPECT_THROW(gm::io::parse_safetensors(bytes.substr(0, keep), "cut"), gm::Error) << keep;
}

TEST(Safetensors, RefusesTypesItCannotWrite) {
  gm::io::TensorFile file;
  file.tensors = {{"c", torch::zeros({2}, torch::kComplexFloat)}};
  EXPECT_THROW(gm::io::encode_safetensors(file), gm::Error);
}

}  // namespace
