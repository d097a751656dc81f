#include "gm/eval/metrics.hpp"

#include <algorithm>
#include <cmath>
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

// Rows augmented so that one matrix product gives squared Euclidean distances:
// [a, |a|^2, 1] . [-2 b, 1, |b|^2] = |a|^2 + |b|^2 - 2 a.b, the expansion cdist's matrix-multiply
// mode and the prdc package's sklearn use. Folding the norms into the GEMM saves two passes over
// each N x N block. Rounding can leave an exact duplicate slightly below 0; callers clamp radii,
// and compare against balls of positive radius only (nothing is strictly inside a ball of 0).
struct Augmented {
  torch::Tensor left, right;
};
Augmented augment(const torch::Tensor& x) {
  const torch::Tensor norms = x.pow(2).sum(1, true), ones = torch::ones_like(norms);
  return {torch::cat({x, norms, ones}, 1), torch::cat({-2 * x, ones, norms}, 1)};
}
// Squared distance from each row to its k-th nearest neighbour in the same set (itself excluded).
// Blocks of rows go through one buffer: a fresh N x chunk allocation per block would be mapped and
// faulted in anew each time, which cost more than the arithmetic.
torch::Tensor knn_radii_squared(const Augmented& x, int k, std::int64_t chunk) {
  const std::int64_t n = x.left.size(0);
  torch::Tensor buffer = torch::empty({std::min(chunk, n), n}, x.left.options());
  std::vector<torch::Tensor> parts;
  for (std::int64_t at = 0; at < n; at += chunk) {
    const std::int64_t stop = std::min(at + chunk, n);
    torch::Tensor d = buffer.slice(0, 0, stop - at);
    torch::mm_out(d, x.left.slice(0, at, stop), x.right.t());
    // The k+1 smallest include the point itself at distance 0.
    parts.push_back(std::get<0>(d.topk(k + 1, 1, /*largest=*/false, /*sorted=*/true)).select(1, k));
  }
  return torch::cat(parts).clamp_min_(0);
}

// Radii for strict comparisons: a ball of radius 0 holds nothing, so it gets -1.
torch::Tensor strict_radii(const torch::Tensor& squared) {
  return torch::where(squared > 0, squared, torch::full_like(squared, -1.0));
}

}  // namespace

Prdc prdc(const torch::Tensor& real_in, const torch::Tensor& fake_in, int k, std::int64_t chunk) {
  const BlasThreadsForLargeProducts blas_threads;
  const torch::Tensor real = real_in.flatten(1).to(torch::kDouble), fake = fake_in.flatten(1).to(torch::kDouble);
  if (real.size(1) != fake.size(1)) fail("PRDC needs features of the same size, got {} and {}", real.size(1), fake.size(1));
  if (k < 1 || real.size(0) <= k || fake.size(0) <= k)
    fail("PRDC with k={} needs more than {} rows in each set, got {} and {}", k, k, real.size(0), fake.size(0));
  const Augmented real_rows = augment(real), fake_rows = augment(fake);
  const torch::Tensor real_radii = strict_radii(knn_radii_squared(real_rows, k, chunk));
  const torch::Tensor fake_radii = strict_radii(knn_radii_squared(fake_rows, k, chunk));
  torch::Tensor fake_in_real = torch::zeros({fake.size(0)}, torch::kBool);   // precision
  torch::Tensor real_in_fake = torch::zeros({real.size(0)}, torch::kBool);   // recall
  torch::Tensor nearest_fake = torch::full({real.size(0)}, INFINITY, torch::kDouble);  // coverage
  double density_count = 0;
  // Blocks of fake rows against every real row, through reused buffers (see knn_radii_squared).
  const std::int64_t width = std::min(chunk, fake.size(0));
  torch::Tensor distances = torch::empty({real.size(0), width}, real.options());
  torch::Tensor inside = torch::empty({real.size(0), width}, real.options().dtype(torch::kBool));
  for (std::int64_t at = 0; at < fake.size(0); at += chunk) {
    const std::int64_t stop = std::min(at + chunk, fake.size(0));
    if (stop - at != distances.size(1)) {
      distances = torch::empty({real.size(0), stop - at}, real.options());
      inside = torch::empty({real.size(0), stop - at}, real.options().dtype(torch::kBool));
    }
    torch::mm_out(distances, real_rows.left, fake_rows.right.slice(0, at, stop).t());  // squared, [N, c]
    // Real balls holding each fake row: precision needs one, density counts them all.
    torch::lt_out(inside, distances, real_radii.unsqueeze(1));
    const torch::Tensor holding = inside.sum(0);
    fake_in_real.slice(0, at, stop).copy_(holding > 0);
    density_count += holding.sum().item<double>();
    torch::lt_out(inside, distances, fake_radii.slice(0, at, stop).unsqueeze(0));
    real_in_fake |= inside.any(1);
    nearest_fake = torch::minimum(nearest_fake, std::get<0>(distances.min(1)));
  }
  Prdc out;
  out.precision = fake_in_real.to(torch::kDouble).mean().item<double>();
  out.recall = real_in_fake.to(torch::kDouble).mean().item<double>();
  out.density = density_count / (static_cast<double>(k) * static_cast<double>(fake.size(0)));
  out.coverage = (nearest_fake < real_radii).to(torch::kDouble).mean().item<double>();
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
  for (std::int64_t s = 0; s < subsets; ++s) {
    const torch::Tensor x = real.index_select(0, torch::randperm(real.size(0), generator, torch::kLong).slice(0, 0, m));
    const torch::Tensor y = fake.index_select(0, torch::randperm(fake.size(0), generator, torch::kLong).slice(0, 0, m));
    const auto kernel = [d](const torch::Tensor& a, const torch::Tensor& b) { return (a.mm(b.t()) / d + 1).pow(3); };
    const torch::Tensor kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
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
