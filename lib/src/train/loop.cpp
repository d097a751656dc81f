#include "gm/train/loop.hpp"

#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/progress.hpp"
#include "gm/base/runtime.hpp"
#include "gm/base/shape.hpp"
#include "gm/base/text.hpp"
#include "gm/data/labels.hpp"
#include "gm/io/output.hpp"
#include "gm/models/latents.hpp"
#include "gm/nn/unet.hpp"

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
  app.add_option("--peer-timeout", peer_timeout,
                 "Data-parallel runs (torchrun, srun, mpirun): seconds to wait for the other ranks, at the start "
                 "and at every step, before failing")
      ->capture_default_str();
}

void LoopOptions::check() const {
  if (steps < 1) usage_fail("--steps {}: must be positive", steps);
  if (batch < 1) usage_fail("--batch {}: must be positive", batch);
  if (checkpoint_every < 0 || log_every < 1) usage_fail("--checkpoint-every and --log-every must be positive");
  if (!(peer_timeout > 0 && peer_timeout < 1e7)) usage_fail("--peer-timeout {}: must be a positive number of seconds", peer_timeout);
}

void ConditioningOptions::register_on(CLI::App& app) {
  app.add_option("--conditional", conditional,
                 "Condition on the /y class labels: yes, no, or auto (yes for labelled images, no for vectors)")
      ->capture_default_str();
  app.add_option("--label-dropout", label_dropout,
                 "Fraction of rows trained without their label, so that sampling can use classifier-free guidance")
      ->capture_default_str();
}

void ConditioningOptions::check() const {
  if (!(label_dropout >= 0 && label_dropout < 1)) usage_fail("--label-dropout {}: must be in [0, 1)", label_dropout);
}

torch::Tensor drop_labels(const torch::Tensor& labels, std::int64_t classes, double rate, at::Generator& generator) {
  if (!labels.defined() || rate == 0) return labels;
  const torch::Tensor dropped = torch::rand({labels.size(0)}, generator, torch::kFloat).to(labels.device()) < rate;
  return torch::where(dropped, torch::full_like(labels, classes), labels);
}

std::vector<std::int64_t> integer_list(const std::string& text, const char* option) {
  std::vector<std::int64_t> values;
  for (const std::string& item : split(text, ',')) {
    char* end = nullptr;
    const long long value = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || value < 0) usage_fail("{} {}: expected numbers such as 1,2,2", option, text);
    values.push_back(value);
  }
  return values;
}

void UNetOptions::register_on(CLI::App& app) {
  app.add_option("--width", width, "UNet: channels of the first level")->capture_default_str();
  app.add_option("--multipliers", multipliers, "UNet: channels of each level, times --width; each further level halves the resolution")
      ->capture_default_str();
  app.add_option("--blocks", blocks, "UNet: residual blocks per level")->capture_default_str();
  app.add_option("--attention", attention, "UNet: resolutions with self-attention, such as 7 or 14,7 (empty: none)")
      ->capture_default_str();
}

nlohmann::json UNetOptions::config(const std::vector<std::int64_t>& shape, std::int64_t classes) const {
  nn::UNetConfig c;
  c.channels = shape.at(0);
  c.resolution = shape.at(1);
  if (shape.at(1) != shape.at(2)) fail("the UNet takes square images, these are {}x{}", shape.at(2), shape.at(1));
  c.width = width;
  c.multipliers = integer_list(multipliers, "--multipliers");
  // The default levels shrink to those the rows halve into: 7x7 latents take one level.
  if (multipliers == UNetOptions{}.multipliers)
    while (c.multipliers.size() > 1 && c.resolution % (std::int64_t{1} << (c.multipliers.size() - 1)) != 0)
      c.multipliers.pop_back();
  c.blocks = blocks;
  c.attention = attention.empty() ? std::vector<std::int64_t>{} : integer_list(attention, "--attention");
  c.classes = classes;
  try {
    return nn::UNetConfig::from_json(c.to_json()).to_json();
  } catch (const Error& e) {
    usage_fail("{}", e.what());
  }
}

