#include "gm/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "gm/base/error.hpp"
#include "gm/base/runtime.hpp"
#include "gm/base/shape.hpp"

namespace gm::eval {

nlohmann::json ModeMetrics::to_json() const {
  return {{"modes", modes}, {"hq", hq}, {"rkl", rkl}, {"tail_modes", tail_modes}, {"tail_total", tail_total}};
}

std::vector<std::int64_t> tail_modes(const data::ToySpec& spec) {
  std::vector<std::int64_t> order(spec.weights.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
    return spec.weights[a] != spec.weights[b] ? spec.weights[a] < spec.weights[b] : a > b;
  });
  const auto take = static_cast<size_t>(std::ceil(0.2 * static_cast<double>(order.size())));
  order.resize(take);
  return order;
}

ModeMetrics mode_metrics(const torch::Tensor& samples, const data::ToySpec& spec) {
  if (samples.dim() != 2 || samples.size(1) != 2) fail("mode metrics need 2-D points, got shape {}", shape_text(samples.sizes()));
  const auto modes = static_cast<std::int64_t>(spec.centers.size());
  std::vector<double> flat;
  for (const auto& c : spec.centers) flat.insert(flat.end(), c.begin(), c.end());
  const torch::Tensor centers = torch::tensor(flat, torch::kDouble).view({modes, 2});
  const torch::Tensor x = samples.to(torch::kDouble);
  ModeMetrics m;
  m.tail_total = static_cast<std::int64_t>(tail_modes(spec).size());
  if (x.size(0) == 0) return m;
  const auto [distance, nearest] = torch::cdist(x, centers).min(1);
  const torch::Tensor good = distance < 3.0 * spec.sd;
  m.hq = good.to(torch::kDouble).mean().item<double>();
  const torch::Tensor counts = torch::bincount(nearest.masked_select(good), {}, modes).to(torch::kDouble);
  const torch::Tensor covered = counts > 0;
  m.modes = covered.sum().item<std::int64_t>();
  const double total = counts.sum().item<double>();
  if (total > 0) {
    const torch::Tensor p = counts / total;
    const torch::Tensor w = torch::tensor(spec.weights, torch::kDouble);
    m.rkl = torch::where(covered, p * torch::log(p / w), torch::zeros_like(p)).sum().item<double>();
  }
  const auto covered_flags = covered.to(torch::kLong);
  for (std::int64_t mode : tail_modes(spec)) m.tail_modes += covered_flags[mode].item<std::int64_t>();
  return m;
}

double frechet_distance(const torch::Tensor& features1, const torch::Tensor& features2) {
  if (features1.dim() != 2 || features2.dim() != 2 || features1.size(1) != features2.size(1))
    fail("Fréchet distance needs two [N, D] feature sets of the same D, got {} and {}", shape_text(features1.sizes()),
         shape_text(features2.sizes()));
  if (features1.size(0) < 2 || features2.size(0) < 2) fail("Fréchet distance needs at least 2 rows in each set");
  auto moments = [](const torch::Tensor& f) {
    const torch::Tensor x = f.to(torch::kDouble);
    const torch::Tensor mean = x.mean(0);
    const torch::Tensor centred = x - mean;
    return std::make_pair(mean, centred.t().mm(centred) / static_cast<double>(x.size(0) - 1));
  };
  const auto [mu1, s1] = moments(features1);
  const auto [mu2, s2] = moments(features2);
  // tr((S1 S2)^(1/2)) = sum of sqrt(eig(S1^(1/2) S2 S1^(1/2))), a symmetric PSD matrix, which
  // is stabler than a general matrix square root and equals scipy's sqrtm trace for PSD inputs.
  const auto [e1, v1] = torch::linalg::eigh(s1, "L");
  const torch::Tensor root1 = v1.mm(torch::diag(e1.clamp_min(0).sqrt())).mm(v1.t());
  const torch::Tensor middle = root1.mm(s2).mm(root1);
  const torch::Tensor eig = torch::linalg::eigvalsh((middle + middle.t()) / 2, "L");
  const double trace_root = eig.clamp_min(0).sqrt().sum().item<double>();
  const double mean_term = (mu1 - mu2).pow(2).sum().item<double>();
  return mean_term + s1.trace().item<double>() + s2.trace().item<double>() - 2.0 * trace_root;
}

