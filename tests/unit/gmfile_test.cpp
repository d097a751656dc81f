#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/output.hpp"
#include "gm/io/sha256.hpp"
#include "test_util.hpp"

namespace {

std::vector<std::string> folder_entries(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void write_dataset(const std::string& path, const gm::Context& context, const std::vector<nlohmann::json>& inputs) {
  gm::io::H5Output out(path, {});
  gm::io::stamp(out.root(), gm::io::Kind::dataset, context, inputs);
  gm::io::create_rows(out.root(), "x", torch::kFloat, {2}).append(torch::ones({4, 2}));
  out.commit();
}

TEST(GmFile, ProvenanceChainsThroughInputs) {
  gm::test::TempDir dir;
  gm::Context context;
  context.command_line = "gm-sample toy:ring8 -n 4 -o a.h5";
  const std::string a = dir.file("a.h5"), b = dir.file("b.h5");
  write_dataset(a, context, {gm::io::source_record("toy:ring8", {{"seed", 0}})});
  const gm::io::Input first = gm::io::open_gm(a, {gm::io::Kind::dataset});
  EXPECT_EQ(first.record["sha256"], gm::io::sha256_file(a));
  EXPECT_EQ(first.record["created_by"], context.command_line);
  context.command_line = "gm-convert a.h5 b.h5";
  write_dataset(b, context, {first.record});
  const gm::io::Input second = gm::io::open_gm(b, {});
  const auto& chain = second.record["provenance"]["inputs"][0];
  EXPECT_EQ(chain["path"], a);
  EXPECT_EQ(chain["provenance"]["inputs"][0]["source"], "toy:ring8");
  const auto root = second.file.root();
  EXPECT_EQ(root.string_attr("gm_format"), "gm/1");
  EXPECT_EQ(root.string_attr("gm_kind"), "dataset");
  EXPECT_EQ(root.string_attr("created_at").size(), 20u);
}

TEST(GmFile, RefusesOtherKindsAndForeignFiles) {
  gm::test::TempDir dir;
  const std::string a = dir.file("a.h5");
  write_dataset(a, gm::Context{}, {});
  EXPECT_THROW(gm::io::open_gm(a, {gm::io::Kind::model}), gm::Error);
  const std::string plain = dir.file("plain.h5");
  gm::h5::File::create(plain).close();
  EXPECT_THROW(gm::io::open_gm(plain, {}), gm::Error);
}

TEST(GmFile, NamedTensorsRoundTripWithDottedNames) {
  gm::test::TempDir dir;
  const std::map<std::string, torch::Tensor> tensors = {{"net.0.weight", torch::randn({3, 2})},
                                                        {"net.0.bias", torch::randn({3})}};
  auto file = gm::h5::File::create(dir.file("m.h5"));
  gm::io::write_tensors(file.root().create_group("params"), tensors);
  const auto back = gm::io::read_tensors(file.root().group("params"));
  ASSERT_EQ(back.size(), 2u);
  for (const auto& [name, t] : tensors) EXPECT_TRUE(torch::equal(back.at(name), t)) << name;
  EXPECT_THROW(gm::io::write_tensors(file.root(), {{"a/b", torch::ones(1)}}), gm::Error);
}

TEST(Output, NothingAppearsUnlessCommitted) {
  gm::test::TempDir dir;
  const std::string target = dir.file("out.h5");
  {
    gm::io::H5Output out(target, {});
    gm::io::create_rows(out.root(), "x", torch::kFloat, {2}).append(torch::ones({4, 2}));
    // Abandoned, as when a later step throws.
  }
  EXPECT_TRUE(folder_entries(dir.path()).empty());
  std::ofstream(target) << "precious";
  {
    gm::io::H5Output out(target, {});
  }
  std::ifstream in(target);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "precious");  // an earlier file survives a failed run
  {
    gm::io::H5Output out(target, {});
    gm::io::stamp(out.root(), gm::io::Kind::dataset, gm::Context{}, {});
    out.commit();
  }
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"out.h5"});
  EXPECT_NO_THROW(gm::io::open_gm(target, {gm::io::Kind::dataset}));
}

TEST(Output, RefusesToOverwriteAnInput) {
  gm::test::TempDir dir;
  const std::string a = dir.file("a.h5");
  write_dataset(a, gm::Context{}, {});
  std::filesystem::create_symlink(a, dir.file("alias.h5"));
  EXPECT_THROW(gm::io::H5Output(dir.file("alias.h5"), {a}), gm::UsageError);
  EXPECT_THROW(gm::io::write_output(a, {a}, "bytes"), gm::UsageError);
}

TEST(Output, ByteOutputsAreAtomicToo) {
  gm::test::TempDir dir;
  const std::string target = dir.file("t.bin");
  gm::io::write_output(target, {}, "hello");
  std::ifstream in(target);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "hello");
  EXPECT_EQ(folder_entries(dir.path()), std::vector<std::string>{"t.bin"});
  EXPECT_THROW(gm::io::write_output(dir.file("missing/t.bin"), {}, "x"), gm::Error);
}

}  // namespace
