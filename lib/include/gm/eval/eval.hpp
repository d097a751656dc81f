// gm-eval as a library function: score samples files against a reference, alone or side by
// side (the trilemma table: fidelity, coverage, speed).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gm/base/context.hpp"
#include "gm/eval/likelihood.hpp"

namespace CLI {
class App;
}

namespace gm::eval {

struct EvalOptions {
  std::vector<std::string> samples;     // samples or dataset files, "-" for stdin
  std::string reference;                // --ref: a dataset file or toy:NAME
  std::int64_t reference_rows = 10000;  // rows drawn when the reference is a toy source
  bool json = false;
  bool compare = false;                 // one row per samples file
  std::string plot;                     // --plot: the comparison as a PNG chart (gnuplot)
  std::string features;                 // --features: a gm classifier, a TorchScript network, or raw
  std::string save_features;            // write the samples' features here
  std::string ref_cache;                // the reference's features, reused across runs
  std::int64_t kid_subsets = 100;
  std::int64_t kid_size = 1000;
  int k = 5;                            // neighbours for precision, recall, density, coverage
  std::int64_t prdc_rows = 10000;       // rows of each set used for them, drawn with --seed if more
  LikelihoodOptions likelihood;         // --nll MODEL --data FILE: a likelihood bound instead of samples

  void register_on(CLI::App& app);
};

// The metrics of each samples file as JSON objects, in order; the reference is read once.
std::vector<nlohmann::json> evaluate(const EvalOptions& options, const Context& context);

// Metrics on stdout: one JSON line, or "key value" lines.
void print_metrics(const nlohmann::json& metrics, bool json);

// The comparison as a fixed-width table: fidelity, coverage and speed columns.
std::string comparison_table(const std::vector<nlohmann::json>& rows);

// Draws the comparison as a PNG with gnuplot; fails with a clear message when gnuplot is absent.
void plot_comparison(const std::vector<nlohmann::json>& rows, const std::string& path);

void run(const EvalOptions& options, const Context& context);

}  // namespace gm::eval
