#include "gm/train/diffusion.hpp"

#include <CLI/CLI.hpp>
#include <ATen/CPUGeneratorImpl.h>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/progress.hpp"
#include "gm/io/gmfile.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/diffusion.hpp"
#include "gm/nn/state.hpp"

namespace gm::train {

void DiffusionTrainOptions::register_on(CLI::App& app) {
  app.add_option("--data", data, "Dataset file whose /x rows [N, D] the model learns")->type_name("FILE")->required();
  app.add_option("-o,--output", output, "Model file to write")->type_name("FILE")->required();
  app.add_option("--steps", steps, "Optimiser steps")->capture_default_str();
  app.add_option("--batch", batch, "Rows per step")->capture_default_str();
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str();
  app.add_option("--ema", ema_decay, "Decay of the exponential moving average of the weights")->capture_default_str();
  app.add_option("--hidden", hidden, "Width of the MLP's hidden layers")->capture_default_str();
  app.add_option("--depth", depth, "Hidden layers of the MLP after the input layer")->capture_default_str();
  app.add_option("--checkpoint-every", checkpoint_every, "Also write the model every N steps; 0 writes it once, at the end")
      ->capture_default_str();
  app.add_option("--log-every", log_every, "Steps per point of the /history training curve")->capture_default_str();
}

namespace {

void check_options(const DiffusionTrainOptions& o) {
  if (o.steps < 1) usage_fail("--steps {}: must be positive", o.steps);
  if (o.batch < 1) usage_fail("--batch {}: must be positive", o.batch);
  if (!(o.learning_rate > 0)) usage_fail("--lr {}: must be positive", o.learning_rate);
  if (!(o.ema_decay >= 0 && o.ema_decay < 1)) usage_fail("--ema {}: must be in [0, 1)", o.ema_decay);
  if (o.hidden < 1 || o.depth < 0) usage_fail("--hidden and --depth must be positive");
  if (o.checkpoint_every < 0 || o.log_every < 1) usage_fail("--checkpoint-every and --log-every must be positive");
}

}  // namespace

void train_diffusion(const DiffusionTrainOptions& options, const Context& context) {
  check_options(options);
  const io::Input input = io::open_gm(options.data, {io::Kind::dataset, io::Kind::samples});
  const torch::Tensor data = input.file.root().dataset("x").read().to(torch::kFloat).to(context.device);
  if (data.dim() != 2) fail("{}: /x has shape [N, C, H, W]; gm-train diffusion models vectors [N, D]", options.data);
  if (data.size(0) < 2) fail("{}: needs at least 2 rows, has {}", options.data, data.size(0));
  if (!torch::isfinite(data).all().item<bool>()) fail("{}: /x holds NaN or infinite values", options.data);

  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  models::DiffusionModel model;
  model.edm.sigma_data = data.std().item<double>();  // EDM: the data's standard deviation
  model.data_shape = {data.size(1)};
  nn::NoiseMlpConfig network;
  network.dim = data.size(1);
  network.hidden = options.hidden;
  network.depth = options.depth;
  model.net = nn::NoiseMlp(network);
  model.net->to(context.device);
  log::verbose("{} rows of {} dims, sigma_data {:.4f}", data.size(0), data.size(1), model.edm.sigma_data);

  std::vector<torch::Tensor> ema_weights;
  for (const auto& p : model.net->parameters()) ema_weights.push_back(p.detach().clone());
  torch::optim::Adam adam(model.net->parameters(), torch::optim::AdamOptions(options.learning_rate));
  const models::RawNet raw = model.raw();

  std::vector<float> curve_steps, curve_loss;
  const auto write = [&](std::int64_t step) {
    io::ModelFile file;
    file.family = "diffusion";
    file.config = model.config();
    file.config["trained_steps"] = step;
    file.config["batch"] = options.batch;
    file.params = nn::parameters_of(*model.net);
    const auto names = model.net->named_parameters();
    for (size_t i = 0; i < names.size(); ++i) file.ema.emplace(names[i].key(), ema_weights[i]);
    file.buffers = nn::buffers_of(*model.net);
    file.history = {{"step", torch::tensor(curve_steps)}, {"loss", torch::tensor(curve_loss)}};
    io::write_model(options.output, context, {input.record}, file);
  };

  // Rows are drawn without replacement, one shuffled pass over the data after another.
  const std::int64_t rows = data.size(0);
  torch::Tensor order = torch::randperm(rows, generator, torch::kLong);
  std::int64_t cursor = 0;
  const auto next_batch = [&] {
    std::vector<torch::Tensor> parts;
    std::int64_t need = options.batch;
    while (need > 0) {
      if (cursor == rows) {
        order = torch::randperm(rows, generator, torch::kLong);
        cursor = 0;
      }
      const std::int64_t take = std::min(need, rows - cursor);
      parts.push_back(order.slice(0, cursor, cursor + take));
      cursor += take;
      need -= take;
    }
    return data.index_select(0, torch::cat(parts).to(context.device));
  };

  Progress progress("training diffusion", options.steps, "steps");
  double interval_loss = 0;
  std::int64_t interval_steps = 0;
  model.net->train();
  for (std::int64_t step = 1; step <= options.steps; ++step) {
    adam.zero_grad();
    const torch::Tensor loss = models::edm_loss(raw, next_batch(), model.edm, generator);
    loss.backward();
    adam.step();
    {
      torch::NoGradGuard no_grad;
      const auto params = model.net->parameters();
      for (size_t i = 0; i < params.size(); ++i) ema_weights[i].lerp_(params[i], 1.0 - options.ema_decay);
    }
    interval_loss += loss.item<double>();
    ++interval_steps;
    if (step % options.log_every == 0 || step == options.steps) {
      const double mean = interval_loss / static_cast<double>(interval_steps);
      if (!std::isfinite(mean)) fail("{}: training diverged at step {} (loss {})", options.data, step, mean);
      curve_steps.push_back(static_cast<float>(step));
      curve_loss.push_back(static_cast<float>(mean));
      progress.update(step, fmt::format("loss {:.4f}", mean));
      interval_loss = 0;
      interval_steps = 0;
    }
    if (options.checkpoint_every > 0 && step % options.checkpoint_every == 0 && step < options.steps) write(step);
  }
  progress.finish();
  write(options.steps);
  log::verbose("wrote {}", options.output);
}

cli::Verb diffusion_verb() {
  auto options = std::make_shared<DiffusionTrainOptions>();
  return {"diffusion", "EDM diffusion model (Karras et al. 2022) on vector data",
          [options](CLI::App& command) -> cli::Action {
            options->register_on(command);
            return [options](const Context& context) { train_diffusion(*options, context); };
          }};
}

}  // namespace gm::train
