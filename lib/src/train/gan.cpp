#include "gm/train/gan.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/gan.hpp"
#include "gm/nn/dcgan.hpp"
#include "gm/nn/mlp.hpp"

namespace gm::train {

void GanTrainOptions::register_on(CLI::App& app) {
  loop.register_on(app);
  app.add_option("--lr", learning_rate, "Adam learning rate of both networks (betas 0.5, 0.999)")
      ->capture_default_str();
  app.add_option("--loss", loss, "ns (non-saturating) or hinge")->capture_default_str();
  app.add_option("--r1", r1, "Gamma of the R1 gradient penalty on real data; 0 turns it off")->capture_default_str();
  app.add_option("--pack", pack, "PacGAN: samples the discriminator judges together; --batch must divide by it")
      ->capture_default_str();
  app.add_option("--latent", latent, "Dimensions of the generator's Gaussian input (default 16 for mlp, 64 for dcgan)");
  app.add_option("--arch", arch, "Networks: mlp (vectors), dcgan (images), or auto: whichever fits the data")
      ->capture_default_str();
  app.add_option("--hidden", hidden, "MLP: width of both networks' hidden layers")->capture_default_str();
  app.add_option("--depth", depth, "MLP: hidden layers of both networks")->capture_default_str();
  app.add_option("--width", width, "DCGAN: channels at full resolution, doubling at each halving")->capture_default_str();
  app.add_option("--conditional", conditional,
                 "Condition both networks on the /y class labels: yes, no, or auto (yes for labelled images)")
      ->capture_default_str();
}

void train_gan(const GanTrainOptions& options, const Context& context) {
  options.loop.check();
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  if (options.loss != "ns" && options.loss != "hinge") usage_fail("--loss {}: expected ns or hinge", options.loss);
  if (!(options.r1 >= 0)) usage_fail("--r1 {}: must be zero or positive", options.r1);
  if (options.pack < 1 || options.loop.batch % options.pack != 0)
    usage_fail("--pack {}: must be positive and divide --batch {}", options.pack, options.loop.batch);
  if (options.latent < 0 || options.hidden < 1 || options.depth < 1 || options.width < 8 || options.width % 8 != 0)
    usage_fail("--latent, --hidden and --depth must be positive, --width a multiple of 8");
  if (options.arch != "auto" && options.arch != "mlp" && options.arch != "dcgan")
    usage_fail("--arch {}: expected mlp, dcgan or auto", options.arch);
  const TrainingData data = load_training_data(options.loop.data, context, "gan", options.arch != "mlp", options.conditional);
  if (data.info.latent) fail("{}: holds latents; gm-train gan trains on images or vectors", options.loop.data);
  const bool images = data.info.is_image();
  if (options.arch == "dcgan" && !images) fail("{}: --arch dcgan needs images [N, C, H, W]", options.loop.data);
  if (options.pack > 1 && data.y.defined()) usage_fail("--pack goes with an unconditional GAN (--conditional no)");

  DataParallel parallel(context, options.loop);
  // Each rank packs whole groups of its own rows.
  if (options.pack > 1 && options.loop.batch % (options.pack * parallel.world()) != 0)
    usage_fail("--batch {}: must divide into groups of --pack {} on each of {} ranks", options.loop.batch, options.pack,
               parallel.world());
  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  models::GanConfig config;
  config.latent = options.latent > 0 ? options.latent : images ? 64 : 16;
  config.loss = options.loss;
  config.r1 = options.r1;
  config.pack = options.pack;
  config.data = data.info;
  if (images) {
    nn::DcganConfig g{data.info.shape[0], data.info.shape[1], options.width, config.latent, data.info.classes()};
    if (data.info.shape[1] != data.info.shape[2]) fail("{}: DCGAN takes square images", options.loop.data);
    if (g.levels() < 1) fail("{}: images of {} pixels do not halve to a grid of 7 or less", options.loop.data, g.resolution);
    nn::DcganConfig d = g;
    d.channels *= options.pack;
    config.generator = g.to_json("dcgan_generator");
    config.discriminator = d.to_json("dcgan_discriminator");
  } else {
    const std::int64_t dim = data.x.size(1);
    config.generator = nn::MlpConfig{config.latent, dim, options.hidden, options.depth, "relu"}.to_json();
    config.discriminator = nn::MlpConfig{dim * options.pack, 1, options.hidden, options.depth, "leaky_relu"}.to_json();
  }
  models::GanNets nets(models::GanConfig::from_json(config.to_json()));
  nets->to(context.device);
  nets->train();

  FlatParameters g_parameters(*nets->generator), d_parameters(*nets->discriminator);
  parallel.broadcast(g_parameters);
  parallel.broadcast(d_parameters);
  const AdamOptions adam{options.learning_rate, 0.5, 0.999};  // beta1 0.5, as DCGAN trains
  Adam g_adam(g_parameters, adam), d_adam(d_parameters, adam);
  ShuffledBatches batches(data.x, options.loop.batch, generator);
  ResumeState state;
  track_network(state, "generator.", g_parameters, g_adam, nullptr);
  track_network(state, "discriminator.", d_parameters, d_adam, nullptr);
  track_data(state, batches, generator);
  // Drawn for the whole batch, so that every rank draws what one process would.
  const auto noise = [&] {
    return parallel.local(torch::randn({options.loop.batch, config.latent}, generator, torch::kFloat).to(context.device));
  };
  const auto share = [&](const torch::Tensor& loss) { return parallel.share(loss, options.loop.batch); };

  const auto step = [&]() -> std::map<std::string, double> {
    // Discriminator: real rows against generated ones.
    const torch::Tensor real = parallel.local(batches.next());
    // Fakes are drawn for the real batch's labels, so each class is judged on equal terms.
    const torch::Tensor labels =
        parallel.local(data.y.defined() ? data.y.index_select(0, batches.last_rows()) : torch::Tensor());
    torch::Tensor fake;
    {
      torch::NoGradGuard no_grad;
      fake = nets->generate(noise(), labels);
    }
    d_adam.zero_grad();
    torch::Tensor d_loss = share(models::discriminator_loss(nets->judge(real, labels), nets->judge(fake, labels), options.loss));
    std::map<std::string, torch::Tensor> d_losses;
    if (options.r1 > 0) {
      const torch::Tensor penalty = share(models::r1_penalty(*nets, real, options.r1, labels));
      d_losses["r1"] = penalty;
      d_loss = d_loss + penalty;
    }
    d_losses["d_loss"] = d_loss;
    d_loss.backward();
    std::map<std::string, double> losses = parallel.reduce(d_parameters, d_losses);
    d_adam.step();
    // Generator: fool the updated discriminator.
    g_adam.zero_grad();
    const torch::Tensor g_loss =
        share(models::generator_loss(nets->judge(nets->generate(noise(), labels), labels), options.loss));
    g_loss.backward();
    losses.merge(parallel.reduce(g_parameters, {{"g_loss", g_loss}}));
    g_adam.step();
    return losses;
  };
  const auto write = [&](std::int64_t at, const Curves& curves, nn::NamedTensors resume) {
    io::ModelFile file = trained_model("gan", config.to_json(), *nets, nullptr, curves, std::move(resume));
    file.config["trained_steps"] = at;
    file.config["batch"] = options.loop.batch;
    io::write_model(options.loop.output, context, {data.input.record}, file);
  };
  run_loop(options.loop, "training gan", step, write, state, parallel);
}

cli::Verb gan_verb() {
  return cli::make_verb<GanTrainOptions>(
      "gan", "GAN, MLPs on vectors or DCGAN on images: non-saturating or hinge loss, R1 penalty, PacGAN packing",
      train_gan);
}

}  // namespace gm::train