nlohmann::json Prdc::to_json() const {
  return {{"precision", precision}, {"recall", recall}, {"density", density}, {"coverage", coverage}};
}

namespace {

// PRDC decides every comparison as float64 squared distances by differences, sum of (a - b)^2,
// which is what NumPy's direct formula computes: the same operands give the same bits, so a
// duplicate row ties with its twin exactly. Computing all N x M of those would be slow; instead
// one matrix product per block approximates them all, through rows augmented so that
// [a, |a|^2, 1] . [-2 b, 1, |b|^2] = |a|^2 + |b|^2 - 2 a.b, and only the pairs whose approximate
// value lies within its error bound of the threshold are recomputed exactly. The product runs in
// float32 (twice float64's speed) for features of 32 dimensions or more. Below that it is
// memory-bound, so float32 saves little, and close neighbours in few dimensions are often closer
// than float32 resolves at their norms: it runs in float64.
struct DistanceRows {
  torch::Tensor exact;        // [N, D] float64, centred
  torch::Tensor left, right;  // [N, D + 2] augmented rows, in the product's type
  torch::Tensor norms;        // [N] float64, |a|^2
};
torch::ScalarType product_type(std::int64_t dim) { return dim >= 32 ? torch::kFloat : torch::kDouble; }
DistanceRows distance_rows(const torch::Tensor& centred) {
  const torch::Tensor norms = centred.pow(2).sum(1), column = norms.unsqueeze(1), ones = torch::ones_like(column);
  const torch::ScalarType type = product_type(centred.size(1));
  return {centred, torch::cat({centred, column, ones}, 1).to(type), torch::cat({-2 * centred, ones, column}, 1).to(type),
          norms};
}
// |product - exact| <= slack x (|a|^2 + |b|^2): rounding of the inputs and of a (D + 2)-term dot
// product whose terms add up to at most 2 (|a|^2 + |b|^2), with a factor 2 to spare.
double slack_factor(std::int64_t dim) {
  const double epsilon = product_type(dim) == torch::kFloat ? std::numeric_limits<float>::epsilon()
                                                            : std::numeric_limits<double>::epsilon();
  return 8.0 * static_cast<double>(dim + 3) * epsilon;
}
// Exact squared distances between row pairs (a[i], b[i]).
torch::Tensor exact_squared(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).pow(2).sum(1); }

// Squared distance from each row to its k-th nearest neighbour in the same set (itself excluded).
// Each row's k + 1 + kSpare nearest by the product are recomputed exactly and the k-th taken from
// those; rows whose list could miss their true k-th (the list's last entry within twice the slack
// of its k-th) are recomputed whole, a few at a time. Blocks of rows go through one buffer: a fresh
// N x chunk allocation per block would be mapped and faulted in anew each time, which cost more
// than the arithmetic.
torch::Tensor knn_radii_squared(const DistanceRows& x, int k, std::int64_t chunk) {
  constexpr std::int64_t kSpare = 3;
  const std::int64_t n = x.exact.size(0), listed = std::min(n, k + 1 + kSpare);
  const torch::Tensor margin = 2 * slack_factor(x.exact.size(1)) * (x.norms + x.norms.max());
  torch::Tensor buffer = torch::empty({std::min(chunk, n), n}, x.left.options());
  std::vector<torch::Tensor> parts;
  for (std::int64_t at = 0; at < n; at += chunk) {
    const std::int64_t stop = std::min(at + chunk, n), rows = stop - at;
    torch::Tensor d = buffer.slice(0, 0, rows);
    torch::mm_out(d, x.left.slice(0, at, stop), x.right.t());
    const auto [values, columns] = d.topk(listed, 1, /*largest=*/false, /*sorted=*/true);
    // The k + 1 smallest include the point itself at distance 0.
    const torch::Tensor exact = (x.exact.slice(0, at, stop).unsqueeze(1) -
                                 x.exact.index_select(0, columns.flatten()).view({rows, listed, -1}))
                                    .pow_(2)
                                    .sum(2);
    torch::Tensor radii = std::get<0>(exact.topk(k + 1, 1, false, true)).select(1, k).contiguous();
    if (listed < n) {
      const torch::Tensor last = values.select(1, listed - 1).to(torch::kDouble);
      const torch::Tensor kth = values.select(1, k).to(torch::kDouble);
      const torch::Tensor redo = (last <= kth + margin.slice(0, at, stop)).nonzero().flatten();
      // Rows per batch so that their [rows, N, D] differences take about 64 MB.
      const std::int64_t batch = std::max<std::int64_t>(1, (8 << 20) / std::max<std::int64_t>(1, n * x.exact.size(1)));
      for (std::int64_t i = 0; i < redo.numel(); i += batch) {
        const torch::Tensor some = redo.slice(0, i, std::min(i + batch, redo.numel()));
        const torch::Tensor all =
            (x.exact.slice(0, at, stop).index_select(0, some).unsqueeze(1) - x.exact.unsqueeze(0)).pow_(2).sum(2);
        radii.index_copy_(0, some, std::get<0>(all.topk(k + 1, 1, false, true)).select(1, k));
      }
    }
    parts.push_back(radii);
  }
  return torch::cat(parts);
}

