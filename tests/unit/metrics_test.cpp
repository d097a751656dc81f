#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/data/toy.hpp"
#include "gm/eval/metrics.hpp"
#include "gm/io/h5.hpp"
#include "test_util.hpp"

namespace {

TEST(ModeMetrics, TrueDataCoversEveryModeAtTheGaussianRate) {
  const auto spec = gm::data::toy_spec("toy:grid25");
  const auto rows = gm::data::toy_rows(spec, 1, 0, 50000);
  const auto m = gm::eval::mode_metrics(rows.x, spec);
  EXPECT_EQ(m.modes, 25);
  EXPECT_EQ(m.tail_modes, 5);
  // P(|offset| < 3 sd) for a 2-D isotropic Gaussian is 1 - exp(-9/2).
  EXPECT_NEAR(m.hq, 1 - std::exp(-4.5), 0.002);
  EXPECT_LT(m.rkl, 0.002);
}

TEST(ModeMetrics, CollapseShowsInModesRklAndTail) {
  const auto spec = gm::data::toy_spec("toy:grid25-lt100");
  // Every sample on mode 0's centre, the head of the long tail.
  const auto x = torch::tensor({-4.0, -4.0}).repeat({100, 1});
  const auto m = gm::eval::mode_metrics(x, spec);
  EXPECT_EQ(m.modes, 1);
  EXPECT_DOUBLE_EQ(m.hq, 1.0);
  EXPECT_NEAR(m.rkl, std::log(1.0 / spec.weights[0]), 1e-12);
  EXPECT_EQ(m.tail_modes, 0);
  EXPECT_EQ(gm::eval::tail_modes(spec), (std::vector<std::int64_t>{24, 23, 22, 21, 20}));
  // Far from every centre: nothing is high quality.
  const auto far = gm::eval::mode_metrics(torch::full({10, 2}, 100.0), spec);
  EXPECT_EQ(far.modes, 0);
  EXPECT_EQ(far.hq, 0.0);
}

TEST(Frechet, ClosedFormForDiagonalGaussians) {
  // Large samples of N(mu, diag(s^2)): FD -> |mu1 - mu2|^2 + sum (s1 - s2)^2.
  torch::manual_seed(0);
  const auto a = torch::randn({200000, 3}, torch::kDouble) * torch::tensor({1.0, 2.0, 0.5}, torch::kDouble);
  const auto b = torch::randn({200000, 3}, torch::kDouble) * torch::tensor({1.5, 2.0, 1.0}, torch::kDouble) + 1.0;
  const double expected = 3.0 + 0.25 + 0.0 + 0.25;
  EXPECT_NEAR(gm::eval::frechet_distance(a, b), expected, 0.03);
  EXPECT_NEAR(gm::eval::frechet_distance(a, a), 0.0, 1e-9);
}

TEST(Frechet, AgreesWithPytorchFidFormulaInScipy) {
  gm::test::TempDir dir;
  torch::manual_seed(1);
  const auto a = torch::randn({500, 8}, torch::kDouble);
  const auto b = torch::randn({400, 8}, torch::kDouble).mm(torch::randn({8, 8}, torch::kDouble) * 0.5) + 0.3;
  {
    auto file = gm::h5::File::create(dir.file("f.h5"));
    file.root().write("a", a);
    file.root().write("b", b);
    file.close();
  }
  const std::string ours = fmt::format("{:.17g}", gm::eval::frechet_distance(a, b));
  // pytorch-fid's calculate_frechet_distance: scipy.linalg.sqrtm of the covariance product.
  gm::test::run_python(
      "import h5py, numpy as np, scipy.linalg\n"
      "f = h5py.File('" + dir.file("f.h5") + "', 'r')\n"
      "a, b = f['a'][:], f['b'][:]\n"
      "m1, m2 = a.mean(0), b.mean(0)\n"
      "s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)\n"
      "covmean, _ = scipy.linalg.sqrtm(s1.dot(s2), disp=False)\n"
      "fd = ((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean.real)\n"
      "assert abs(fd - " + ours + ") <= 1e-6 * abs(fd), (fd, " + ours + ")\n");
}

}  // namespace

