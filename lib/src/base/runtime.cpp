#include "gm/base/runtime.hpp"

#include <filesystem>

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>

#include <cstdlib>
#include <string>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <hdf5.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/version.hpp"

namespace gm {

c10::Device parse_device(const std::string& name, int default_index) {
  if (name == "cpu" || (name == "auto" && !torch::cuda::is_available())) return c10::Device(c10::kCPU);
  int index = 0;
  if (name == "cuda" || name == "auto") {
    // Modulo: a scheduler that gives each process only its own GPU leaves it device 0.
    if (torch::cuda::is_available()) index = default_index % static_cast<int>(torch::cuda::device_count());
  } else if (name.rfind("cuda:", 0) == 0) {
    const std::string digits = name.substr(5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 4)
      usage_fail("--device {}: expected auto, cpu, cuda or cuda:N", name);
    index = std::stoi(digits);
  } else {
    usage_fail("--device {}: expected auto, cpu, cuda or cuda:N", name);
  }
  if (!torch::cuda::is_available()) fail("--device {}: this build of gm or this machine has no CUDA device", name);
  if (index >= static_cast<int>(torch::cuda::device_count()))
    fail("--device {}: only {} CUDA device(s) present", name, torch::cuda::device_count());
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

void return_large_buffers_to_the_system() { mallopt(M_MMAP_THRESHOLD, 1 << 20); }

void keep_freed_memory_for_reuse() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

void use_deterministic_algorithms() {
  // Read when cuBLAS starts, which is after this: the first CUDA GEMM. A value the user set wins.
  setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
  at::globalContext().setDeterministicAlgorithms(true, false);
  at::globalContext().setDeterministicCuDNN(true);
  at::globalContext().setBenchmarkCuDNN(false);
}

int configure_threads(int requested, int sharing, int cores) {
  if (requested < 0) usage_fail("--threads {}: must be 0 (all cores) or a positive count", requested);
  const int shared = cores > 0 ? std::min(cores, available_cores()) : available_cores() / std::max(1, sharing);
  const int threads = requested == 0 ? std::max(1, shared) : requested;
  at::set_num_threads(threads);
  // OpenBLAS runs its own pthread pool beside LibTorch's OpenMP pool; with both at N threads
  // the cores are oversubscribed (measured: 410 -> 111 steps/s on 2 cores). Training's small
  // products leave the cores to LibTorch's pool, so OpenBLAS gets one thread; code made of a few
  // large products widens it while it runs (BlasThreadsForLargeProducts).
  set_blas_threads(1);
  return threads;
}

void set_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  static const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set) set(threads);
}

BlasThreadsForLargeProducts::BlasThreadsForLargeProducts() { set_blas_threads(at::get_num_threads()); }
BlasThreadsForLargeProducts::~BlasThreadsForLargeProducts() { set_blas_threads(1); }

BlasInfo blas_info() {
  BlasInfo info;
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where{};
  if (sgemm && dladdr(sgemm, &where) && where.dli_fname) {
    char* resolved = realpath(where.dli_fname, nullptr);
    info.library = resolved ? resolved : where.dli_fname;
    std::free(resolved);
  }
  info.openblas = info.library.find("openblas") != std::string::npos ||
                  dlsym(RTLD_DEFAULT, "openblas_get_config") != nullptr;
  return info;
}

void warn_if_slow_blas() {
  static bool warned = false;
  if (warned) return;
  warned = true;
  const BlasInfo info = blas_info();
  if (!info.openblas && !info.library.empty())
    log::warn("LibTorch runs on the reference BLAS ({}); install libopenblas0-pthread, it is about 15x faster",
              info.library);
}

std::string build_summary() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  const BlasInfo blas = blas_info();
  std::string backends;
#ifdef GM_WITH_GLOO
  backends += " gloo";
#endif
#ifdef GM_WITH_NCCL
  backends += " nccl";
#endif
#ifdef GM_WITH_CUDA
  const char* cuda_build = "CUDA LibTorch, CUDA graphs";
#else
  const char* cuda_build = "CPU LibTorch";
#endif
  return fmt::format(
      "gm {}\nLibTorch {} ({})\nHDF5 {}.{}.{}\nBLAS {}{}\nCUDA {}\ndata-parallel backends:{}\n", GM_VERSION, TORCH_VERSION, cuda_build,
      major, minor, release, blas.library.empty() ? "(none found)" : blas.library,
      blas.openblas ? " (OpenBLAS)" : " (not OpenBLAS: slow)",
      torch::cuda::is_available() ? fmt::format("{} device(s)", torch::cuda::device_count()) : "not available",
      backends.empty() ? " none" : backends);
}

std::string find_shared(const std::string& relative) {
  namespace fs = std::filesystem;
  std::vector<fs::path> roots;
  if (const char* given = std::getenv("GM_SHARE_DIR"); given && *given) roots.emplace_back(given);
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (!error) roots.push_back(exe.parent_path().parent_path() / "share" / "gm");
  roots.emplace_back(GM_INSTALL_SHARE);
  roots.emplace_back(GM_SOURCE_SHARE);
  for (const fs::path& root : roots)
    if (fs::is_regular_file(root / relative, error)) return (root / relative).string();
  return {};
}

}  // namespace gm