// Thresholds for `value < radius` from an approximation within +-slack: below `low` is
// surely inside, at or above `high` surely outside, between them recomputed. A ball of radius 0
// holds nothing (strict comparison), so it gets -infinity for both.
struct Band {
  torch::Tensor low, high;  // in the product's type
};
Band band(const torch::Tensor& radii, const torch::Tensor& slack, torch::ScalarType type) {
  const torch::Tensor empty = radii <= 0;
  const auto bound = [&](const torch::Tensor& t) {
    return torch::where(empty, torch::full_like(t, -INFINITY), t).to(type);
  };
  return {bound(radii - slack), bound(radii + slack)};
}

// The pairs (rows, columns) of a block that `surely` and `maybe` (0/1 indicators) disagree on,
// and whether each pair's exact squared distance is below its ball's radius: radii[rows] for balls
// around the rows, radii[columns] for balls around the columns. Overwrites `maybe`.
struct Recheck {
  torch::Tensor rows, columns, inside;
};
Recheck recheck(const torch::Tensor& surely, torch::Tensor& maybe, const torch::Tensor& row_points,
                const torch::Tensor& column_points, const torch::Tensor& radii, bool balls_around_rows) {
  const torch::Tensor pairs = maybe.sub_(surely).nonzero();
  Recheck out{pairs.select(1, 0), pairs.select(1, 1), {}};
  const torch::Tensor d = exact_squared(row_points.index_select(0, out.rows), column_points.index_select(0, out.columns));
  out.inside = d < radii.index_select(0, balls_around_rows ? out.rows : out.columns);
  return out;
}

}  // namespace

