#include "gm/train/gan.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/gan.hpp"

namespace gm::train {

void GanTrainOptions::register_on(CLI::App& app) {
  loop.register_on(app);
  app.add_option("--lr", learning_rate, "Adam learning rate of both networks (betas 0.5, 0.999)")
      ->capture_default_str();
  app.add_option("--loss", loss, "ns (non-saturating) or hinge")->capture_default_str();
  app.add_option("--r1", r1, "Gamma of the R1 gradient penalty on real data; 0 turns it off")->capture_default_str();
  app.add_option("--pack", pack, "PacGAN: samples the discriminator judges together; --batch must divide by it")
      ->capture_default_str();
  app.add_option("--latent", latent, "Dimensions of the generator's Gaussian input")->capture_default_str();
  app.add_option("--hidden", hidden, "Width of both networks' hidden layers")->capture_default_str();
  app.add_option("--depth", depth, "Hidden layers of both networks")->capture_default_str();
}

void train_gan(const GanTrainOptions& options, const Context& context) {
  options.loop.check();
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  if (options.loss != "ns" && options.loss != "hinge") usage_fail("--loss {}: expected ns or hinge", options.loss);
  if (!(options.r1 >= 0)) usage_fail("--r1 {}: must be zero or positive", options.r1);
  if (options.pack < 1 || options.loop.batch % options.pack != 0)
    usage_fail("--pack {}: must be positive and divide --batch {}", options.pack, options.loop.batch);
  if (options.latent < 1 || options.hidden < 1 || options.depth < 1)
    usage_fail("--latent, --hidden and --depth must be positive");
  const VectorData data = load_vectors(options.loop.data, context, "gan");

  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  models::GanConfig config;
  config.latent = options.latent;
  config.loss = options.loss;
  config.r1 = options.r1;
  config.pack = options.pack;
  config.data_shape = {data.x.size(1)};
  config.generator = {options.latent, data.x.size(1), options.hidden, options.depth, "relu"};
  config.discriminator = {data.x.size(1) * options.pack, 1, options.hidden, options.depth, "leaky_relu"};
  models::GanNets nets(config);
  nets->to(context.device);
  nets->train();

  FlatParameters g_parameters(*nets->generator), d_parameters(*nets->discriminator);
  const AdamOptions adam{options.learning_rate, 0.5, 0.999};  // beta1 0.5, as DCGAN trains
  Adam g_adam(g_parameters, adam), d_adam(d_parameters, adam);
  ShuffledBatches batches(data.x, options.loop.batch, generator);
  ResumeState state;
  track_network(state, "generator.", g_parameters, g_adam, nullptr);
  track_network(state, "discriminator.", d_parameters, d_adam, nullptr);
  track_data(state, batches, generator);
  const auto noise = [&] {
    return torch::randn({options.loop.batch, options.latent}, generator, torch::kFloat).to(context.device);
  };

  const auto step = [&]() -> std::map<std::string, double> {
    // Discriminator: real rows against generated ones.
    const torch::Tensor real = batches.next();
    torch::Tensor fake;
    {
      torch::NoGradGuard no_grad;
      fake = nets->generator->forward(noise());
    }
    d_adam.zero_grad();
    torch::Tensor d_loss = models::discriminator_loss(nets->judge(real), nets->judge(fake), options.loss);
    std::map<std::string, double> losses;
    if (options.r1 > 0) {
      const torch::Tensor penalty = models::r1_penalty(*nets, real, options.r1);
      losses["r1"] = penalty.item<double>();
      d_loss = d_loss + penalty;
    }
    d_loss.backward();
    d_adam.step();
    // Generator: fool the updated discriminator.
    g_adam.zero_grad();
    const torch::Tensor g_loss = models::generator_loss(nets->judge(nets->generator->forward(noise())), options.loss);
    g_loss.backward();
    g_adam.step();
    losses["d_loss"] = d_loss.item<double>();
    losses["g_loss"] = g_loss.item<double>();
    return losses;
  };
  const auto write = [&](std::int64_t at, const Curves& curves, nn::NamedTensors resume) {
    io::ModelFile file = trained_model("gan", config.to_json(), *nets, nullptr, curves, std::move(resume));
    file.config["trained_steps"] = at;
    file.config["batch"] = options.loop.batch;
    io::write_model(options.loop.output, context, {data.input.record}, file);
  };
  run_loop(options.loop, "training gan", step, write, state);
}

cli::Verb gan_verb() {
  return cli::make_verb<GanTrainOptions>(
      "gan", "GAN on vector data: non-saturating or hinge loss, R1 penalty, PacGAN packing", train_gan);
}

}  // namespace gm::train
