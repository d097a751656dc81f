#include <CLI/CLI.hpp>

#include "gm/cli/subcommands.hpp"

#include "gm/base/error.hpp"

namespace gm::cli {

void Verbs::register_on(CLI::App& app) {
  for (const Verb& verb : verbs_) {
    CLI::App* command = app.add_subcommand(verb.name, verb.help);
    command->fallthrough();  // the common options work after the verb too
    commands_.emplace_back(command, verb.setup(*command));
  }
}

void Verbs::run(const Context& context) const {
  for (const auto& [command, action] : commands_)
    if (command->parsed()) return action(context);
  std::string known;
  for (const Verb& verb : verbs_) known += (known.empty() ? "" : ", ") + verb.name;
  usage_fail("no {} given; this build knows: {}", what_, known.empty() ? "none" : known);
}

}  // namespace gm::cli
