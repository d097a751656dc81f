// Which process of a multi-process job this is, as the launcher that started it says in the
// environment: torchrun (or RANK/WORLD_SIZE set by hand), SLURM's srun, or Open MPI's mpirun.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace gm::parallel {

struct Launch {
  std::string launcher;  // "torchrun", "SLURM" or "Open MPI"
  int rank = 0;          // 0 .. world - 1
  int world = 1;         // processes in the job
  int local_rank = 0;    // rank among the processes on this node (picks the GPU)
  int local_size = 1;    // processes on this node, which share its cores
  int cores = 0;         // cores the launcher gave each process (SLURM_CPUS_PER_TASK), 0 unknown
  std::string address;   // where rank 0 serves the rendezvous store
  int port = 29500;
  // torchrun's agent already serves the store (TORCHELASTIC_USE_AGENT_STORE): every rank joins
  // it as a client, under this key prefix, as torch.distributed does; empty otherwise.
  std::string agent_store_prefix;
};

// Reads a variable: its value, or null when unset.
using Environment = std::function<const char*(const char*)>;

// The launch described by `environment`, or nullopt when no launcher set one up:
//   torchrun: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, and
//             TORCHELASTIC_USE_AGENT_STORE with TORCHELASTIC_RESTART_COUNT;
//   Open MPI: OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK,LOCAL_SIZE}, with MASTER_ADDR unless every
//             rank is on one node;
//   SLURM:    SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, the first host of the step's node list,
//             and a port derived from SLURM_JOB_ID so that jobs sharing a node differ.
// MASTER_ADDR and MASTER_PORT override the address and port under every launcher. SLURM and
// Open MPI set their variables for one-process jobs too, so those mean a launch only when they
// name more than one process; RANK/WORLD_SIZE always do (a world of 1 smoke-tests a backend).
// Throws UsageError for values that do not parse or do not fit together.
std::optional<Launch> parse_launch(const Environment& environment);
std::optional<Launch> launch_from_environment();

// The first host of a SLURM host list such as "gpu[07-09,12],cpu3" ("gpu07").
std::string first_host(const std::string& host_list);

// This process's share of its node for every tool: local_rank and local_size of the launch, or
// 0 and 1 when there is none or its variables do not parse (never fails).
Launch node_share_from_environment();

}  // namespace gm::parallel
