#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/data/philox.hpp"
#include "gm/data/toy.hpp"

namespace {

TEST(Philox, MatchesTheRandom123KnownAnswers) {
  // Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
  EXPECT_EQ(gm::data::philox4x32({0, 0, 0, 0}, {0, 0}),
            (gm::data::PhiloxBlock{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(gm::data::philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}),
            (gm::data::PhiloxBlock{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(gm::data::philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}),
            (gm::data::PhiloxBlock{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(Toy, SpecsFollowTheDesign) {
  const auto ring = gm::data::toy_spec("toy:ring8");
  ASSERT_EQ(ring.centers.size(), 8u);
  EXPECT_NEAR(ring.centers[2][0], 0.0, 1e-12);
  EXPECT_NEAR(ring.centers[2][1], 1.0, 1e-12);
  EXPECT_EQ(ring.sd, 0.01);
  const auto grid = gm::data::toy_spec("toy:grid25");
  ASSERT_EQ(grid.centers.size(), 25u);
  EXPECT_EQ(grid.centers[7], (std::array<double, 2>{-2.0, 0.0}));  // (-4 + 2*floor(7/5), -4 + 2*(7 mod 5))
  EXPECT_EQ(grid.sd, 0.05);
  for (double w : grid.weights) EXPECT_NEAR(w, 1.0 / 25, 1e-15);
  const auto lt = gm::data::toy_spec("toy:grid25-lt100");
  EXPECT_NEAR(lt.weights.front() / lt.weights.back(), 100.0, 1e-9);
  EXPECT_NEAR(lt.weights[0] / lt.weights[12], std::pow(100.0, 0.5), 1e-9);
  EXPECT_THROW(gm::data::toy_spec("toy:moons"), gm::UsageError);
  EXPECT_THROW(gm::data::toy_spec("toy:grid25-ltx"), gm::UsageError);
  EXPECT_THROW(gm::data::toy_spec("toy:grid25-lt0.5"), gm::UsageError);
}

TEST(Toy, RowsDependOnlyOnSeedAndIndex) {
  const auto spec = gm::data::toy_spec("toy:grid25");
  const auto all = gm::data::toy_rows(spec, 7, 0, 1000);
  const auto part = gm::data::toy_rows(spec, 7, 400, 700);
  EXPECT_TRUE(torch::equal(all.x.slice(0, 400, 700), part.x));
  EXPECT_TRUE(torch::equal(all.y.slice(0, 400, 700), part.y));
  EXPECT_FALSE(torch::equal(gm::data::toy_rows(spec, 8, 0, 1000).x, all.x));
  EXPECT_FALSE(torch::equal(gm::data::toy_rows(spec, 7, 0, 1000, gm::data::kReferenceStream).x, all.x));
}

TEST(Toy, SamplesHaveTheModesWeightsAndSpread) {
  const auto spec = gm::data::toy_spec("toy:grid25-lt100");
  const std::int64_t n = 200000;
  const auto rows = gm::data::toy_rows(spec, 3, 0, n);
  const torch::Tensor counts = torch::bincount(rows.y, {}, 25).to(torch::kDouble) / n;
  for (int m = 0; m < 25; ++m) {
    const double w = spec.weights[m];
    EXPECT_NEAR(counts[m].item<double>(), w, 5 * std::sqrt(w * (1 - w) / n)) << "mode " << m;
  }
  // Offsets from the assigned centre are N(0, sd^2) in each coordinate.
  std::vector<double> flat;
  for (const auto& c : spec.centers) flat.insert(flat.end(), c.begin(), c.end());
  const torch::Tensor centers = torch::tensor(flat, torch::kDouble).view({25, 2});
  const torch::Tensor offsets = rows.x.to(torch::kDouble) - centers.index_select(0, rows.y);
  EXPECT_NEAR(offsets.mean().item<double>(), 0.0, 0.001);
  EXPECT_NEAR(offsets.std().item<double>(), spec.sd, 0.001);
}

}  // namespace
