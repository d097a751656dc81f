#include <gtest/gtest.h>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/io/safetensors.hpp"

namespace {

TEST(Safetensors, EveryDtypeRoundTripsBitExact) {
  gm::io::Safetensors file;
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
  const std::string bytes = gm::io::encode_safetensors(file);
  // The header is padded to 8 bytes, so the data starts aligned.
  std::uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(header % 8, 0u);
  const gm::io::Safetensors back = gm::io::parse_safetensors(bytes, "t.safetensors");
  EXPECT_EQ(back.metadata, file.metadata);
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (const auto& [name, tensor] : file.tensors) {
    const torch::Tensor& got = back.tensors.at(name);
    EXPECT_EQ(got.scalar_type(), tensor.scalar_type()) << name;
    EXPECT_EQ(got.sizes(), tensor.sizes()) << name;
    EXPECT_TRUE(torch::equal(got, tensor)) << name;
  }
}

TEST(Safetensors, EveryTruncationFailsCleanly) {
  gm::io::Safetensors file;
  file.tensors = {{"w", torch::randn({4, 3})}, {"b", torch::randn({3})}};
  const std::string bytes = gm::io::encode_safetensors(file);
  for (size_t keep = 0; keep < bytes.size(); ++keep)
    EXPECT_THROW(gm::io::parse_safetensors(bytes.substr(0, keep), "cut"), gm::Error) << keep;
}

TEST(Safetensors, RefusesTypesItCannotWrite) {
  gm::io::Safetensors file;
  file.tensors = {{"c", torch::zeros({2}, torch::kComplexFloat)}};
  EXPECT_THROW(gm::io::encode_safetensors(file), gm::Error);
}

}  // namespace
