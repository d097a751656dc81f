#include <map>
#include <string>

#include <gtest/gtest.h>

#include "gm/base/error.hpp"
#include "gm/parallel/launch.hpp"

namespace {

using Variables = std::map<std::string, std::string>;

std::optional<gm::parallel::Launch> parse(const Variables& variables) {
  return gm::parallel::parse_launch([&](const char* name) -> const char* {
    const auto found = variables.find(name);
    return found == variables.end() ? nullptr : found->second.c_str();
  });
}

TEST(Launch, NoLauncherMeansAlone) { EXPECT_FALSE(parse({{"PATH", "/bin"}}).has_value()); }

TEST(Launch, Torchrun) {
  const auto launch = parse({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                             {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "1234"}});
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->launcher, "torchrun");
  EXPECT_EQ(launch->rank, 3);
  EXPECT_EQ(launch->world, 8);
  EXPECT_EQ(launch->local_rank, 1);
  EXPECT_EQ(launch->local_size, 2);
  EXPECT_EQ(launch->address, "node7");
  EXPECT_EQ(launch->port, 1234);
}

TEST(Launch, TorchrunsAgentServesTheStore) {
  const auto launch = parse({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"},
                             {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "3"}});
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->agent_store_prefix, "/worker/attempt_3");
  EXPECT_EQ(parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}})->agent_store_prefix, "");
}

TEST(Launch, TorchrunOnLoopbackSharesTheNode) {
  const auto launch = parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}});
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->local_size, 2);
  EXPECT_EQ(launch->port, 29500);  // torch's default
}

TEST(Launch, WorldOfOneStillLaunchesForTorchrun) {
  const auto launch = parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->address, "127.0.0.1");
}

TEST(Launch, Slurm) {
  const auto launch = parse({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                             {"SLURM_NTASKS_PER_NODE", "4"}, {"SLURM_JOB_NODELIST", "gpu[07-09,12],cpu3"},
                             {"SLURM_STEP_NODELIST", "gpu[08-09]"}, {"SLURM_JOB_ID", "123456"},
                             {"SLURM_CPUS_PER_TASK", "8"}});
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->launcher, "SLURM");
  EXPECT_EQ(launch->rank, 5);
  EXPECT_EQ(launch->world, 8);
  EXPECT_EQ(launch->local_rank, 1);
  EXPECT_EQ(launch->local_size, 4);
  EXPECT_EQ(launch->cores, 8);
  EXPECT_EQ(launch->address, "gpu08");  // the step's first node
  EXPECT_EQ(launch->port, 15000 + 123456 % 20000);
}

TEST(Launch, SlurmOneTaskIsAlone) {
  EXPECT_FALSE(parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_JOB_NODELIST", "n1"}}).has_value());
}

TEST(Launch, MasterVariablesOverrideSlurm) {
  const auto launch = parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "n[1-2]"},
                             {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "4000"}});
  ASSERT_TRUE(launch.has_value());
  EXPECT_EQ(launch->address, "10.0.0.1");
  EXPECT_EQ(launch->port, 4000);
}

TEST(Launch, OpenMpi) {
  const auto one_node = parse({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  ASSERT_TRUE(one_node.has_value());
  EXPECT_EQ(one_node->launcher, "Open MPI");
  EXPECT_EQ(one_node->address, "127.0.0.1");
  EXPECT_EQ(one_node->local_size, 2);
  // Across nodes the first node's address must be exported.
  EXPECT_THROW(parse({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "4"}, {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}),
               gm::UsageError);
}

TEST(Launch, InconsistentVariablesAreUsageErrors) {
  EXPECT_THROW(parse({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}), gm::UsageError);
  EXPECT_THROW(parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}}), gm::UsageError);  // no MASTER_ADDR
  EXPECT_THROW(parse({{"RANK", "0"}}), gm::UsageError);                       // no WORLD_SIZE
  EXPECT_THROW(parse({{"RANK", "-1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}), gm::UsageError);
  EXPECT_THROW(parse({{"RANK", "0"}, {"WORLD_SIZE", "2x"}, {"MASTER_ADDR", "h"}}), gm::UsageError);
  EXPECT_THROW(parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}),
               gm::UsageError);
  EXPECT_THROW(parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}), gm::UsageError);  // no node list
}

TEST(Launch, FirstHostOfSlurmHostLists) {
  EXPECT_EQ(gm::parallel::first_host("node1"), "node1");
  EXPECT_EQ(gm::parallel::first_host("node1,node2"), "node1");
  EXPECT_EQ(gm::parallel::first_host("gpu[07-09,12],cpu3"), "gpu07");
  EXPECT_EQ(gm::parallel::first_host("gpu[12,07-09]"), "gpu12");
  EXPECT_EQ(gm::parallel::first_host("rack[2-3]-n[01-04]"), "rack2-n01");
  EXPECT_EQ(gm::parallel::first_host("a-b[5]"), "a-b5");
  EXPECT_THROW(gm::parallel::first_host("gpu[07-09"), gm::UsageError);
  EXPECT_THROW(gm::parallel::first_host(""), gm::UsageError);
}

}  // namespace
