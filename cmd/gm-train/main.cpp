#include "gm/cli/tool.hpp"
#include "gm/train/train.hpp"

int main(int argc, char** argv) {
  gm::cli::Tool tool({"gm-train",
                      "Train a generative model or classifier on a dataset file",
                      "gm-train FAMILY trains one model family on a gm dataset file and writes a model file that "
                      "every other gm tool reads. Run gm-train --help to see the families this build knows.",
                      {"gm-train diffusion --data grid.h5 --steps 20000 -o teacher.h5",
                       "gm-train vae --data fmnist.h5 --steps 2000 -o vae.h5",
                       "gm-train diffusion --data lat.h5 --steps 2000 -o ldm.h5"},
                      {"gm-distill(1)", "gm-sample(1)", "gm(7)"}});
  gm::cli::Verbs families("model family", gm::train::families());
  families.register_on(tool.app());
  return tool.run(argc, argv, [&](const gm::Context& context) { families.run(context); });
}
