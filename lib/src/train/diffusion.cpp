#include "gm/train/diffusion.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/shape.hpp"
#include "gm/nn/noise_mlp.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/diffusion.hpp"

namespace gm::train {

void DiffusionTrainOptions::register_on(CLI::App& app) {
  loop.register_on(app);
  app.add_option("--parametrisation", parametrisation,
                 "What the network predicts: edm (EDM preconditioning, Karras et al. 2022), or a DDPM of 1000 "
                 "linear-beta steps (Ho et al. 2020) predicting eps (the noise) or v (Salimans & Ho 2022)")
      ->capture_default_str();
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str();
  ema.register_on(app, "Decay of the exponential moving average of the weights");
  app.add_option("--arch", arch, "Network: mlp (vectors), unet (images), or auto: whichever fits the data")
      ->capture_default_str();
  app.add_option("--hidden", hidden, "MLP: width of the hidden layers")->capture_default_str();
  app.add_option("--depth", depth, "MLP: hidden layers after the input layer")->capture_default_str();
  unet.register_on(app);
  conditioning.register_on(app);
}

void train_diffusion(const DiffusionTrainOptions& options, const Context& context) {
  options.loop.check();
  if (!models::is_parametrisation(options.parametrisation))
    usage_fail("--parametrisation {}: expected edm, eps or v", options.parametrisation);
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  options.ema.check();
  if (options.hidden < 1 || options.depth < 0) usage_fail("--hidden and --depth must be positive");
  if (options.arch != "auto" && options.arch != "mlp" && options.arch != "unet")
    usage_fail("--arch {}: expected mlp, unet or auto", options.arch);
  options.conditioning.check();
  TrainingData data = load_training_data(options.loop.data, context, "diffusion", options.arch != "mlp",
                                         options.conditioning.conditional);
  const bool images = data.info.is_spatial();  // images or latents
  if (options.arch == "unet" && !images) fail("{}: --arch unet needs images or latents [N, C, H, W]", options.loop.data);

  DataParallel parallel(context, options.loop);
  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  models::DiffusionModel model;
  const double sigma_data = data.x.std().item<double>();  // EDM: the data's standard deviation
  model.edm = options.parametrisation == "edm" ? models::EdmConfig{"edm", sigma_data}
                                               : models::EdmConfig::ddpm(options.parametrisation, sigma_data);
  model.data = data.info;
  if (images) {
    model.net = nn::make_denoiser(options.unet.config(data.info.shape, data.info.classes()));
  } else {
    nn::NoiseMlpConfig network;
    network.dim = data.x.size(1);
    network.hidden = options.hidden;
    network.depth = options.depth;
    network.classes = data.info.classes();
    model.net = std::make_shared<nn::NoiseMlpImpl>(network);
  }
  model.net->to(context.device);
  model.net->train();
  log::verbose("{} rows of shape {}, {} classes, sigma_data {:.4f}", data.x.size(0), shape_text(data.info.shape),
               data.info.classes(), model.edm.sigma_data);

  FlatParameters parameters(*model.net);
  parallel.broadcast(parameters);
  WeightAverage ema(parameters, options.ema);
  Adam adam(parameters, {options.learning_rate});
  ShuffledBatches batches(data.x, options.loop.batch, generator);
  ResumeState state;
  track_network(state, "", parameters, adam, &ema);
  track_data(state, batches, generator);

  const auto step = [&]() -> std::map<std::string, double> {
    adam.zero_grad();
    const torch::Tensor x = batches.next();
    const torch::Tensor labels = drop_labels(data.y.defined() ? data.y.index_select(0, batches.last_rows()) : torch::Tensor(),
                                             data.info.classes(), options.conditioning.label_dropout, generator);
    const torch::Tensor loss = parallel.share(
        models::edm_loss(model.raw(parallel.local(labels)), x, model.edm, generator, parallel.rows(x.size(0))), x.size(0));
    loss.backward();
    const std::map<std::string, double> losses = parallel.reduce(parameters, {{"loss", loss}});
    adam.step();
    ema.update();
    return losses;
  };
  const auto write = [&](std::int64_t at, const Curves& curves, nn::NamedTensors resume) {
    io::ModelFile file = trained_model("diffusion", model.config(), *model.net, &ema, curves, std::move(resume));
    file.config["trained_steps"] = at;
    file.config["batch"] = options.loop.batch;
    if (data.y.defined()) file.config["label_dropout"] = options.conditioning.label_dropout;
    io::write_model(options.loop.output, context, {data.input.record}, file);
  };
  run_loop(options.loop, "training diffusion", step, write, state, parallel);
}

cli::Verb diffusion_verb() {
  return cli::make_verb<DiffusionTrainOptions>(
      "diffusion",
      "Diffusion model, an MLP on vectors or a UNet on images: EDM (Karras et al. 2022), or DDPM eps or v prediction",
      train_diffusion);
}

}  // namespace gm::train
