#include <gtest/gtest.h>

#include "gm/base/error.hpp"
#include "gm/distill/progressive.hpp"
#include "gm/models/edm.hpp"

namespace {

TEST(Progressive, EachRoundKeepsEveryOtherSigma) {
  const auto grids = gm::distill::progressive_grids(16, 2, 0.002, 80, 7);
  ASSERT_EQ(grids.size(), 4u);  // 16 -> 8 -> 4 -> 2
  gm::models::EdmConfig config;
  EXPECT_EQ(grids[0], gm::models::karras_sigmas(16, config));
  for (size_t r = 1; r < grids.size(); ++r) {
    ASSERT_EQ(grids[r].size() - 1, (grids[r - 1].size() - 1) / 2);
    for (size_t i = 0; i < grids[r].size(); ++i) EXPECT_EQ(grids[r][i], grids[r - 1][2 * i]);
  }
  EXPECT_EQ(grids.back().front(), 80.0);
  EXPECT_EQ(grids.back().back(), 0.0);
  EXPECT_THROW(gm::distill::progressive_grids(12, 1, 0.002, 80, 7), gm::UsageError);  // 12 -> 6 -> 3
  EXPECT_THROW(gm::distill::progressive_grids(8, 8, 0.002, 80, 7), gm::UsageError);
}

}  // namespace
