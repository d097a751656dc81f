// Data-parallel training over the processes a launcher started (torchrun, SLURM, Open MPI; see
// parallel/launch.hpp). Every rank draws the same global batch and the same random numbers for
// it, runs the networks on its own slice of the rows, and the gradients are summed over the
// ranks. A run therefore matches one process with the same --batch, up to the order of float
// sums, whatever the world size. Alone (no launcher), every call is a no-op.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include <torch/torch.h>

#include "gm/base/context.hpp"
#include "gm/parallel/group.hpp"
#include "gm/train/optimiser.hpp"

namespace gm::train {

struct LoopOptions;

class DataParallel {
 public:
  // Joins the launcher's process group, if any; `options` gives the batch and the peer timeout.
  DataParallel(const Context& context, const LoopOptions& options);
  ~DataParallel();

  bool alone() const { return !group_; }
  int rank() const { return group_ ? group_->rank() : 0; }
  int world() const { return group_ ? group_->size() : 1; }
  // Rank 0 writes the model files and shows progress.
  bool leader() const { return rank() == 0; }

  // This rank's rows [begin, end) of a global batch of `rows`.
  std::pair<std::int64_t, std::int64_t> rows(std::int64_t global_rows) const;
  // This rank's rows of a tensor over the global batch (rows on dim 0); undefined stays undefined.
  torch::Tensor local(const torch::Tensor& global) const;
  // A loss that is a mean over this rank's rows of a global batch of `global_rows`, weighted by
  // the rank's fraction of them, so that the ranks' losses (and gradients) add up to the mean
  // over the global batch.
  torch::Tensor share(const torch::Tensor& local_mean, std::int64_t global_rows) const;

  // Rank 0's parameter values on every rank.
  void broadcast(FlatParameters& parameters) const;
  void broadcast(torch::Tensor& tensor) const;
  // Each tensor summed over the ranks, in place (statistics such as a codebook's counts).
  void sum(std::vector<torch::Tensor>& tensors) const;
  // After a backward pass: the gradients summed over the ranks (in buckets of about 25 MB), and
  // the named losses (each rank's share) with them, in one round of collectives that are all in
  // flight at once. It also carries each rank's stop request (see stop_requested). Returns the
  // losses as numbers; alone, just that.
  std::map<std::string, double> reduce(FlatParameters& parameters, const std::map<std::string, torch::Tensor>& losses);
  // Whether the run stops after this step: a signal to this process, or alone; in a group, to any
  // rank as of the last reduce, so that every rank stops at the same step.
  bool stop_requested();
  // Returns once every rank got here; fails when a rank died first.
  void barrier() const;

 private:
  c10::Device device_;
  std::unique_ptr<parallel::ProcessGroup> group_;
  bool peer_stop_ = false;
};

}  // namespace gm::train
