#include "gm/distill/consistency.hpp"

#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/io/model_file.hpp"
#include "gm/models/consistency.hpp"
#include "gm/distill/teacher.hpp"

namespace gm::distill {

void ConsistencyOptions::register_on(CLI::App& app) {
  app.add_option("teacher", teacher, "Diffusion model file to distill")->required();
  loop.register_on(app);
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str();
  app.add_option("--target-ema", target_ema, "Decay mu of the target network")->capture_default_str();
  ema.register_on(app, "Decay of the weight average that gm-sample uses");
  app.add_option("--grid", grid, "Points N of the Karras discretisation the teacher steps between")
      ->capture_default_str();
  app.add_option("--huber-c", huber_c, "Pseudo-Huber constant c; 0 picks 0.00054 sqrt(d)")->capture_default_str();
}

void distill_consistency(const ConsistencyOptions& options, const Context& context) {
  options.loop.check();
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  options.ema.check();
  if (!(options.target_ema >= 0 && options.target_ema < 1)) usage_fail("--target-ema {}: must be in [0, 1)", options.target_ema);
  if (options.grid < 2) usage_fail("--grid {}: needs at least 2 points", options.grid);
  if (options.huber_c < 0) usage_fail("--huber-c {}: must be zero or positive", options.huber_c);
  const TeacherRun run = load_teacher(options.teacher, options.loop.data, context, "consistency");
  const models::DiffusionModel& teacher = run.teacher;
  const train::TrainingData& data = run.data;

  train::DataParallel parallel(context, options.loop);
  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  // The student and its target start as copies of the teacher (EMA weights).
  models::DiffusionModel student = run.copy(context), target = run.copy(context);
  student.net->train();
  const models::EdmConfig& edm = teacher.edm;
  const double huber_c = options.huber_c > 0 ? options.huber_c : 0.00054 * std::sqrt(static_cast<double>(data.x[0].numel()));
  // Ascending grid t_1 = sigma_min < ... < t_N = sigma_max.
  const torch::Tensor ts = torch::tensor(models::ascending_grid(options.grid, edm), torch::kFloat).to(context.device);
  log::verbose("teacher sigma_data {:.4f}, grid of {} sigmas, pseudo-Huber c {:.6f}", edm.sigma_data, options.grid,
               huber_c);

  train::FlatParameters parameters(*student.net), target_parameters(*target.net);
  parallel.broadcast(parameters);
  parallel.broadcast(target_parameters);
  train::WeightAverage ema(parameters, options.ema);
  train::Adam adam(parameters, {options.learning_rate});
  train::ShuffledBatches batches(data.x, options.loop.batch, generator);
  train::ResumeState state;
  train::track_network(state, "", parameters, adam, &ema);
  target_parameters.track(state, "target");
  train::track_data(state, batches, generator);

  const auto step = [&]() -> std::map<std::string, double> {
    // Not a structured binding: lambdas below capture y, which C++17 allows only for variables.
    const TeacherRun::Draws draws = run.draw(batches, generator, options.grid - 1, parallel);
    const torch::Tensor &y = draws.y, &labels = draws.labels, &n = draws.step, &noise = draws.noise;
    const models::RawNet teacher_raw = teacher.raw(labels), student_raw = student.raw(labels), target_raw = target.raw(labels);
    const auto row = [&y](const torch::Tensor& t) { return models::per_row(t, y); };
    const torch::Tensor t_hi = ts.index_select(0, n + 1), t_lo = ts.index_select(0, n);
    const torch::Tensor x_hi = y + row(t_hi) * noise;
    torch::Tensor target_value;
    {
      torch::NoGradGuard no_grad;
      // One Heun step of the teacher's probability-flow ODE from t_{n+1} down to t_n.
      const torch::Tensor h = row(t_lo - t_hi);
      const torch::Tensor slope = (x_hi - models::edm_denoise(teacher_raw, x_hi, t_hi, edm)) / row(t_hi);
      const torch::Tensor euler = x_hi + h * slope;
      const torch::Tensor slope_lo = (euler - models::edm_denoise(teacher_raw, euler, t_lo, edm)) / row(t_lo);
      const torch::Tensor x_lo = x_hi + h * 0.5 * (slope + slope_lo);
      target_value = models::consistency_function(target_raw, x_lo, t_lo, edm);
    }
    adam.zero_grad();
    const torch::Tensor loss = parallel.share(
        models::pseudo_huber(models::consistency_function(student_raw, x_hi, t_hi, edm), target_value, huber_c),
        options.loop.batch);
    return update_consistency_student(loss, parameters, target_parameters, options.target_ema, adam, ema, parallel);
  };
  const auto write = [&](std::int64_t at, const train::Curves& curves, nn::NamedTensors resume) {
    io::ModelFile file =
        train::trained_model("consistency", student.config(), *student.net, &ema, curves, std::move(resume));
    file.config["distillation"] = {{"method", "consistency"},
                                   {"teacher", run.reference()},
                                   {"grid", options.grid},
                                   {"target_ema", options.target_ema},
                                   {"huber_c", huber_c},
                                   {"steps", at},
                                   {"batch", options.loop.batch}};
    io::write_model(options.loop.output, context, {run.input.record, data.input.record}, file);
  };
  train::run_loop(options.loop, "consistency distillation", step, write, state, parallel);
}

cli::Verb consistency_verb() {
  return cli::make_verb<ConsistencyOptions>(
      "consistency", "Consistency distillation (Song et al. 2023): a 1-step student, multistep sampling",
      distill_consistency);
}

}  // namespace gm::distill
