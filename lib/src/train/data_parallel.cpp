#include "gm/train/data_parallel.hpp"

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/io/output.hpp"
#include "gm/train/loop.hpp"

namespace gm::train {

namespace {
// PyTorch DDP's default bucket: large enough for the all-reduce to run at bandwidth, small enough
// that several are in flight.
constexpr std::int64_t kBucketBytes = 25 << 20;
}  // namespace

DataParallel::DataParallel(const Context& context, const LoopOptions& options) : device_(context.device) {
  const std::optional<parallel::Launch> launch = parallel::launch_from_environment();
  if (!launch) return;
  if (options.batch < launch->world)
    usage_fail("--batch {}: smaller than the {} ranks of the {} launch; each rank needs a row", options.batch,
               launch->world, launch->launcher);
  if (launch->rank != 0) {
    // One progress line and one set of messages: the other ranks report only their errors.
    log::set_program(fmt::format("{} (rank {})", log::program(), launch->rank));
    log::set_verbosity(-1);
  }
  // A stop signal from here on is deferred to the first step, where it stops every rank: a rank
  // that vanished while the group forms would leave the others waiting for it.
  io::defer_stop_signals();
  group_ = std::make_unique<parallel::ProcessGroup>(
      *launch, context.device, std::chrono::milliseconds(static_cast<std::int64_t>(options.peer_timeout * 1000)));
  if (leader())
    log::info("data-parallel over {} ranks ({}, {}), {} rows per rank of each batch of {}", world(), launch->launcher,
              group_->backend(), options.batch / world(), options.batch);
}

DataParallel::~DataParallel() = default;

std::pair<std::int64_t, std::int64_t> DataParallel::rows(std::int64_t global_rows) const {
  return {global_rows * rank() / world(), global_rows * (rank() + 1) / world()};
}

torch::Tensor DataParallel::local(const torch::Tensor& global) const {
  if (alone() || !global.defined()) return global;
  const auto [begin, end] = rows(global.size(0));
  return global.narrow(0, begin, end - begin);
}

torch::Tensor DataParallel::share(const torch::Tensor& local_mean, std::int64_t global_rows) const {
  if (alone()) return local_mean;
  const auto [begin, end] = rows(global_rows);
  return local_mean * (static_cast<double>(end - begin) / static_cast<double>(global_rows));
}

void DataParallel::broadcast(FlatParameters& parameters) const {
  torch::Tensor values = parameters.values();  // shares the buffer
  broadcast(values);
}

void DataParallel::broadcast(torch::Tensor& tensor) const {
  if (!alone()) group_->broadcast(tensor);
}

void DataParallel::sum(std::vector<torch::Tensor>& tensors) const {
  if (!alone()) group_->all_reduce_sum(tensors);
}

std::map<std::string, double> DataParallel::reduce(FlatParameters& parameters,
                                                   const std::map<std::string, torch::Tensor>& losses) {
  std::map<std::string, double> values;
  if (alone()) {
    for (const auto& [name, loss] : losses) values[name] = loss.item<double>();
    return values;
  }
  // The losses and this rank's stop request, then the gradient buckets.
  std::vector<torch::Tensor> sums;
  for (const auto& [name, loss] : losses) sums.push_back(loss.detach().to(torch::kDouble).reshape({1}));
  sums.push_back(torch::full({1}, io::stop_requested() ? 1.0 : 0.0, torch::TensorOptions(torch::kDouble).device(device_)));
  std::vector<torch::Tensor> tensors{torch::cat(sums)};
  const torch::Tensor& grads = parameters.grads();
  const std::int64_t per_bucket = std::max<std::int64_t>(1, kBucketBytes / grads.element_size());
  for (std::int64_t start = 0; start < grads.numel(); start += per_bucket)
    tensors.push_back(grads.narrow(0, start, std::min(per_bucket, grads.numel() - start)));
  group_->all_reduce_sum(tensors);
  const torch::Tensor summed = tensors[0].cpu();
  const double* sum = summed.data_ptr<double>();
  for (const auto& [name, loss] : losses) values[name] = *sum++;
  peer_stop_ = peer_stop_ || *sum > 0;
  return values;
}

bool DataParallel::stop_requested() {
  if (alone()) return io::stop_requested() != 0;
  const bool stop = peer_stop_;
  peer_stop_ = false;
  return stop;
}

void DataParallel::barrier() const {
  if (alone()) return;
  std::vector<torch::Tensor> token{torch::zeros({1}, torch::TensorOptions(torch::kFloat).device(device_))};
  group_->all_reduce_sum(token);
}

}  // namespace gm::train
