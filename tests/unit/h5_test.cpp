#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/io/h5.hpp"
#include "test_util.hpp"

namespace {

TEST(H5, TensorsRoundTripInEveryStoredType) {
  gm::test::TempDir dir;
  const std::string path = dir.file("types.h5");
  const std::vector<torch::Tensor> tensors = {
      torch::randn({3, 4}), torch::randn({5}).to(torch::kDouble), torch::randn({2, 3}).to(torch::kHalf),
      torch::arange(-5, 5, torch::kLong), torch::arange(0, 255, torch::kLong).to(torch::kByte),
      torch::arange(-7, 7, torch::kInt)};
  {
    auto file = gm::h5::File::create(path);
    for (size_t i = 0; i < tensors.size(); ++i) file.root().write("t" + std::to_string(i), tensors[i]);
    file.close();
  }
  auto file = gm::h5::File::open(path);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor back = file.root().dataset("t" + std::to_string(i)).read();
    EXPECT_EQ(back.scalar_type(), tensors[i].scalar_type()) << i;
    EXPECT_TRUE(torch::equal(back, tensors[i])) << i;
  }
}

TEST(H5, WidensTypesHdf5LacksLosslessly) {
  gm::test::TempDir dir;
  auto file = gm::h5::File::create(dir.file("b.h5"));
  const torch::Tensor bf = torch::randn({4}).to(torch::kBFloat16);
  file.root().write("bf", bf);
  file.root().write("flags", torch::tensor({true, false, true}));
  EXPECT_TRUE(torch::equal(file.root().dataset("bf").read(), bf.to(torch::kFloat)));
  EXPECT_TRUE(torch::equal(file.root().dataset("flags").read(), torch::tensor({1, 0, 1}, torch::kByte)));
}

TEST(H5, AppendsAndReadsSlicesAlongTheFirstAxis) {
  gm::test::TempDir dir;
  auto file = gm::h5::File::create(dir.file("rows.h5"));
  const auto ds = file.root().create_dataset("x", torch::kFloat, {0, 3}, gm::h5::Layout{true, 4});
  const torch::Tensor all = torch::arange(30, torch::kFloat).view({10, 3});
  ds.append(all.slice(0, 0, 7));
  ds.append(all.slice(0, 7, 10));
  EXPECT_EQ(ds.shape(), (std::vector<std::int64_t>{10, 3}));
  EXPECT_TRUE(ds.extendable());
  EXPECT_TRUE(torch::equal(ds.read(), all));
  EXPECT_TRUE(torch::equal(ds.read_rows(3, 4), all.slice(0, 3, 7)));
  ds.write_rows(2, torch::zeros({1, 3}));
  EXPECT_EQ(ds.read_rows(2, 1).sum().item<float>(), 0.0f);
}

TEST(H5, RejectsOutOfRangeAndMismatchedRows) {
  gm::test::TempDir dir;
  auto file = gm::h5::File::create(dir.file("bad.h5"));
  const auto ds = file.root().create_dataset("x", torch::kFloat, {0, 2}, gm::h5::Layout{true, 0});
  ds.append(torch::zeros({5, 2}));
  EXPECT_THROW(ds.read_rows(3, 5), gm::Error);
  EXPECT_THROW(ds.append(torch::zeros({2, 3})), gm::Error);
  const auto fixed = file.root().write("fixed", torch::zeros({2, 2}));
  EXPECT_THROW(fixed.append(torch::zeros({1, 2})), gm::Error);
}

TEST(H5, AttributesOfEveryKind) {
  gm::test::TempDir dir;
  auto file = gm::h5::File::create(dir.file("attrs.h5"));
  const auto root = file.root();
  root.set_attr("text", "héllo");
  root.set_attr("number", 2.5);
  root.set_attr("count", std::int64_t{42});
  root.set_attr("range", std::vector<double>{-1.0, 1.0});
  root.set_attr("names", std::vector<std::string>{"a", "bb", ""});
  const std::string big(200000, 'j');  // past HDF5's 64 KiB compact-attribute limit
  root.set_attr("big", big);
  root.set_attr("text", "replaced");
  EXPECT_EQ(root.string_attr("text"), "replaced");
  EXPECT_EQ(root.double_attr("number"), 2.5);
  EXPECT_EQ(root.int_attr("count"), 42);
  EXPECT_EQ(root.doubles_attr("range"), (std::vector<double>{-1.0, 1.0}));
  EXPECT_EQ(root.strings_attr("names"), (std::vector<std::string>{"a", "bb", ""}));
  EXPECT_EQ(root.string_attr("big"), big);
  EXPECT_THROW(root.string_attr("missing"), gm::Error);
  EXPECT_THROW(root.int_attr("text"), gm::Error);
}

