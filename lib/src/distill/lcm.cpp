#include "gm/distill/lcm.hpp"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/base/text.hpp"
#include "gm/distill/teacher.hpp"
#include "gm/models/consistency.hpp"
#include "gm/nn/state.hpp"

namespace gm::distill {

void LcmOptions::register_on(CLI::App& app) {
  app.add_option("teacher", teacher, "Diffusion model file to distill, usually a latent diffusion model")->required();
  loop.register_on(app);
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str();
  app.add_option("--target-ema", target_ema, "Decay mu of the target network")->capture_default_str();
  ema.register_on(app, "Decay of the weight average that gm-sample uses");
  app.add_option("--grid", grid, "Points N of the Karras discretisation of the teacher's noise levels")->capture_default_str();
  app.add_option("--skip", skip, "Skipping step k: the teacher's DDIM step goes from point n + k to point n")
      ->capture_default_str();
  app.add_option("--guidance-range", guidance_range,
                 "Class-conditional teachers: the guidance scales w the student learns, drawn uniformly from W_MIN,W_MAX; "
                 "the teacher's step uses (1 + w) D(x, class) - w D(x)")
      ->type_name("W_MIN,W_MAX")
      ->capture_default_str();
  app.add_option("--huber-c", huber_c, "Pseudo-Huber constant c; 0 picks 0.00054 sqrt(d)")->capture_default_str();
}

namespace {

std::pair<double, double> parse_guidance_range(const std::string& text) {
  const std::vector<std::string> parts = split(text, ',');
  char* end_low = nullptr;
  char* end_high = nullptr;
  const double low = parts.size() == 2 ? std::strtod(parts[0].c_str(), &end_low) : NAN;
  const double high = parts.size() == 2 ? std::strtod(parts[1].c_str(), &end_high) : NAN;
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty() || *end_low != '\0' || *end_high != '\0' ||
      !(low >= 0 && high >= low && high < 1000))
    usage_fail("--guidance-range {}: expected W_MIN,W_MAX with 0 <= W_MIN <= W_MAX, such as 0,4", text);
  return {low, high};
}

}  // namespace

