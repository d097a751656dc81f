// What every trainer shares: the common options, the training rows, shuffled batches, and the loop that logs the /history curves, shows progress and writes checkpoints.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include "gm/base/context.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/data_info.hpp"
#include "gm/nn/state.hpp"
#include "gm/train/data_parallel.hpp"
#include "gm/train/optimiser.hpp"

namespace CLI {
class App;
}

namespace gm::train {

struct LoopOptions {
  std::string data;    // dataset file
  std::string output;  // model file
  std::int64_t steps = 20000;
  std::int64_t batch = 256;
  std::int64_t checkpoint_every = 0;  // also write the model every N steps (0: only at the end)
  std::int64_t log_every = 100;       // steps per point of the /history curves
  std::string resume;                 // a checkpoint to continue from
  bool resumable = true;              // false: a stop signal ends the run without a checkpoint
  double peer_timeout = 300;          // data-parallel runs: seconds to wait for the other ranks

  void register_on(CLI::App& app);
  void check() const;
};

// Class conditioning and classifier-free guidance's label dropout (Ho & Salimans 2022).
struct ConditioningOptions {
  std::string conditional = "auto";
  double label_dropout = 0.1;  // fraction of rows trained with the "no label" token
  void register_on(CLI::App& app);
  void check() const;
};

// Labels with a random `rate` of them replaced by the "no label" token `classes`; undefined
// labels stay undefined.
torch::Tensor drop_labels(const torch::Tensor& labels, std::int64_t classes, double rate, at::Generator& generator);

// "1,2,2" -> {1, 2, 2}: a list option of non-negative integers; a usage error names `option`.
std::vector<std::int64_t> integer_list(const std::string& text, const char* option);

// The UNet's shape options (see nn::UNetConfig).
struct UNetOptions {
  std::int64_t width = 32;
  std::string multipliers = "1,2,2";
  std::int64_t blocks = 1;
  std::string attention = "7";
  void register_on(CLI::App& app);
  // The config for images of `shape` [C, H, W] with `classes` classes.
  nlohmann::json config(const std::vector<std::int64_t>& shape, std::int64_t classes) const;
};

// The rows of a dataset file on the run's device, in the model's units: vectors [N, D] as they
// are, images [N, C, H, W] mapped from their range to [-1, 1]; with their labels when the
// model is to be class-conditional.
struct TrainingData {
  io::Input input;
  torch::Tensor x;
  torch::Tensor y;  // int64 [N], or undefined
  models::DataInfo info;
};
// `conditional`: "yes" (the file must have /y), "no", or "auto" (labels for images, not for
// vectors, whose /y of toy data names modes, not classes).
TrainingData load_training_data(const std::string& path, const Context& context, const std::string& trainer,
                                bool images, const std::string& conditional = "no");

// Batches drawn without replacement, one shuffled pass over the rows after another.
class ShuffledBatches {
 public:
  ShuffledBatches(torch::Tensor rows, std::int64_t batch, at::Generator& generator);
  torch::Tensor next();
  const torch::Tensor& last_rows() const { return last_; }  // the row indices next() returned
  void track(ResumeState& state, const std::string& name) {
    state.track(name + ".order", &order_);
    state.track(name + ".cursor", &cursor_);
  }

 private:
  torch::Tensor rows_, order_, last_;
  std::int64_t batch_, cursor_ = 0;
  at::Generator& generator_;
};

// What a checkpoint keeps of one trained network (NAME is "" or ends in a dot): its
// parameters, Adam's moments and, when given, the weight average.
void track_network(ResumeState& state, const std::string& name, FlatParameters& parameters, Adam& adam,
                   WeightAverage* ema);
// The data order and the random generator every trainer draws from.
void track_data(ResumeState& state, ShuffledBatches& batches, at::Generator& generator);

// Curves over training, each a point per log interval: "step" and the named losses.
using Curves = std::map<std::string, std::vector<float>>;

// The model file of a trained module: its parameters and buffers, the averaged weights when
// `ema` is given, the curves as /history, and for a checkpoint the state to resume from.
io::ModelFile trained_model(const std::string& family, nlohmann::json config, const torch::nn::Module& module,
                            const WeightAverage* ema, const Curves& curves, nn::NamedTensors resume = {});

// Writes the model at a step: `resume` holds the state to continue from (for a checkpoint), or is
// empty (for the finished model).
using WriteModel = std::function<void(std::int64_t step, const Curves& curves, nn::NamedTensors resume)>;

// Runs `step` (returning its named losses) up to options.steps times, with progress on stderr, a
// point of every curve each log interval (failing when a loss is not finite), a checkpoint every
// checkpoint interval, and the finished model at the end. Everything `state` tracks, with the
// loop's own counters, goes in each checkpoint; with options.resume the run first restores it
// and continues where the checkpoint left off, ending bit-identical to an uninterrupted run.
// A first SIGINT or SIGTERM writes a checkpoint and ends the job as that signal.
// In a data-parallel run `step` returns what DataParallel::reduce summed over the ranks, a
// signal to any rank stops them all at the same step, and only rank 0 writes and shows progress.
// Returns the curves of the whole run.
Curves run_loop(const LoopOptions& options, const std::string& label,
              const std::function<std::map<std::string, double>()>& step, const WriteModel& write,
              ResumeState& state, DataParallel& parallel);

}  // namespace gm::train
