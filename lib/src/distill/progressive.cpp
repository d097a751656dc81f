#include "gm/distill/progressive.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <CLI/CLI.hpp>

#include "gm/base/error.hpp"
#include "gm/base/log.hpp"
#include "gm/io/model_file.hpp"
#include "gm/distill/teacher.hpp"

namespace gm::distill {

void ProgressiveOptions::register_on(CLI::App& app) {
  app.add_option("teacher", teacher, "Diffusion model file to distill")->required();
  loop.register_on(app);
  app.add_option("--from-steps", from_steps, "Euler (DDIM) steps of the teacher in the first round; a power of 2")
      ->capture_default_str();
  app.add_option("--to-steps", to_steps, "Steps of the final student; each round halves the steps")
      ->capture_default_str();
  app.add_option("--lr", learning_rate, "Adam learning rate")->capture_default_str();
  ema.register_on(app, "Decay of the weight average; each round's teacher is the average");
}

std::vector<std::vector<double>> progressive_grids(int from_steps, int to_steps, double sigma_min, double sigma_max,
                                                   double rho) {
  if (from_steps < 2 || to_steps < 1 || to_steps >= from_steps)
    usage_fail("--from-steps {} and --to-steps {}: need from > to >= 1", from_steps, to_steps);
  int steps = from_steps;
  while (steps > to_steps && steps % 2 == 0) steps /= 2;
  if (steps != to_steps) usage_fail("--from-steps {} does not halve down to --to-steps {}", from_steps, to_steps);
  models::EdmConfig config;
  config.sigma_min = sigma_min;
  config.sigma_max = sigma_max;
  config.rho = rho;
  std::vector<std::vector<double>> grids{models::karras_sigmas(from_steps, config)};
  while (static_cast<int>(grids.back().size()) - 1 > to_steps) {
    std::vector<double> half;
    for (size_t i = 0; i < grids.back().size(); i += 2) half.push_back(grids.back()[i]);
    grids.push_back(half);
  }
  return grids;
}

void distill_progressive(const ProgressiveOptions& options, const Context& context) {
  options.loop.check();
  if (!(options.learning_rate > 0)) usage_fail("--lr {}: must be positive", options.learning_rate);
  options.ema.check();
  TeacherRun run = load_teacher(options.teacher, options.loop.data, context, "progressive");
  models::DiffusionModel& teacher = run.teacher;
  const train::TrainingData& data = run.data;
  if (!teacher.grid.empty()) fail("{}: is already a progressive student; distill the original teacher", options.teacher);
  const auto grids = progressive_grids(options.from_steps, options.to_steps, teacher.edm.sigma_min,
                                       teacher.edm.sigma_max, teacher.edm.rho);
  const std::int64_t rounds = static_cast<std::int64_t>(grids.size()) - 1;
  if (options.loop.steps < rounds) usage_fail("--steps {}: fewer than the {} rounds", options.loop.steps, rounds);

  train::DataParallel parallel(context, options.loop);
  torch::manual_seed(context.seed);
  at::Generator generator = at::detail::createCPUGenerator(context.seed);
  train::ShuffledBatches batches(data.x, options.loop.batch, generator);
  const models::EdmConfig& edm = teacher.edm;
  nlohmann::json history = nlohmann::json::array();
  // A checkpoint carries its round, the rounds before it and the teacher they left; the run skips
  // to that round and its loop restores the rest.
  std::int64_t first_round = 0;
  if (!options.loop.resume.empty()) {
    const io::ModelFile checkpoint = io::read_model(io::open_gm(options.loop.resume, {io::Kind::model}));
    const auto found = checkpoint.resume.find("progressive.round");
    if (found == checkpoint.resume.end()) fail("{}: is not a checkpoint of progressive distillation", options.loop.resume);
    first_round = found->second.item<std::int64_t>();
    if (first_round < 0 || first_round >= rounds)
      fail("{}: round {} is not one of this run's {}", options.loop.resume, first_round + 1, rounds);
    try {
      history = checkpoint.config.at("distillation").at("rounds");
    } catch (const nlohmann::json::exception&) {
      fail("{}: names no finished rounds in its config", options.loop.resume);
    }
  }
  train::FlatParameters teacher_parameters(*teacher.net);  // so that the round's teacher travels too
  std::int64_t done = 0;
  for (std::int64_t round = 0; round < rounds; ++round) {
    const std::vector<double>& fine = grids[static_cast<size_t>(round)];
    const std::vector<double>& coarse = grids[static_cast<size_t>(round) + 1];
    // Steps are shared out over the rounds; the last round takes the remainder.
    train::LoopOptions loop = options.loop;
    loop.steps = round + 1 < rounds ? options.loop.steps / rounds : options.loop.steps - done;
    done += loop.steps;
    if (round < first_round) continue;
    if (round > first_round) loop.resume.clear();
    // The student starts as the current teacher.
    models::DiffusionModel student = run.copy(context);
    nn::load_parameters(*student.net, nn::parameters_of(*teacher.net), options.teacher);
    student.net->train();
    student.grid = coarse;
    train::FlatParameters parameters(*student.net);
    parallel.broadcast(parameters);
    train::WeightAverage ema(parameters, options.ema);
    train::Adam adam(parameters, {options.learning_rate});
    const torch::Tensor fine_t = torch::tensor(fine, torch::kFloat).to(context.device);
    const auto coarse_count = static_cast<std::int64_t>(coarse.size()) - 1;
    log::info("round {}/{}: {} -> {} steps, {} optimiser steps", round + 1, rounds, fine.size() - 1, coarse_count,
              loop.steps);

    const auto step = [&]() -> std::map<std::string, double> {
      // A student step i spans teacher steps 2i and 2i + 1.
      const TeacherRun::Draws draws = run.draw(batches, generator, coarse_count, parallel);
      const torch::Tensor &y = draws.y, &labels = draws.labels, &i = draws.step, &noise = draws.noise;
      const models::RawNet teacher_raw = teacher.raw(labels), student_raw = student.raw(labels);
      const torch::Tensor s0 = fine_t.index_select(0, 2 * i), s1 = fine_t.index_select(0, 2 * i + 1),
                          s2 = fine_t.index_select(0, 2 * i + 2);
      const auto col = [&y](const torch::Tensor& t) { return models::per_row(t, y); };
      const torch::Tensor x = y + col(s0) * noise;
      torch::Tensor target;
      {
        torch::NoGradGuard no_grad;
        // Two teacher DDIM (Euler) steps: x(s) = D + (s / s_prev) (x - D).
        const torch::Tensor d0 = models::edm_denoise(teacher_raw, x, s0, edm);
        const torch::Tensor x1 = d0 + col(s1 / s0) * (x - d0);
        const torch::Tensor d1 = models::edm_denoise(teacher_raw, x1, s1, edm);
        const torch::Tensor x2 = d1 + col(s2 / s1) * (x1 - d1);
        // The denoised value whose single DDIM step from s0 lands on x2.
        const torch::Tensor ratio = col(s2 / s0);
        target = (x2 - ratio * x) / (1 - ratio);
      }
      adam.zero_grad();
      // The teacher's loss weighting 1 / c_out^2 (EDM's lambda for an EDM teacher).
      const torch::Tensor weight = col(models::edm_scalings(s0, edm).c_out.pow(-2));
      const torch::Tensor loss = parallel.share(
          (weight * (models::edm_denoise(student_raw, x, s0, edm) - target).pow(2)).mean(), options.loop.batch);
      loss.backward();
      const std::map<std::string, double> losses = parallel.reduce(parameters, {{"loss", loss}});
      adam.step();
      ema.update();
      return losses;
    };
    const bool last = round + 1 == rounds;
    const auto config = [&](const nlohmann::json& rounds_done) {
      nlohmann::json c = student.config();
      c["distillation"] = {{"method", "progressive"},   {"teacher", run.reference()},
                           {"from_steps", options.from_steps}, {"to_steps", options.to_steps},
                           {"steps", options.loop.steps},      {"batch", options.loop.batch},
                           {"rounds", rounds_done}};
      return c;
    };
    // The rounds so far and this one, finished after `at` optimiser steps.
    const auto with_this_round = [&](std::int64_t at, const train::Curves& curves) {
      nlohmann::json rounds_done = history;
      rounds_done.push_back({{"round", round + 1}, {"steps", coarse_count}, {"optimiser_steps", at},
                             {"final_loss", curves.at("loss").back()}});
      return rounds_done;
    };
    const auto write = [&](std::int64_t at, const train::Curves& curves, nn::NamedTensors resume) {
      // A checkpoint inside this round: the student so far and the rounds before it.
      const bool checkpoint = !resume.empty();
      if (!checkpoint && !last) return;
      io::ModelFile file = train::trained_model("diffusion", config(checkpoint ? history : with_this_round(at, curves)),
                                                *student.net, &ema, curves, std::move(resume));
      io::write_model(options.loop.output, context, {run.input.record, data.input.record}, file);
    };
    train::ResumeState state;
    std::int64_t round_index = round;
    state.track("progressive.round", &round_index);
    teacher_parameters.track(state, "teacher");
    train::track_network(state, "", parameters, adam, &ema);
    train::track_data(state, batches, generator);
    const train::Curves curves = train::run_loop(loop, fmt::format("progressive round {}/{}", round + 1, rounds), step,
                                                 write, state, parallel);
    history = with_this_round(loop.steps, curves);
    // The next round's teacher is this round's averaged student.
    nn::load_parameters(*teacher.net, ema.weights(), options.teacher);
  }
}

cli::Verb progressive_verb() {
  return cli::make_verb<ProgressiveOptions>(
      "progressive", "Progressive distillation (Salimans & Ho 2022): halve the sampler's steps each round",
      distill_progressive);
}

}  // namespace gm::distill