void distill_lcm(const LcmOptions& options, const Context& context) {
  options.loop.check();
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  options.ema.check();
  if (!(options.target_ema >= 0 && options.target_ema < 1)) usage_fail("--target-ema {}: must be in [0, 1)", options.target_ema);
  if (options.grid < 2 || options.grid > 100000) usage_fail("--grid {}: expected 2 to 100000 points", options.grid);
  if (options.skip < 1 || options.skip >= options.grid)
    usage_fail("--skip {}: must be at least 1 and less than --grid {}", options.skip, options.grid);
  if (options.huber_c < 0) usage_fail("--huber-c {}: must be zero or positive", options.huber_c);
  // Not a structured binding: lambdas below capture them, which C++17 allows only for variables.
  const std::pair<double, double> range = parse_guidance_range(options.guidance_range);
  const double w_min = range.first, w_max = range.second;
  const TeacherRun run = load_teacher(options.teacher, options.loop.data, context, "lcm");
  const models::DiffusionModel& teacher = run.teacher;
  const bool guided = teacher.data.classes() > 0;
  if (!guided) log::info("the teacher is unconditional: the student learns its ODE without guidance");

  train::DataParallel parallel(context, options.loop);
  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  // The student (and its target) is the teacher's network with the guidance scale as a further
  // input, whose embedding starts at zero, so both start as the teacher.
  const auto grown = [&]() {
    models::DiffusionModel model = run.copy(context);
    if (!guided) return model;
    nlohmann::json network = model.net->config_json();
    network["guidance_input"] = true;
    const nn::Denoiser net = nn::make_denoiser(network);
    nn::copy_matching(*net, *model.net);
    net->to(context.device);
    model.net = net;
    return model;
  };
  models::DiffusionModel student = grown(), target = grown();
  student.net->train();
  const models::EdmConfig& edm = teacher.edm;
  const double huber_c =
      options.huber_c > 0 ? options.huber_c : 0.00054 * std::sqrt(static_cast<double>(run.data.x[0].numel()));
  const torch::Tensor ts = torch::tensor(models::ascending_grid(options.grid, edm), torch::kFloat).to(context.device);
  log::verbose("grid of {} sigmas, skip {}, guidance scales [{}, {}], pseudo-Huber c {:.6f}", options.grid, options.skip,
               w_min, w_max, huber_c);

  train::FlatParameters parameters(*student.net), target_parameters(*target.net);
  parallel.broadcast(parameters);
  parallel.broadcast(target_parameters);
  train::WeightAverage ema(parameters, options.ema);
  train::Adam adam(parameters, {options.learning_rate});
  train::ShuffledBatches batches(run.data.x, options.loop.batch, generator);
  train::ResumeState state;
  train::track_network(state, "", parameters, adam, &ema);
  target_parameters.track(state, "target");
  train::track_data(state, batches, generator);
  const nn::Denoiser teacher_net = teacher.net;
  const std::int64_t classes = teacher.data.classes();

  const auto step = [&]() -> std::map<std::string, double> {
    // Luo et al. Algorithm 1: n uniform in [0, N - 1 - k], w uniform in [w_min, w_max].
    const TeacherRun::Draws draws = run.draw(batches, generator, options.grid - options.skip, parallel);
    const torch::Tensor w_all = torch::rand({options.loop.batch}, generator, torch::kFloat) * (w_max - w_min) + w_min;
    const torch::Tensor w = parallel.local(w_all.to(context.device));
    const torch::Tensor &y = draws.y, &labels = draws.labels, &n = draws.step, &noise = draws.noise;
    const auto row = [&y](const torch::Tensor& t) { return models::per_row(t, y); };
    const torch::Tensor t_hi = ts.index_select(0, n + options.skip), t_lo = ts.index_select(0, n);
    const torch::Tensor x_hi = y + row(t_hi) * noise;
    // The augmented PF-ODE: the teacher's guided denoiser (1 + w) D(x, c) - w D(x), each row with its own w.
    const models::RawNet guided_teacher = [&](const torch::Tensor& x, const torch::Tensor& c_noise) {
      if (!guided) return teacher_net->forward(x, c_noise, labels);
      const std::int64_t rows = x.size(0);
      const torch::Tensor conditional = nn::labels_or_null(labels, rows, classes, x.device());
      const torch::Tensor both = teacher_net->forward(torch::cat({x, x}), torch::cat({c_noise, c_noise}),
                                                      torch::cat({conditional, torch::full_like(conditional, classes)}));
      return (1 + row(w)) * both.slice(0, 0, rows) - row(w) * both.slice(0, rows);
    };
    const auto with_w = [&](const nn::Denoiser& net) -> models::RawNet {
      return [&net, &labels, &w](const torch::Tensor& x, const torch::Tensor& c_noise) {
        return net->forward(x, c_noise, labels, w);
      };
    };
    torch::Tensor target_value;
    {
      torch::NoGradGuard no_grad;
      // One DDIM (Euler) step of the guided ODE over k grid intervals: the skipping-step solver.
      const torch::Tensor denoised = models::edm_denoise(guided_teacher, x_hi, t_hi, edm);
      const torch::Tensor x_lo = denoised + row(t_lo / t_hi) * (x_hi - denoised);
      target_value = models::consistency_function(with_w(target.net), x_lo, t_lo, edm);
    }
    adam.zero_grad();
    const torch::Tensor loss = parallel.share(
        models::pseudo_huber(models::consistency_function(with_w(student.net), x_hi, t_hi, edm), target_value, huber_c),
        options.loop.batch);
    return update_consistency_student(loss, parameters, target_parameters, options.target_ema, adam, ema, parallel);
  };
  const auto write = [&](std::int64_t at, const train::Curves& curves, nn::NamedTensors resume) {
    io::ModelFile file =
        train::trained_model("consistency", student.config(), *student.net, &ema, curves, std::move(resume));
    file.config["distillation"] = {{"method", "lcm"},
                                   {"teacher", run.reference()},
                                   {"grid", options.grid},
                                   {"skip", options.skip},
                                   {"guidance_range", {w_min, w_max}},
                                   {"target_ema", options.target_ema},
                                   {"huber_c", huber_c},
                                   {"steps", at},
                                   {"batch", options.loop.batch}};
    io::write_model(options.loop.output, context, {run.input.record, run.data.input.record}, file);
  };
  train::run_loop(options.loop, "latent consistency distillation", step, write, state, parallel);
}

cli::Verb lcm_verb() {
  return cli::make_verb<LcmOptions>(
      "lcm",
      "Latent consistency distillation (Luo et al. 2023): guidance folded in as a student input, skipping-step "
      "DDIM teacher",
      distill_lcm);
}

}  // namespace gm::distill
