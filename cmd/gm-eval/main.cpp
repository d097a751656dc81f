#include "gm/cli/tool.hpp"
#include "gm/eval/eval.hpp"

int main(int argc, char** argv) {
  gm::cli::Tool tool({"gm-eval",
                      "Score samples against a reference on fidelity, coverage and speed",
                      "gm-eval compares a samples file with a reference dataset. Against a built-in toy reference it "
                      "reports the PacGAN mode metrics (modes covered, fraction of high-quality samples, reverse KL "
                      "of the mode histogram, rare modes covered); against any reference it reports the Frechet "
                      "distance of raw features and improved precision and recall with density and coverage "
                      "(k-nearest-neighbour balls, k=5, at most 10,000 rows of each set). With --nll it reports instead a "
                      "model's likelihood bound on a dataset in bits per dimension. Metrics go to stdout, as JSON with --json.",
                      {"gm-eval samples.h5 --ref toy:grid25 --json", "gm-eval samples.h5 --ref grid.h5",
                       "gm-eval --nll vae.h5 --data fmnist-test.h5 --iw 64 --json"},
                      {"gm-sample(1)", "gm-train(1)", "gm(7)"}});
  gm::eval::EvalOptions options;
  options.register_on(tool.app());
  return tool.run(argc, argv, [&](const gm::Context& context) { gm::eval::run(options, context); });
}
