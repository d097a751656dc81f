#include "gm/cli/tool.hpp"
#include "gm/convert/convert.hpp"

int main(int argc, char** argv) {
  gm::cli::Tool tool({"gm-convert",
                      "Move models and data between formats, and describe gm files",
                      "gm-convert reads a gm file and writes it in the format named by the output's extension, "
                      "recording the input in the output's provenance. With --describe it prints what a file "
                      "holds, including the chain of commands that made it.",
                      {"gm-convert grid.h5 --describe", "gm-sample toy:ring8 -n 100 -o - | gm-convert - ring.h5",
                       "gm-convert cm.h5 cm.safetensors", "gm-convert merge s_part*.h5 -o s.h5"},
                      {"gm-sample(1)", "gm-eval(1)", "gm(7)"}});
  gm::convert::ConvertOptions options;
  options.register_on(tool.app());
  return tool.run(argc, argv, [&](const gm::Context& context) { gm::convert::run(options, context); });
}
