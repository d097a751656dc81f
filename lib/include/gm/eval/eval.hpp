// gm-eval as a library function: score a samples file against a reference.
#pragma once

#include <string>

namespace CLI {
class App;
}
#include <nlohmann/json.hpp>

#include "gm/base/context.hpp"

namespace gm::eval {

struct EvalOptions {
  std::string samples;               // samples or dataset file, "-" for stdin
  std::string reference;             // --ref: a dataset file or toy:NAME
  std::int64_t reference_rows = 10000;  // rows drawn when the reference is a toy source
  bool json = false;
  int k = 5;                           // neighbours for precision, recall, density, coverage
  std::int64_t prdc_rows = 10000;      // rows of each set used for them, drawn with --seed if more

  void register_on(CLI::App& app);
};

// The metrics as a JSON object (what --json prints).
nlohmann::json evaluate(const EvalOptions& options, const Context& context);
void run(const EvalOptions& options, const Context& context);

}  // namespace gm::eval
