// gm-eval's metric kernels against the NumPy/SciPy reference, on the same features in the same run:
// precision/recall/density/coverage and the Frechet distance for N x N feature sets. gm's times are
// the best of REPEATS calls of gm::eval::prdc and frechet_distance; the reference's, the best of
// REPEATS calls in one Python process (bench/metrics_reference.py). The values must agree.
//
// Usage: gm-bench-metrics [N=10000] [DIM=128] [REPEATS=3] [THREADS=0: every core]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "gm/base/runtime.hpp"
#include "gm/eval/metrics.hpp"
#include "gm/io/npy.hpp"

#include "timing.hpp"

using gm::bench::best_seconds;

namespace {

void write_npy(const std::filesystem::path& path, const torch::Tensor& t) {
  std::ofstream(path, std::ios::binary) << gm::io::encode_npy(t);
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t n = argc > 1 ? std::atoll(argv[1]) : 10000;
  const std::int64_t dim = argc > 2 ? std::atoll(argv[2]) : 128;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  const int threads = gm::configure_threads(argc > 4 ? std::atoi(argv[4]) : 0);
  torch::manual_seed(0);
  const torch::Tensor real = torch::randn({n, dim});
  const torch::Tensor fake = torch::randn({n, dim}) * 1.1 + 0.1;

  gm::eval::Prdc ours;
  double fid = 0;
  const double prdc_seconds = best_seconds(repeats, [&] { ours = gm::eval::prdc(real, fake, 5); });
  const double fid_seconds = best_seconds(repeats, [&] { fid = gm::eval::frechet_distance(real, fake); });

  const auto dir = std::filesystem::temp_directory_path() / fmt::format("gm-bench-metrics-{}", getpid());
  std::filesystem::create_directories(dir);
  write_npy(dir / "real.npy", real);
  write_npy(dir / "fake.npy", fake);
  const std::string script = std::string(GM_SOURCE_DIR) + "/bench/metrics_reference.py";
  const std::string command = fmt::format("OMP_NUM_THREADS={0} OPENBLAS_NUM_THREADS={0} {1} {2} {3} {4} 5 {5} > {6}",
                                          threads, GM_PYTHON, script, (dir / "real.npy").string(),
                                          (dir / "fake.npy").string(), repeats, (dir / "out.json").string());
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "the reference failed: %s\n", command.c_str());
    return 1;
  }
  const nlohmann::json reference = nlohmann::json::parse(std::ifstream(dir / "out.json"));
  std::filesystem::remove_all(dir);

  fmt::print("{} x {} features of dimension {}, k = 5, {} threads, best of {}\n\n", n, n, dim, threads, repeats);
  fmt::print("| metric | gm s | NumPy/SciPy s | speed-up | gm value | reference value |\n|---|---|---|---|---|---|\n");
  const auto& p = reference["prdc"];
  fmt::print("| precision/recall/density/coverage | {:.3f} | {:.3f} | {:.2f}x | {:.4f} {:.4f} {:.4f} {:.4f} | {:.4f} {:.4f} {:.4f} {:.4f} |\n",
             prdc_seconds, reference["prdc_seconds"].get<double>(), reference["prdc_seconds"].get<double>() / prdc_seconds,
             ours.precision, ours.recall, ours.density, ours.coverage, p["precision"].get<double>(),
             p["recall"].get<double>(), p["density"].get<double>(), p["coverage"].get<double>());
  fmt::print("| Frechet distance | {:.3f} | {:.3f} | {:.2f}x | {:.6f} | {:.6f} |\n", fid_seconds,
             reference["fid_seconds"].get<double>(), reference["fid_seconds"].get<double>() / fid_seconds, fid,
             reference["fid"].get<double>());
  const bool agree = std::abs(ours.precision - p["precision"].get<double>()) < 1e-3 &&
                     std::abs(ours.recall - p["recall"].get<double>()) < 1e-3 &&
                     std::abs(ours.density - p["density"].get<double>()) < 1e-3 &&
                     std::abs(ours.coverage - p["coverage"].get<double>()) < 1e-3 &&
                     std::abs(fid - reference["fid"].get<double>()) < 1e-6 * std::max(1.0, std::abs(fid));
  fmt::print("\nvalues {}\n", agree ? "agree" : "DISAGREE");
  return agree ? 0 : 1;
}
