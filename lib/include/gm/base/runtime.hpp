// Process-wide runtime set-up: devices, threads and the BLAS that LibTorch runs on.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace gm {

// Parses "auto", "cpu", "cuda" or "cuda:N". "auto" is CUDA when this build and machine have it;
// "auto" and "cuda" mean device `default_index` (a launcher's local rank: one GPU per process).
// Throws UsageError for malformed names and Error when CUDA is asked for but absent.
c10::Device parse_device(const std::string& name, int default_index = 0);

// Sets LibTorch's intra-op threads to `requested` (0: the cores available to this process,
// divided among the `sharing` processes a launcher started on this node, or the `cores` it gave
// each process when it says) and keeps OpenBLAS single-threaded so the two pools never
// oversubscribe the cores. Returns the thread count in use.
int configure_threads(int requested, int sharing = 1, int cores = 0);

// LibTorch's deterministic algorithms only (an error where an op has none), cuDNN without
// autotuning, and the cuBLAS workspace setting that deterministic GEMMs need. CPU kernels are
// deterministic for a fixed thread count already; this is for the GPU.
void use_deterministic_algorithms();

// OpenBLAS's own thread count (a no-op on another BLAS).
void set_blas_threads(int threads);

// While alive, OpenBLAS uses LibTorch's thread count. A single large matrix product (a metric's
// N x N distances) goes to BLAS from one thread, which LibTorch does not split, so with OpenBLAS
// at one thread it would run on one core. For code that is mostly such products and whose other
// work is brief.
class BlasThreadsForLargeProducts {
 public:
  BlasThreadsForLargeProducts();
  ~BlasThreadsForLargeProducts();
  BlasThreadsForLargeProducts(const BlasThreadsForLargeProducts&) = delete;
  BlasThreadsForLargeProducts& operator=(const BlasThreadsForLargeProducts&) = delete;
};

// Makes glibc return every buffer of 1 MiB or more to the system when it is freed. By default
// glibc raises its mmap threshold each time such a buffer is freed; buffers of that size then
// come from the heap and stay resident among small allocations. gm-convert, copying a 320 MB file
// in 8 MB pieces, peaked 107 MB higher than for a 1.6 MB file. This suits streaming jobs, whose
// large buffers are few and short-lived. A training loop reuses its buffers: see below.
void return_large_buffers_to_the_system();

// Keeps up to 64 MiB of freed memory at the top of the heap, and serves blocks up to 32 MiB from
// it. A training step frees and reallocates the same activations every step; with glibc's default
// trim threshold (twice the largest block freed, 256 KB for a toy network) the heap shrank and grew
// back each step, and page faults took 10% of a toy diffusion step (perf).
void keep_freed_memory_for_reuse();

// Cores this process may run on (sched_getaffinity), at least 1.
int available_cores();

struct BlasInfo {
  std::string library;  // resolved path of the shared object that provides sgemm_
  bool openblas = false;
};
// Finds which BLAS LibTorch's GEMM calls resolve to in this process.
BlasInfo blas_info();

// Warns once on stderr when LibTorch runs on the reference BLAS (about 15x slower).
void warn_if_slow_blas();

// The path of a file shipped in share/gm (such as "models/fmnist-classifier.h5"): under
// $GM_SHARE_DIR, beside the executable (../share/gm), the install prefix, or the source tree;
// empty when none has it.
std::string find_shared(const std::string& relative);

// One paragraph for --version: gm, LibTorch, HDF5, BLAS and CUDA.
std::string build_summary();

}  // namespace gm
