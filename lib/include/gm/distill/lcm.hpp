// gm-distill lcm: latent consistency distillation (Luo et al. 2023, "Latent Consistency Models")
// of a diffusion teacher, typically one trained on an autoencoder's latents.
#pragma once

#include "gm/cli/subcommands.hpp"
#include "gm/train/loop.hpp"

namespace gm::distill {

struct LcmOptions {
  std::string teacher;  // diffusion model file
  train::LoopOptions loop;
  double learning_rate = 1e-4;
  double target_ema = 0.95;  // mu of the target network theta^-
  train::EmaOptions ema;     // the weights sampled with
  int grid = 1000;           // N: the teacher's Karras discretisation
  int skip = 20;             // k: the teacher's ODE solver jumps from t_{n+k} to t_n
  std::string guidance_range = "0,4";  // [w_min, w_max] the guidance scale is drawn from
  double huber_c = 0;        // pseudo-Huber c; 0 picks 0.00054 sqrt(d) (iCT)

  void register_on(CLI::App& app);
};

void distill_lcm(const LcmOptions& options, const Context& context);

cli::Verb lcm_verb();

}  // namespace gm::distill