Prdc prdc(const torch::Tensor& real_in, const torch::Tensor& fake_in, int k, std::int64_t chunk) {
  const BlasThreadsForLargeProducts blas_threads;
  const torch::Tensor real = real_in.flatten(1).to(torch::kDouble), fake = fake_in.flatten(1).to(torch::kDouble);
  if (real.size(1) != fake.size(1)) fail("PRDC needs features of the same size, got {} and {}", real.size(1), fake.size(1));
  if (k < 1 || real.size(0) <= k || fake.size(0) <= k)
    fail("PRDC with k={} needs more than {} rows in each set, got {} and {}", k, k, real.size(0), fake.size(0));
  // Distances do not change under a shift; centring keeps |a|^2 + |b|^2 - 2 a.b from cancelling
  // away float32's digits when the features sit far from the origin.
  const torch::Tensor centre = real.mean(0, true);
  const DistanceRows reals = distance_rows(real - centre), fakes = distance_rows(fake - centre);
  const torch::Tensor real_radii = knn_radii_squared(reals, k, chunk), fake_radii = knn_radii_squared(fakes, k, chunk);
  const double slack = slack_factor(real.size(1));
  torch::Tensor fake_in_real = torch::zeros({fake.size(0)}, torch::kBool);  // precision
  torch::Tensor real_in_fake = torch::zeros({real.size(0)}, torch::kBool);  // recall
  torch::Tensor covered = torch::zeros({real.size(0)}, torch::kBool);       // coverage
  double density_count = 0;
  // Blocks of fake columns against every real row, through reused buffers (see knn_radii_squared).
  // The indicators are float 0/1 rather than bool: their row and column counts are then
  // matrix-vector products, several times faster than LibTorch's bool reductions, and exact up to
  // 2^24 rows.
  const std::int64_t n = real.size(0), width = std::min(chunk, fake.size(0));
  torch::Tensor d = torch::empty({n, width}, reals.left.options());
  torch::Tensor surely = torch::empty_like(d), maybe = torch::empty_like(d);
  const torch::Tensor ones_n = torch::ones({n}, d.options()), ones_c = torch::ones({width}, d.options());
  for (std::int64_t at = 0; at < fake.size(0); at += chunk) {
    const std::int64_t stop = std::min(at + chunk, fake.size(0)), columns = stop - at;
    if (columns != d.size(1)) {
      d = torch::empty({n, columns}, d.options());
      surely = torch::empty_like(d);
      maybe = torch::empty_like(d);
    }
    const torch::Tensor block = fakes.exact.slice(0, at, stop), per_row = ones_c.slice(0, 0, columns);
    torch::mm_out(d, reals.left, fakes.right.slice(0, at, stop).t());  // about the squared distances, [N, c]
    // Real balls around each fake row: precision needs one, density counts them all, coverage
    // marks the real rows with a fake row inside their ball.
    const Band real_band = band(real_radii, slack * (reals.norms + fakes.norms.slice(0, at, stop).max()), d.scalar_type());
    torch::lt_out(surely, d, real_band.low.unsqueeze(1));
    torch::lt_out(maybe, d, real_band.high.unsqueeze(1));
    const torch::Tensor holding_surely = surely.t().mv(ones_n), covering_surely = surely.mv(per_row);
    const Recheck in_real = recheck(surely, maybe, reals.exact, block, real_radii, true);
    const torch::Tensor holding =
        holding_surely.to(torch::kLong).index_add_(0, in_real.columns, in_real.inside.to(torch::kLong));
    fake_in_real.slice(0, at, stop).copy_(holding > 0);
    density_count += holding.sum().item<double>();
    covered |= covering_surely > 0;
    covered.index_put_({in_real.rows.masked_select(in_real.inside)}, true);
    // Fake balls holding each real row: recall.
    const torch::Tensor radii = fake_radii.slice(0, at, stop);
    const Band fake_band = band(radii, slack * (reals.norms.max() + fakes.norms.slice(0, at, stop)), d.scalar_type());
    torch::lt_out(surely, d, fake_band.low.unsqueeze(0));
    torch::lt_out(maybe, d, fake_band.high.unsqueeze(0));
    real_in_fake |= surely.mv(per_row) > 0;
    const Recheck in_fake = recheck(surely, maybe, reals.exact, block, radii, false);
    real_in_fake.index_put_({in_fake.rows.masked_select(in_fake.inside)}, true);
  }
  Prdc out;
  out.precision = fake_in_real.to(torch::kDouble).mean().item<double>();
  out.recall = real_in_fake.to(torch::kDouble).mean().item<double>();
  out.density = density_count / (static_cast<double>(k) * static_cast<double>(fake.size(0)));
  out.coverage = covered.to(torch::kDouble).mean().item<double>();
  out.real_recalled = real_in_fake;
  return out;
}

