// A torch c10d process group over the processes of one launch: Gloo for CPU tensors, NCCL for
// CUDA tensors where the LibTorch has it (Gloo otherwise). c10d's headers stay in group.cpp.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "gm/parallel/launch.hpp"

namespace gm::parallel {

class ProcessGroup {
 public:
  // Meets the other ranks on rank 0's TCPStore at launch.address:launch.port. Fails when they
  // are not all there within `timeout`, which also bounds every later collective: a dead or hung
  // peer makes every rank fail rather than wait forever.
  ProcessGroup(const Launch& launch, c10::Device device, std::chrono::milliseconds timeout);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return launch_.rank; }
  int size() const { return launch_.world; }
  const std::string& backend() const { return backend_; }

  // Rank 0's values into `tensor` on every rank.
  void broadcast(torch::Tensor& tensor);
  // Each tensor summed over the ranks, in place; all are in flight at once.
  void all_reduce_sum(std::vector<torch::Tensor>& tensors);

 private:
  struct Groups;
  [[noreturn]] void lost(const std::string& what, const std::exception& error) const;
  Launch launch_;
  std::string backend_;
  std::unique_ptr<Groups> groups_;
};

}  // namespace gm::parallel
