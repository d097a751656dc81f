#include "gm/cli/tool.hpp"
#include "gm/distill/distill.hpp"

int main(int argc, char** argv) {
  gm::cli::Tool tool({"gm-distill",
                      "Distill a diffusion teacher into a few-step student",
                      "gm-distill METHOD reads a diffusion model file and trains a student that samples in 1 to 4 "
                      "network evaluations. Run gm-distill --help to see the methods this build knows.",
                      {"gm-distill consistency teacher.h5 --data grid.h5 -o cm.h5",
                       "gm-distill lcm ldm.h5 --data lat.h5 --steps 2000 -o lcm.h5"},
                      {"gm-train(1)", "gm-sample(1)", "gm-eval(1)", "gm(7)"}});
  gm::cli::Verbs methods("distillation method", gm::distill::methods());
  methods.register_on(tool.app());
  return tool.run(argc, argv, [&](const gm::Context& context) { methods.run(context); });
}