Kid kid(const torch::Tensor& real_in, const torch::Tensor& fake_in, std::int64_t subsets, std::int64_t subset_size,
        std::uint64_t seed) {
  const BlasThreadsForLargeProducts blas_threads;
  const torch::Tensor real = real_in.flatten(1).to(torch::kDouble), fake = fake_in.flatten(1).to(torch::kDouble);
  if (real.size(1) != fake.size(1)) fail("KID needs features of the same size, got {} and {}", real.size(1), fake.size(1));
  const std::int64_t m = std::min({subset_size, real.size(0), fake.size(0)});
  if (m < 2 || subsets < 1) fail("KID needs at least 2 rows in each set");
  const double d = static_cast<double>(real.size(1));
  at::Generator generator = at::detail::createCPUGenerator(seed);
  std::vector<double> values;
  // The three m x m kernels of every subset go through the same buffers: fresh ones per subset
  // were page-faulted in anew each time, which cost more than the products.
  torch::Tensor kxx = torch::empty({m, m}, real.options()), kyy = torch::empty_like(kxx), kxy = torch::empty_like(kxx);
  for (std::int64_t s = 0; s < subsets; ++s) {
    const torch::Tensor x = real.index_select(0, torch::randperm(real.size(0), generator, torch::kLong).slice(0, 0, m));
    const torch::Tensor y = fake.index_select(0, torch::randperm(fake.size(0), generator, torch::kLong).slice(0, 0, m));
    const auto kernel = [d](torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b) {
      torch::mm_out(out, a, b.t()).div_(d).add_(1).pow_(3);
    };
    kernel(kxx, x, x);
    kernel(kyy, y, y);
    kernel(kxy, x, y);
    const double mm = static_cast<double>(m);
    const double within = ((kxx.sum() - kxx.diagonal().sum()) + (kyy.sum() - kyy.diagonal().sum())).item<double>() / (mm * (mm - 1));
    values.push_back(within - 2 * kxy.sum().item<double>() / (mm * mm));
  }
  const torch::Tensor v = torch::tensor(values, torch::kDouble);
  return {v.mean().item<double>(), values.size() > 1 ? v.std(/*unbiased=*/false).item<double>() : 0.0};
}

nlohmann::json ClassMetrics::to_json(const std::vector<std::string>& names) const {
  nlohmann::json recall = nlohmann::json::object();
  for (size_t c = 0; c < class_recall.size(); ++c)
    recall[c < names.size() ? names[c] : std::to_string(c)] = std::isnan(class_recall[c]) ? nlohmann::json(nullptr) : nlohmann::json(class_recall[c]);
  return {{"classes_covered", classes_covered}, {"classes", classes}, {"class_kl", class_kl},
          {"class_recall", recall}, {"tail_class_recall", tail_recall}, {"tail_classes", tail_classes}};
}

ClassMetrics class_metrics(const torch::Tensor& predicted, const torch::Tensor& reference, const torch::Tensor& recalled,
                           std::int64_t classes, std::int64_t tail) {
  ClassMetrics m;
  m.classes = classes;
  const torch::Tensor p_counts = torch::bincount(predicted.to(torch::kLong), {}, classes).to(torch::kDouble);
  const torch::Tensor q_counts = torch::bincount(reference.to(torch::kLong), {}, classes).to(torch::kDouble);
  m.classes_covered = (p_counts > 0).sum().item<std::int64_t>();
  if (p_counts.sum().item<double>() > 0 && q_counts.sum().item<double>() > 0) {
    const torch::Tensor p = p_counts / p_counts.sum(), q = q_counts / q_counts.sum();
    // A class the reference lacks makes the divergence infinite, as it should.
    m.class_kl = torch::where(p > 0, p * torch::log(p / q), torch::zeros_like(p)).sum().item<double>();
  }
  const torch::Tensor hits = torch::zeros({classes}, torch::kDouble).index_add_(
      0, reference.to(torch::kLong), recalled.to(torch::kDouble));
  for (std::int64_t c = 0; c < classes; ++c) {
    const double n = q_counts[c].item<double>();
    m.class_recall.push_back(n > 0 ? hits[c].item<double>() / n : std::nan(""));
  }
  std::vector<std::int64_t> present;
  for (std::int64_t c = 0; c < classes; ++c)
    if (q_counts[c].item<double>() > 0) present.push_back(c);
  std::stable_sort(present.begin(), present.end(),
                   [&](std::int64_t a, std::int64_t b) { return q_counts[a].item<double>() < q_counts[b].item<double>(); });
  present.resize(std::min<size_t>(present.size(), static_cast<size_t>(tail)));
  m.tail_classes = present;
  double sum = 0;
  for (std::int64_t c : present) sum += m.class_recall[static_cast<size_t>(c)];
  m.tail_recall = present.empty() ? 0.0 : sum / static_cast<double>(present.size());
  return m;
}

}  // namespace gm::eval