namespace {

// gm's PRDC against the prdc package's formulas in NumPy (float64 throughout), on `real` and `fake`.
void expect_prdc_as_numpy(const torch::Tensor& real, const torch::Tensor& fake) {
  gm::test::TempDir dir;
  {
    auto file = gm::h5::File::create(dir.file("f.h5"));
    file.root().write("real", real);
    file.root().write("fake", fake);
    file.close();
  }
  // Small chunks exercise the blockwise accumulation.
  const auto ours = gm::eval::prdc(real, fake, 5, 64);
  const auto text = [](double v) { return fmt::format("{:.17g}", v); };
  // The prdc package (Naeem et al. 2020), restated with NumPy.
  gm::test::run_python(
      "import h5py, numpy as np\n"
      "f = h5py.File('" + dir.file("f.h5") + "', 'r')\n"
      "real, fake, k = f['real'][:], f['fake'][:], 5\n"
      "def dist(a, b): return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))\n"
      "def radii(x): return np.partition(dist(x, x), k, axis=-1)[:, k]\n"
      "rr, fr, d = radii(real), radii(fake), dist(real, fake)\n"
      "precision = (d < rr[:, None]).any(axis=0).mean()\n"
      "recall = (d < fr[None, :]).any(axis=1).mean()\n"
      "density = (1.0 / k) * (d < rr[:, None]).sum(axis=0).mean()\n"
      "coverage = (d.min(axis=1) < rr).mean()\n"
      "ours = [" + text(ours.precision) + ", " + text(ours.recall) + ", " + text(ours.density) + ", " +
      text(ours.coverage) + "]\n"
      "assert np.allclose(ours, [precision, recall, density, coverage], rtol=1e-12, atol=0), (ours, precision, recall, density, coverage)\n");
  EXPECT_GT(ours.precision, 0.0);
  EXPECT_LT(ours.coverage, 1.0);
}

TEST(Prdc, AgreesWithTheAuthorsFormulasInNumpy) {
  torch::manual_seed(2);
  expect_prdc_as_numpy(torch::randn({700, 4}, torch::kDouble), torch::randn({500, 4}, torch::kDouble) * 1.3 + 0.4);
}

TEST(Prdc, AgreesWhereFloat32CannotResolveTheDistances) {
  // Far from the origin, float32 rounds |a|^2 + |b|^2 - 2 a.b to noise: the neighbours must come
  // from the float64 recheck.
  torch::manual_seed(4);
  const auto offset = torch::full({1, 4}, 3000.0, torch::kDouble);
  expect_prdc_as_numpy(offset + 0.01 * torch::randn({700, 4}, torch::kDouble),
                       offset + 0.013 * torch::randn({500, 4}, torch::kDouble));
}

TEST(Prdc, AgreesWithDuplicatesAndTies) {
  // Repeated rows put many neighbours at exactly the k-th distance.
  torch::manual_seed(5);
  const auto base = torch::randint(0, 12, {300, 2}, torch::kLong).to(torch::kDouble);
  expect_prdc_as_numpy(base.repeat({2, 1}), torch::randint(0, 14, {300, 2}, torch::kLong).to(torch::kDouble));
}

TEST(Prdc, IdenticalSetsScorePerfectly) {
  torch::manual_seed(3);
  const auto x = torch::randn({300, 3});
  const auto same = gm::eval::prdc(x, x, 5);
  EXPECT_EQ(same.precision, 1.0);
  EXPECT_EQ(same.recall, 1.0);
  EXPECT_EQ(same.coverage, 1.0);
  EXPECT_THROW(gm::eval::prdc(x.slice(0, 0, 4), x, 5), gm::Error);
}

}  // namespace
