// Tools whose first word picks what to do (gm-train gan, gm-distill consistency): each verb
// registers its own options as a CLI11 subcommand and returns the function that runs it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

#include "gm/base/context.hpp"

namespace gm::cli {

using Action = std::function<void(const Context&)>;

struct Verb {
  std::string name;
  std::string help;
  std::function<Action(CLI::App& command)> setup;  // adds the verb's options, returns its action
};

// A verb whose options struct registers itself (Options::register_on) and whose work is
// run(options, context).
template <typename Options>
Verb make_verb(std::string name, std::string help, void (*run)(const Options&, const Context&)) {
  auto options = std::make_shared<Options>();
  return {std::move(name), std::move(help), [options, run](CLI::App& command) -> Action {
            options->register_on(command);
            return [options, run](const Context& context) { run(*options, context); };
          }};
}

class Verbs {
 public:
  Verbs(std::string what, std::vector<Verb> verbs) : what_(std::move(what)), verbs_(std::move(verbs)) {}
  void register_on(CLI::App& app);
  // Runs the verb named on the command line; a usage error names the known verbs when none was.
  void run(const Context& context) const;

 private:
  std::string what_;  // "model family", for messages
  std::vector<Verb> verbs_;
  std::vector<std::pair<CLI::App*, Action>> commands_;
};

}  // namespace gm::cli
