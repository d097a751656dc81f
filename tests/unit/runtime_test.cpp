#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "gm/base/error.hpp"
#include "gm/base/runtime.hpp"

namespace {

TEST(Runtime, LibTorchRunsOnOpenBlas) {
  // The reference BLAS makes training about 15x slower; the set-up scripts install OpenBLAS.
  const gm::BlasInfo blas = gm::blas_info();
  EXPECT_FALSE(blas.library.empty());
  EXPECT_TRUE(blas.openblas) << "LibTorch's sgemm_ comes from " << blas.library;
}

TEST(Runtime, ThreadsDefaultToTheAvailableCores) {
  EXPECT_EQ(gm::configure_threads(0), gm::available_cores());
  EXPECT_EQ(at::get_num_threads(), gm::available_cores());
  EXPECT_EQ(gm::configure_threads(1), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_THROW(gm::configure_threads(-2), gm::UsageError);
}

TEST(Runtime, LaunchedProcessesShareTheCores) {
  const int cores = gm::available_cores();
  EXPECT_EQ(gm::configure_threads(0, cores), 1);                   // one process per core
  EXPECT_EQ(gm::configure_threads(0, 2 * cores), 1);               // never below one
  EXPECT_EQ(gm::configure_threads(0, 4, 1), 1);                    // the launcher said 1 core each
  EXPECT_EQ(gm::configure_threads(0, 1, 1000), cores);             // at most what this process has
  EXPECT_EQ(gm::configure_threads(3, cores), 3);                   // --threads wins
  gm::configure_threads(0);
}

TEST(Runtime, DeviceNames) {
  EXPECT_TRUE(gm::parse_device("cpu").is_cpu());
  EXPECT_EQ(gm::parse_device("auto").is_cuda(), torch::cuda::is_available());
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "CPU", ""}) EXPECT_THROW(gm::parse_device(bad), gm::UsageError) << bad;
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(gm::parse_device("cuda"), gm::Error);
    EXPECT_THROW(gm::parse_device("cuda:1"), gm::Error);
  }
}

}  // namespace
