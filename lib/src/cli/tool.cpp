#include "gm/cli/tool.hpp"

#include <unistd.h>

#include <iostream>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/quote.hpp"
#include "gm/base/runtime.hpp"
#include "gm/base/text.hpp"
#include "gm/io/output.hpp"
#include "gm/parallel/launch.hpp"

namespace gm::cli {
namespace {

std::string footer(const ToolInfo& info) {
  std::string text = "Examples:\n";
  for (const auto& e : info.examples) text += "  " + e + "\n";
  text += "\nSee also: ";
  for (size_t i = 0; i < info.see_also.size(); ++i) text += (i ? ", " : "") + info.see_also[i];
  return text;
}

}  // namespace

void CommonOptions::register_on(CLI::App& app) {
  const char* group = "Common options";
  app.add_option("--device", device, "Where to compute: auto, cpu, cuda or cuda:N")
      ->type_name("DEVICE")
      ->capture_default_str()
      ->group(group);
  app.add_option("--threads", threads, "CPU threads; 0 uses every core available")
      ->capture_default_str()
      ->group(group);
  app.add_option("--seed", seed, "Seed of every random stream; the same seed gives the same output")
      ->capture_default_str()
      ->group(group);
  app.add_flag("--deterministic", deterministic,
               "Use only LibTorch's deterministic algorithms (matters on GPU; CPU runs are already bit-reproducible)")
      ->group(group);
  app.add_flag("-q,--quiet", quiet, "Print errors only")->group(group);
  app.add_flag("-v,--verbose", verbose, "Print more detail; repeat for debug output")->group(group);
  app.set_config("--config", "", "Read options from a TOML or INI file (CLI11 config format)")
      ->type_name("FILE")
      ->group(group);
  app.set_version_flag("--version", [] { return build_summary(); }, "Print versions of gm and its libraries, then exit")
      ->group(group);
  app.set_help_flag("-h,--help", "Print this help, then exit")->group(group);
}

Tool::Tool(ToolInfo info) : info_(std::move(info)), app_(info_.summary, info_.name) {
  app_.footer(footer(info_));
  app_.option_defaults()->always_capture_default();
  common_.register_on(app_);
}

std::string quote_command_line(int argc, char** argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool plain = !arg.empty() && arg.find_first_not_of(
                                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                           "-_./:=+,@%") == std::string::npos;
    line += (i ? " " : "") + (plain ? arg : single_quote(arg));
  }
  return line;
}

Shard parse_shard(const std::string& text) {
  const size_t slash = text.find('/');
  Shard shard;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    size_t used = 0;
    shard.index = std::stoll(text.substr(0, slash), &used);
    if (used != slash) throw std::invalid_argument("trailing");
    const std::string count = text.substr(slash + 1);
    shard.count = std::stoll(count, &used);
    if (used != count.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    usage_fail("--shard {}: expected K/N, such as 0/4", text);
  }
  if (shard.count < 1 || shard.index < 0 || shard.index >= shard.count)
    usage_fail("--shard {}: needs 0 <= K < N", text);
  return shard;
}

int Tool::run(int argc, char** argv, const std::function<void(const Context&)>& body) {
  log::set_program(info_.name);
  if (argc == 2 && std::string(argv[1]) == "--gm-man") {
    std::cout << man_page(app_, info_);
    return kSuccess;
  }
  if (argc == 3 && std::string(argv[1]) == "--gm-completion") {
    try {
      std::cout << completion_script(app_, info_, argv[2]);
      return kSuccess;
    } catch (const Error& e) {
      log::write(-1, e.what());
      return kUsage;
    }
  }
  try {
    app_.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app_.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports a missing required option before an unknown one; the unknown one is the
    // likelier mistake, so name it first.
    const std::vector<std::string> extras = app_.remaining();
    const std::string message = extras.empty() ? first_line(e.what()) : "unknown option or argument: " + extras[0];
    log::write(-1, fmt::format("{} (see {} --help)", message, info_.name));
    return kUsage;
  }
  try {
    log::set_verbosity(common_.quiet > 0 ? -1 : common_.verbose);
    io::install_signal_cleanup();
    Context context;
    context.command_line = quote_command_line(argc, argv);
    // Processes that a launcher started side by side share the node's cores and GPUs.
    const parallel::Launch node = parallel::node_share_from_environment();
    context.threads = configure_threads(common_.threads, node.local_size, node.cores);
    context.device = parse_device(common_.device, node.local_rank);
    context.seed = common_.seed;
    if (common_.deterministic) use_deterministic_algorithms();
    warn_if_slow_blas();
    log::debug("threads {}, device {}, seed {}", context.threads, context.device.str(), context.seed);
    body(context);
    return kSuccess;
  } catch (const UsageError& e) {
    log::write(-1, first_line(e.what()));
    return kUsage;
  } catch (const Error& e) {
    log::write(-1, first_line(e.what()));
    return kFailure;
  } catch (const c10::Error& e) {
    log::write(-1, "LibTorch: " + first_line(e.what_without_backtrace()));
    return kFailure;
  } catch (const std::bad_alloc&) {
    log::write(-1, "out of memory");
    return kFailure;
  } catch (const std::exception& e) {
    log::write(-1, first_line(e.what()));
    return kFailure;
  }
}

}  // namespace gm::cli
