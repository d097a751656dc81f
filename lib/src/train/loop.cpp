#include "gm/train/loop.hpp"

#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/progress.hpp"
#include "gm/io/output.hpp"

namespace gm::train {

void LoopOptions::register_on(CLI::App& app) {
  app.add_option("--data", data, "Dataset file whose /x rows [N, D] the model learns")->type_name("FILE")->required();
  app.add_option("-o,--output", output, "Model file to write")->type_name("FILE")->required();
  app.add_option("--steps", steps, "Optimiser steps")->capture_default_str();
  app.add_option("--batch", batch, "Rows per step")->capture_default_str();
  app.add_option("--checkpoint-every", checkpoint_every, "Also write the model every N steps; 0 writes it once, at the end")
      ->capture_default_str();
  app.add_option("--log-every", log_every, "Steps per point of the /history training curves")->capture_default_str();
  app.add_option("--resume", resume,
                 "Continue from a checkpoint that --checkpoint-every or a stop signal wrote; the run ends as the "
                 "uninterrupted one would, bit for bit on CPU")
      ->type_name("FILE");
}

void LoopOptions::check() const {
  if (steps < 1) usage_fail("--steps {}: must be positive", steps);
  if (batch < 1) usage_fail("--batch {}: must be positive", batch);
  if (checkpoint_every < 0 || log_every < 1) usage_fail("--checkpoint-every and --log-every must be positive");
}

VectorData load_vectors(const std::string& path, const Context& context, const std::string& trainer) {
  io::Input input = io::open_gm(path, {io::Kind::dataset, io::Kind::samples});
  torch::Tensor x = input.file.root().dataset("x").read().to(torch::kFloat);
  if (x.dim() != 2) fail("{}: /x has {} axes; gm-train {} models vectors [N, D]", path, x.dim(), trainer);
  if (x.size(0) < 2) fail("{}: needs at least 2 rows, has {}", path, x.size(0));
  if (!torch::isfinite(x).all().item<bool>()) fail("{}: /x holds NaN or infinite values", path);
  return {std::move(input), x.to(context.device)};
}

ShuffledBatches::ShuffledBatches(torch::Tensor rows, std::int64_t batch, at::Generator& generator)
    : rows_(std::move(rows)), batch_(batch), generator_(generator) {
  order_ = torch::randperm(rows_.size(0), generator_, torch::kLong);
}

torch::Tensor ShuffledBatches::next() {
  std::vector<torch::Tensor> parts;
  std::int64_t need = batch_;
  const std::int64_t count = rows_.size(0);
  while (need > 0) {
    if (cursor_ == count) {
      order_ = torch::randperm(count, generator_, torch::kLong);
      cursor_ = 0;
    }
    const std::int64_t take = std::min(need, count - cursor_);
    parts.push_back(order_.slice(0, cursor_, cursor_ + take));
    cursor_ += take;
    need -= take;
  }
  return rows_.index_select(0, torch::cat(parts).to(rows_.device()));
}

void track_network(ResumeState& state, const std::string& name, FlatParameters& parameters, Adam& adam,
                   WeightAverage* ema) {
  parameters.track(state, name + "params");
  adam.track(state, name + "adam");
  if (ema) ema->track(state, name + "ema");
}

void track_data(ResumeState& state, ShuffledBatches& batches, at::Generator& generator) {
  batches.track(state, "batches");
  state.track("generator", &generator);
}

io::ModelFile trained_model(const std::string& family, nlohmann::json config, const torch::nn::Module& module,
                            const WeightAverage* ema, const Curves& curves, nn::NamedTensors resume) {
  io::ModelFile file;
  file.family = family;
  file.config = std::move(config);
  file.params = nn::parameters_of(module);
  if (ema) file.ema = ema->weights();
  file.buffers = nn::buffers_of(module);
  for (const auto& [name, values] : curves) file.history.emplace(name, torch::tensor(values));
  file.resume = std::move(resume);
  return file;
}

void run_loop(const LoopOptions& options, const std::string& label,
              const std::function<std::map<std::string, double>()>& step, const WriteModel& write,
              ResumeState& state) {
  Curves curves;
  std::map<std::string, double> sums;
  std::int64_t in_interval = 0, done = 0;
  state.track("loop.step", &done);
  state.track("loop.in_interval", &in_interval);
  state.track("loop.sums", &sums);
  if (!options.resume.empty()) {
    const io::Input input = io::open_gm(options.resume, {io::Kind::model});
    const io::ModelFile checkpoint = io::read_model(input);
    if (checkpoint.resume.empty())
      fail("{}: holds no resume state (a finished model, not a checkpoint)", options.resume);
    state.restore(checkpoint.resume, options.resume);
    for (const auto& [name, values] : checkpoint.history) {
      const torch::Tensor v = values.to(torch::kFloat).contiguous();
      curves[name].assign(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
    }
    if (done >= options.steps) fail("{}: already trained {} steps of the {} asked", options.resume, done, options.steps);
    log::info("resuming from {} at step {}", options.resume, done);
  }
  io::defer_stop_signals();
  Progress progress(label, options.steps, "steps");
  for (std::int64_t at = done + 1; at <= options.steps; ++at) {
    for (const auto& [name, value] : step()) sums[name] += value;
    ++in_interval;
    done = at;
    if (at % options.log_every == 0 || at == options.steps) {
      curves["step"].push_back(static_cast<float>(at));
      std::string shown;
      for (auto& [name, sum] : sums) {
        const double mean = sum / static_cast<double>(in_interval);
        if (!std::isfinite(mean)) fail("{}: training diverged at step {} ({} is {})", options.data, at, name, mean);
        curves[name].push_back(static_cast<float>(mean));
        shown += fmt::format("{}{} {:.4f}", shown.empty() ? "" : " ", name, mean);
        sum = 0;
      }
      in_interval = 0;
      progress.update(at, shown);
    }
    if (io::stop_requested() && at < options.steps) {
      if (!options.resumable) io::stop_by_signal();
      write(at, curves, state.save());
      progress.finish();
      log::info("stopped at step {}; continue with --resume {}", at, options.output);
      io::stop_by_signal();
    }
    if (options.checkpoint_every > 0 && at % options.checkpoint_every == 0 && at < options.steps)
      write(at, curves, state.save());
  }
  progress.finish();
  write(options.steps, curves, {});
  log::verbose("wrote {}", options.output);
}

}  // namespace gm::train
