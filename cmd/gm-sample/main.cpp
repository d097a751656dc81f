#include "gm/cli/tool.hpp"
#include "gm/sample/sample.hpp"

int main(int argc, char** argv) {
  gm::cli::Tool tool({"gm-sample",
                      "Draw samples from a model or a built-in source into an HDF5 file",
                      "gm-sample writes rows to a gm HDF5 file: points from a built-in toy distribution (a dataset "
                      "file with labels and the true modes), or samples from a trained model. With an autoencoder it "
                      "also maps images to latents (--encode) and latents to images (--decode). Row i depends only on "
                      "the seed and i, so --shard K/N splits any run across a job array and the slices merge back "
                      "into the same rows.",
                      {"gm-sample toy:grid25 -n 100000 --seed 1 -o grid.h5",
                       "gm-sample toy:grid25 -n 100000 --seed 1 --shard 0/4 -o part0.h5",
                       "gm-sample toy:ring8 -n 1000 -o - | gm-convert - --describe",
                       "gm-sample edm.h5 -n 2500 --sampler heun --steps 18 --seed 0 -o s_edm.h5",
                       "gm-sample vae.h5 --encode fmnist.h5 -o lat.h5",
                       "gm-sample lcm.h5 -n 16 --steps 2 --class 1 --guidance 3 --decode -o s.h5",
                       "gm-sample ldm.h5 -n 64 -o - | gm-sample vae.h5 --decode - -o images.h5"},
                      {"gm-train(1)", "gm-eval(1)", "gm-convert(1)", "gm(7)"}});
  gm::sample::SampleOptions options;
  options.register_on(tool.app());
  return tool.run(argc, argv, [&](const gm::Context& context) { gm::sample::run(options, context); });
}
