// The command-line contract shared by every gm tool (DESIGN §2): common options, help text
// with examples, exit codes, one-line errors, and man pages and completions generated from
// the same option definitions.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "gm/base/context.hpp"

namespace gm::cli {

enum ExitCode : int { kSuccess = 0, kFailure = 1, kUsage = 2 };

struct ToolInfo {
  std::string name;                   // "gm-sample"
  std::string summary;                // one line, for --help and the man page's NAME
  std::string description;            // a paragraph for the man page
  std::vector<std::string> examples;  // whole command lines
  std::vector<std::string> see_also;  // "gm-eval(1)", "gm(7)"
};

// --device, --threads, --seed, --deterministic, -q/-v, --config and --version, registered on
// every tool.
struct CommonOptions {
  std::string device = "auto";
  int threads = 0;
  std::uint64_t seed = 0;
  bool deterministic = false;
  int quiet = 0;
  int verbose = 0;
  void register_on(CLI::App& app);
};

class Tool {
 public:
  explicit Tool(ToolInfo info);
  CLI::App& app() { return app_; }
  const ToolInfo& info() const { return info_; }

  // Parses argv, sets up logging, threads and the device, then runs `body`. Returns the exit
  // code: 0 on success, 1 when the body fails, 2 for usage errors. Two hidden flags print
  // generated docs: --gm-man and --gm-completion bash|zsh|fish.
  int run(int argc, char** argv, const std::function<void(const Context&)>& body);

 private:
  ToolInfo info_;
  CLI::App app_;
  CommonOptions common_;
};

// Quotes argv so that the line can be pasted back into a shell.
std::string quote_command_line(int argc, char** argv);

// Parses "K/N" (0 <= K < N) for --shard.
struct Shard {
  std::int64_t index = 0;
  std::int64_t count = 1;
  // Rows [begin, end) of an n-row run that this shard owns.
  std::int64_t begin(std::int64_t n) const { return n * index / count; }
  std::int64_t end(std::int64_t n) const { return n * (index + 1) / count; }
};
Shard parse_shard(const std::string& text);

// Generated documentation, from the CLI11 definitions.
std::string man_page(const CLI::App& app, const ToolInfo& info);
std::string completion_script(const CLI::App& app, const ToolInfo& info, const std::string& shell);

}  // namespace gm::cli
