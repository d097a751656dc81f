#include "gm/parallel/launch.hpp"

#include <cstdlib>

#include "gm/base/error.hpp"

namespace gm::parallel {

namespace {

// A whole-number variable, or `fallback` when unset.
int int_variable(const Environment& environment, const char* name, std::optional<int> fallback = std::nullopt) {
  const char* text = environment(name);
  if (!text) {
    if (!fallback) usage_fail("{} is not set, and this launch needs it", name);
    return *fallback;
  }
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < 0 || value > (1 << 30))
    usage_fail("{}={}: expected a whole number", name, text);
  return static_cast<int>(value);
}

std::string string_variable(const Environment& environment, const char* name) {
  const char* text = environment(name);
  return text ? text : "";
}

void check(const Launch& launch) {
  if (launch.world < 1) usage_fail("{}: a world of {} processes", launch.launcher, launch.world);
  if (launch.rank >= launch.world)
    usage_fail("{}: rank {} is not below the world size {}", launch.launcher, launch.rank, launch.world);
  if (launch.port < 1 || launch.port > 65535) usage_fail("{}: port {} is not a TCP port", launch.launcher, launch.port);
  if (launch.local_size < 1) usage_fail("{}: {} processes on this node", launch.launcher, launch.local_size);
}

}  // namespace

std::string first_host(const std::string& host_list) {
  std::string host;
  for (size_t i = 0; i < host_list.size() && host_list[i] != ','; ++i) {
    if (host_list[i] != '[') {
      host += host_list[i];
      continue;
    }
    // A range such as [07-09,12]: its first number, then past the bracket.
    const size_t close = host_list.find(']', i);
    if (close == std::string::npos) usage_fail("host list {}: a '[' without its ']'", host_list);
    const std::string range = host_list.substr(i + 1, close - i - 1);
    host += range.substr(0, range.find_first_of(",-"));
    i = close;
  }
  if (host.empty()) usage_fail("host list '{}': names no host", host_list);
  return host;
}

std::optional<Launch> parse_launch(const Environment& environment) {
  Launch launch;
  const std::string master = string_variable(environment, "MASTER_ADDR");
  if (environment("RANK") || environment("WORLD_SIZE")) {
    launch.launcher = "torchrun";
    launch.rank = int_variable(environment, "RANK");
    launch.world = int_variable(environment, "WORLD_SIZE");
    launch.local_rank = int_variable(environment, "LOCAL_RANK", 0);
    launch.address = master;
    // Processes on one machine (loopback rendezvous) share its cores unless told otherwise.
    const bool loopback = master.empty() || master == "127.0.0.1" || master == "localhost" || master == "::1";
    launch.local_size = int_variable(environment, "LOCAL_WORLD_SIZE", loopback ? launch.world : 1);
    if (launch.address.empty()) {
      if (launch.world > 1) usage_fail("RANK and WORLD_SIZE are set but MASTER_ADDR is not");
      launch.address = "127.0.0.1";
    }
    if (string_variable(environment, "TORCHELASTIC_USE_AGENT_STORE") == "True")
      launch.agent_store_prefix =
          "/worker/attempt_" + std::to_string(int_variable(environment, "TORCHELASTIC_RESTART_COUNT", 0));
  } else if (environment("OMPI_COMM_WORLD_RANK")) {
    launch.launcher = "Open MPI";
    launch.rank = int_variable(environment, "OMPI_COMM_WORLD_RANK");
    launch.world = int_variable(environment, "OMPI_COMM_WORLD_SIZE");
    launch.local_rank = int_variable(environment, "OMPI_COMM_WORLD_LOCAL_RANK", 0);
    launch.local_size = int_variable(environment, "OMPI_COMM_WORLD_LOCAL_SIZE", 1);
    if (launch.world == 1) return std::nullopt;
    launch.address = master;
    if (launch.address.empty()) {
      if (launch.local_size != launch.world)
        usage_fail("Open MPI: the ranks span nodes; export MASTER_ADDR, the first node's address (mpirun -x MASTER_ADDR)");
      launch.address = "127.0.0.1";
    }
  } else if (environment("SLURM_PROCID") && environment("SLURM_NTASKS")) {
    launch.launcher = "SLURM";
    launch.rank = int_variable(environment, "SLURM_PROCID");
    launch.world = int_variable(environment, "SLURM_NTASKS");
    launch.local_rank = int_variable(environment, "SLURM_LOCALID", 0);
    launch.local_size = int_variable(environment, "SLURM_NTASKS_PER_NODE", 1);
    launch.cores = int_variable(environment, "SLURM_CPUS_PER_TASK", 0);
    if (launch.world == 1) return std::nullopt;
    launch.address = master;
    if (launch.address.empty()) {
      std::string nodes = string_variable(environment, "SLURM_STEP_NODELIST");
      if (nodes.empty()) nodes = string_variable(environment, "SLURM_JOB_NODELIST");
      if (nodes.empty()) usage_fail("SLURM: neither MASTER_ADDR nor SLURM_STEP_NODELIST/SLURM_JOB_NODELIST is set");
      launch.address = first_host(nodes);
    }
    // Jobs that share a node rendezvous on different ports.
    launch.port = 15000 + int_variable(environment, "SLURM_JOB_ID", 0) % 20000;
  } else {
    return std::nullopt;
  }
  launch.port = int_variable(environment, "MASTER_PORT", launch.port);
  check(launch);
  return launch;
}

std::optional<Launch> launch_from_environment() {
  return parse_launch([](const char* name) { return std::getenv(name); });
}

Launch node_share_from_environment() {
  try {
    return launch_from_environment().value_or(Launch{});
  } catch (const Error&) {
    return {};
  }
}

}  // namespace gm::parallel
