// Sample-quality metrics as pure tensor functions, so tests and tools share one definition.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "gm/data/toy.hpp"

namespace gm::eval {

// The PacGAN protocol on toy data: each sample belongs to its nearest mode centre and is high
// quality within 3 sd of it.
struct ModeMetrics {
  std::int64_t modes = 0;       // modes with at least one high-quality sample
  double hq = 0;                // fraction of all samples that are high quality
  double rkl = 0;               // sum p ln(p/w) over modes with p > 0 (p: high-quality histogram)
  std::int64_t tail_modes = 0;  // covered among the rarest 20% of modes
  std::int64_t tail_total = 0;
  nlohmann::json to_json() const;
};
ModeMetrics mode_metrics(const torch::Tensor& samples, const data::ToySpec& spec);

// The rarest ceil(20%) of the modes: smallest weights, ties broken towards higher indices.
std::vector<std::int64_t> tail_modes(const data::ToySpec& spec);

// Fréchet distance between Gaussians fitted to two feature sets [N, D], as pytorch-fid
// computes it: |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), in float64.
double frechet_distance(const torch::Tensor& features1, const torch::Tensor& features2);

// Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et
// al. 2020) with k-nearest-neighbour balls, as the authors' prdc package computes them: a point's
// ball reaches its k-th nearest neighbour in its own set, and "inside" is strictly closer.
struct Prdc {
  double precision = 0, recall = 0, density = 0, coverage = 0;
  torch::Tensor real_recalled;  // bool [N]: real row i lies in some fake row's ball (recall's numerator)
  nlohmann::json to_json() const;
};
// real [N, D] and fake [M, D]; distances in float64, pairwise blocks of `chunk` rows at a time.
Prdc prdc(const torch::Tensor& real, const torch::Tensor& fake, int k = 5, std::int64_t chunk = 4096);

// Kernel inception distance (Binkowski et al. 2018): the unbiased MMD^2 with the cubic polynomial
// kernel k(a, b) = (a.b / D + 1)^3, averaged over `subsets` random subsets of `subset_size` rows
// of each set (fewer when a set is smaller), as torch-fidelity and clean-fid compute it.
struct Kid {
  double mean = 0, std = 0;
};
Kid kid(const torch::Tensor& real, const torch::Tensor& fake, std::int64_t subsets = 100,
        std::int64_t subset_size = 1000, std::uint64_t seed = 0);

// Class histogram metrics of generated rows judged by a classifier: classes with at least one
// sample, sum p ln(p / q) of the sample histogram p against the reference's q (over p > 0), and
// recall per class with the mean over the `tail` rarest reference classes.
struct ClassMetrics {
  std::int64_t classes_covered = 0, classes = 0;
  double class_kl = 0;
  std::vector<double> class_recall;  // per class; NaN where the reference has no rows of it
  double tail_recall = 0;
  std::vector<std::int64_t> tail_classes;
  nlohmann::json to_json(const std::vector<std::string>& names) const;
};
// predicted: the classifier's class of each sample; reference: the reference rows' labels;
// recalled: bool per reference row (from prdc). Classes 0 .. classes - 1.
ClassMetrics class_metrics(const torch::Tensor& predicted, const torch::Tensor& reference, const torch::Tensor& recalled,
                           std::int64_t classes, std::int64_t tail = 3);

}  // namespace gm::eval