TEST(H5, NestedGroupsAndDottedNames) {
  gm::test::TempDir dir;
  auto file = gm::h5::File::create(dir.file("groups.h5"));
  file.root().write("params/net.0.weight", torch::ones({2, 2}));
  EXPECT_TRUE(file.root().has_group("params"));
  EXPECT_TRUE(file.root().has_dataset("params/net.0.weight"));
  EXPECT_FALSE(file.root().has("nothing/here"));
  EXPECT_EQ(file.root().group("params").children(), std::vector<std::string>{"net.0.weight"});
}

TEST(H5, OpeningNonHdf5FilesFailsWithTheFileName) {
  gm::test::TempDir dir;
  const std::string junk = dir.file("junk.h5");
  gm::test::write_random_bytes(junk, 4096);
  try {
    gm::h5::File::open(junk);
    FAIL() << "opened junk";
  } catch (const gm::Error& e) {
    EXPECT_NE(std::string(e.what()).find(junk), std::string::npos) << e.what();
  }
  EXPECT_THROW(gm::h5::File::open(dir.file("missing.h5")), gm::Error);
  EXPECT_THROW(gm::h5::File::open_image(std::vector<char>(100, 'x'), "stdin"), gm::Error);
}

TEST(H5, ReadsFilesThatH5pyWrote) {
  gm::test::TempDir dir;
  const std::string path = dir.file("from_h5py.h5");
  gm::test::run_python(
      "import h5py, numpy as np\n"
      "with h5py.File('" + path + "', 'w') as f:\n"
      "    f['half'] = np.arange(6, dtype=np.float16).reshape(2, 3) / 4\n"
      "    f['u8'] = np.arange(10, dtype=np.uint8)\n"
      "    f['i64'] = np.array([-3, 2**40], dtype=np.int64)\n"
      "    f.create_dataset('grow', data=np.ones((4, 2), np.float32), maxshape=(None, 2), chunks=(2, 2))\n"
      "    f.attrs['vlen'] = 'text'\n"
      "    f.attrs['fixed'] = np.bytes_('fixed')\n"
      "    f.attrs['pair'] = np.array([0.5, 1.5])\n");
  auto file = gm::h5::File::open(path);
  const auto root = file.root();
  EXPECT_TRUE(torch::equal(root.dataset("half").read(), (torch::arange(6).view({2, 3}) / 4.0).to(torch::kHalf)));
  EXPECT_TRUE(torch::equal(root.dataset("u8").read(), torch::arange(10).to(torch::kByte)));
  EXPECT_EQ(root.dataset("i64").read()[1].item<std::int64_t>(), std::int64_t{1} << 40);
  EXPECT_TRUE(root.dataset("grow").extendable());
  EXPECT_EQ(root.string_attr("vlen"), "text");
  EXPECT_EQ(root.string_attr("fixed"), "fixed");
  EXPECT_EQ(root.doubles_attr("pair"), (std::vector<double>{0.5, 1.5}));
}

TEST(H5, H5pyReadsWhatGmWrote) {
  gm::test::TempDir dir;
  const std::string path = dir.file("for_h5py.h5");
  {
    auto file = gm::h5::File::create(path);
    const auto root = file.root();
    root.write("half", torch::tensor({0.5, -2.0, 1024.0}).to(torch::kHalf));
    root.write("u8", torch::arange(3).to(torch::kByte));
    const auto x = root.create_dataset("x", torch::kFloat, {0, 2}, gm::h5::Layout{true, 0});
    x.append(torch::ones({3, 2}));
    root.set_attr("text", "héllo");
    root.set_attr("names", std::vector<std::string>{"a", "b"});
    root.set_attr("big", std::string(100000, 'q'));
    file.close();
  }
  gm::test::run_python(
      "import h5py, numpy as np\n"
      "f = h5py.File('" + path + "', 'r')\n"
      "assert f['half'].dtype == np.float16, f['half'].dtype\n"
      "assert list(f['half'][:]) == [0.5, -2.0, 1024.0]\n"
      "assert f['u8'].dtype == np.uint8\n"
      "assert f['x'].shape == (3, 2) and f['x'].maxshape == (None, 2) and f['x'].chunks is not None\n"
      "assert f.attrs['text'] == 'héllo', f.attrs['text']\n"
      "assert list(f.attrs['names']) == ['a', 'b']\n"
      "assert len(f.attrs['big']) == 100000\n");
}

}  // namespace