TrainingData load_training_data(const std::string& path, const Context& context, const std::string& trainer,
                                bool images, const std::string& conditional) {
  if (conditional != "auto" && conditional != "yes" && conditional != "no")
    usage_fail("--conditional {}: expected auto, yes or no", conditional);
  io::Input input = io::open_gm(path, {io::Kind::dataset, io::Kind::samples});
  const h5::Group root = input.file.root();
  const h5::Dataset x_set = root.dataset("x");
  const torch::Tensor raw = x_set.read();
  TrainingData data{std::move(input), {}, {}, {}};
  data.info.shape.assign(raw.sizes().begin() + 1, raw.sizes().end());
  data.info.latent = models::read_latent_space(root, path);
  const bool is_image = !data.info.latent && raw.dim() == 4 && data::is_image_shape(raw.sizes().slice(1));
  if (data.info.latent) {
    // An autoencoder's latents: spatial rows in the autoencoder's own units.
    if (raw.dim() != 4 || !images)
      fail("{}: holds latents of shape {}; gm-train {} models {}", path, shape_text(raw.sizes()), trainer,
           images ? "latents [N, L, h, w]" : "vectors [N, D]");
  } else if (is_image && images) {
    const auto range = io::range_attr(x_set);
    if (!range && raw.scalar_type() != torch::kByte)
      fail("{}: /x holds float images without a range attribute, so their scale is unknown", path);
    data.info.image_range = range.value_or(data::Range{0, 255});
  } else if (raw.dim() != 2) {
    fail("{}: /x has shape {}; gm-train {} models {}", path, shape_text(raw.sizes()), trainer,
         images ? "vectors [N, D] or images [N, C, H, W] with C 1 or 3" : "vectors [N, D]");
  }
  if (raw.size(0) < 2) fail("{}: needs at least 2 rows, has {}", path, raw.size(0));
  data.x = data.info.to_model(raw);
  if (!torch::isfinite(data.x).all().item<bool>()) fail("{}: /x holds NaN or infinite values", path);
  const bool labelled =
      conditional == "yes" || (conditional == "auto" && (is_image || data.info.latent) && images && root.has_dataset("y"));
  if (labelled) {
    if (!root.has_dataset("y")) fail("{}: --conditional yes needs class labels, and the file has no /y", path);
    const h5::Dataset y_set = root.dataset("y");
    data.y = data::checked_labels(y_set.read(), raw.size(0), y_set.where());
    const std::int64_t high = data.y.max().item<std::int64_t>();
    if (high > (1 << 20)) fail("{}: /y labels reach {}; gm takes at most 2^20 classes", path, high);
    if (y_set.has_attr("class_names")) data.info.class_names = y_set.strings_attr("class_names");
    if (static_cast<std::int64_t>(data.info.class_names.size()) <= high) {
      if (!data.info.class_names.empty()) fail("{}: /y holds label {} past its {} class_names", path, high, data.info.class_names.size());
      for (std::int64_t c = 0; c <= high; ++c) data.info.class_names.push_back(std::to_string(c));
    }
    const torch::Tensor counts = torch::bincount(data.y, {}, data.info.classes()).to(torch::kDouble);
    const torch::Tensor prior = (counts / counts.sum()).contiguous();
    data.info.class_prior.assign(prior.data_ptr<double>(), prior.data_ptr<double>() + prior.numel());
    data.y = data.y.to(context.device);
  }
  data.x = data.x.to(context.device);
  return data;
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
  last_ = torch::cat(parts).to(rows_.device());
  return rows_.index_select(0, last_);
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
  if (ema) {
    file.ema = ema->weights();
    file.config["ema"] = {{"decay", ema->options().decay}, {"rampup", ema->options().rampup}};
  }
  file.buffers = nn::buffers_of(module);
  for (const auto& [name, values] : curves) file.history.emplace(name, torch::tensor(values));
  file.resume = std::move(resume);
  return file;
}

Curves run_loop(const LoopOptions& options, const std::string& label,
              const std::function<std::map<std::string, double>()>& step, const WriteModel& write,
              ResumeState& state, DataParallel& parallel) {
  keep_freed_memory_for_reuse();
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
    const bool stop = parallel.stop_requested();
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
    if (stop && at < options.steps) {
      if (!options.resumable) io::stop_by_signal();
      if (parallel.leader()) write(at, curves, state.save());
      progress.finish();
      log::info("stopped at step {}; continue with --resume {}", at, options.output);
      io::stop_by_signal();
    }
    if (options.checkpoint_every > 0 && at % options.checkpoint_every == 0 && at < options.steps &&
        parallel.leader())
      write(at, curves, state.save());
  }
  progress.finish();
  if (parallel.leader()) {
    write(options.steps, curves, {});
    log::verbose("wrote {}", options.output);
  }
  // Every rank fails if rank 0 could not write the model.
  parallel.barrier();
  return curves;
}

}  // namespace gm::train
