#include "gm/models/edm.hpp"

#include <cmath>

#include "gm/base/error.hpp"

namespace gm::models {

bool is_parametrisation(const std::string& name) { return name == "edm" || name == "eps" || name == "v"; }

EdmConfig EdmConfig::ddpm(const std::string& parametrisation, double sigma_data) {
  EdmConfig c;
  c.parametrisation = parametrisation;
  c.sigma_data = sigma_data;
  const std::vector<double> sigmas = c.ddpm_sigmas();
  c.sigma_min = sigmas.front();
  c.sigma_max = sigmas.back();
  return c;
}

std::vector<double> EdmConfig::ddpm_alpha_bars() const {
  std::vector<double> alpha_bars;
  double alpha_bar = 1.0;
  for (std::int64_t t = 0; t < timesteps; ++t) {
    const double beta =
        timesteps == 1 ? beta_start : beta_start + (beta_end - beta_start) * static_cast<double>(t) / (timesteps - 1);
    alpha_bar *= 1.0 - beta;
    alpha_bars.push_back(alpha_bar);
  }
  return alpha_bars;
}

std::vector<double> EdmConfig::ddpm_sigmas() const {
  std::vector<double> sigmas;
  for (double alpha_bar : ddpm_alpha_bars()) sigmas.push_back(sigma_data * std::sqrt((1.0 - alpha_bar) / alpha_bar));
  return sigmas;
}

nlohmann::json EdmConfig::to_json() const {
  nlohmann::json j = {{"sigma_data", sigma_data}, {"p_mean", p_mean},       {"p_std", p_std},
                      {"sigma_min", sigma_min},   {"sigma_max", sigma_max}, {"rho", rho}};
  if (is_ddpm()) j["ddpm"] = {{"timesteps", timesteps}, {"beta_start", beta_start}, {"beta_end", beta_end}};
  return j;
}

EdmConfig EdmConfig::from_json(const nlohmann::json& j, const std::string& parametrisation) {
  if (!is_parametrisation(parametrisation)) fail("parametrisation '{}' is not one this build knows", parametrisation);
  EdmConfig c;
  c.parametrisation = parametrisation;
  c.sigma_data = j.at("sigma_data").get<double>();
  c.p_mean = j.at("p_mean").get<double>();
  c.p_std = j.at("p_std").get<double>();
  c.sigma_min = j.at("sigma_min").get<double>();
  c.sigma_max = j.at("sigma_max").get<double>();
  c.rho = j.at("rho").get<double>();
  if (c.is_ddpm()) {
    const auto& d = j.at("ddpm");
    c.timesteps = d.at("timesteps").get<std::int64_t>();
    c.beta_start = d.at("beta_start").get<double>();
    c.beta_end = d.at("beta_end").get<double>();
    if (c.timesteps < 2 || c.timesteps > 100000 || !(c.beta_start > 0) || !(c.beta_end >= c.beta_start) ||
        !(c.beta_end < 1))
      fail("DDPM schedule out of range: {}", d.dump());
  }
  if (!(c.sigma_data > 0) || !(c.sigma_min > 0) || !(c.sigma_max > c.sigma_min) || !(c.rho > 0) || !(c.p_std > 0))
    fail("EDM config out of range: {}", j.dump());
  return c;
}

namespace {

// The continuous DDPM timestep of each sigma, interpolated linearly in log sigma between the
// discrete steps (as k-diffusion's DiscreteSchedule does) and clamped to [0, timesteps - 1].
torch::Tensor ddpm_timestep(const torch::Tensor& sigma, const EdmConfig& config) {
  const std::vector<double> table = config.ddpm_sigmas();
  const torch::Tensor log_table = torch::tensor(table, torch::kDouble).log().to(sigma.options());
  const std::int64_t last = config.timesteps - 1;
  const torch::Tensor log_sigma = sigma.log().clamp(std::log(table.front()), std::log(table.back()));
  const torch::Tensor high = torch::searchsorted(log_table, log_sigma).clamp(1, last);
  const torch::Tensor low = high - 1;
  const torch::Tensor low_value = log_table.index_select(0, low.flatten()).view_as(log_sigma);
  const torch::Tensor high_value = log_table.index_select(0, high.flatten()).view_as(log_sigma);
  const torch::Tensor fraction = (log_sigma - low_value) / (high_value - low_value);
  return low.to(sigma.scalar_type()) + fraction;
}

}  // namespace

EdmScalings edm_scalings(const torch::Tensor& sigma, const EdmConfig& config) {
  const double sd = config.sigma_data;
  // c_in = 1 / sqrt(sigma^2 + sd^2), and the others from it: on a toy network's batch each
  // operation costs more in dispatch than in arithmetic.
  const torch::Tensor c_in = (sigma.square() + sd * sd).rsqrt();
  if (config.parametrisation == "edm") return {c_in.square() * (sd * sd), sigma * c_in * sd, c_in, sigma.log() * 0.25};
  const torch::Tensor c_noise = ddpm_timestep(sigma, config) / static_cast<double>(config.timesteps);
  // In units of the scaled data x / sd, eps: D = x - sigma eps; v: D = x / (sigma^2 + 1) - sigma /
  // sqrt(sigma^2 + 1) v. Scaled back, eps keeps c_skip = 1 and v is EDM's form with c_out negated.
  if (config.parametrisation == "eps") return {torch::ones_like(sigma), -sigma, c_in, c_noise};
  return {c_in.square() * (sd * sd), sigma * c_in * -sd, c_in, c_noise};
}

torch::Tensor per_row(const torch::Tensor& t, const torch::Tensor& like) {
  std::vector<std::int64_t> shape(static_cast<size_t>(like.dim()), 1);
  shape[0] = -1;
  return t.view(shape);
}

torch::Tensor edm_denoise(const RawNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                          const EdmConfig& config) {
  const EdmScalings s = edm_scalings(sigma, config);
  return per_row(s.c_skip, x) * x + per_row(s.c_out, x) * net(per_row(s.c_in, x) * x, s.c_noise);
}

namespace {

torch::Tensor target_of(const torch::Tensor& y, const torch::Tensor& x, const EdmScalings& s) {
  return (y - per_row(s.c_skip, x) * x) / per_row(s.c_out, x);
}

}  // namespace

torch::Tensor training_target(const torch::Tensor& y, const torch::Tensor& x, const torch::Tensor& sigma,
                              const EdmConfig& config) {
  return target_of(y, x, edm_scalings(sigma, config));
}

torch::Tensor training_sigmas(std::int64_t n, const EdmConfig& config, at::Generator& generator,
                              const torch::TensorOptions& options) {
  // Drawn on the CPU, whose generator gm seeds, then moved: a CUDA run draws the same numbers.
  if (!config.is_ddpm())
    return (torch::randn({n}, generator, options.device(torch::kCPU)) * config.p_std + config.p_mean).exp().to(options.device());
  const torch::Tensor table = torch::tensor(config.ddpm_sigmas(), torch::kDouble).to(options);
  const torch::Tensor t = torch::randint(0, config.timesteps, {n}, generator, torch::kLong);
  return table.index_select(0, t.to(options.device()));
}

torch::Tensor edm_loss(const RawNet& net, const torch::Tensor& all_rows, const EdmConfig& config,
                       at::Generator& generator, std::pair<std::int64_t, std::int64_t> rows) {
  const torch::Tensor all_sigmas = training_sigmas(all_rows.size(0), config, generator, all_rows.options());
  const torch::Tensor all_noise =
      torch::randn(all_rows.sizes(), generator, all_rows.options().device(torch::kCPU)).to(all_rows.device());
  const std::int64_t end = rows.second < 0 ? all_rows.size(0) : rows.second;
  const bool all = rows.first == 0 && end == all_rows.size(0);
  const auto mine = [&](const torch::Tensor& t) { return all ? t : t.narrow(0, rows.first, end - rows.first); };
  const torch::Tensor y = mine(all_rows), sigma = mine(all_sigmas);
  const torch::Tensor x = torch::addcmul(y, per_row(sigma, y), mine(all_noise));
  const EdmScalings s = edm_scalings(sigma, config);
  return torch::mse_loss(net(per_row(s.c_in, x) * x, s.c_noise), target_of(y, x, s));
}

std::vector<double> karras_sigmas(int steps, const EdmConfig& config) {
  if (steps < 1) usage_fail("--steps {}: needs at least 1 step", steps);
  std::vector<double> sigmas;
  const double hi = std::pow(config.sigma_max, 1.0 / config.rho), lo = std::pow(config.sigma_min, 1.0 / config.rho);
  for (int i = 0; i < steps; ++i) {
    const double t = steps == 1 ? 0.0 : static_cast<double>(i) / (steps - 1);
    sigmas.push_back(std::pow(hi + t * (lo - hi), config.rho));
  }
  sigmas.push_back(0.0);
  return sigmas;
}

std::vector<double> sampling_sigmas(int steps, const EdmConfig& config) {
  if (!config.is_ddpm()) return karras_sigmas(steps, config);
  if (steps < 1 || steps > config.timesteps)
    usage_fail("--steps {}: a DDPM model of {} timesteps samples with 1 to {} steps", steps, config.timesteps,
               config.timesteps);
  const std::vector<double> table = config.ddpm_sigmas();
  std::vector<double> sigmas;
  const double last = static_cast<double>(config.timesteps - 1);
  for (int i = 0; i < steps; ++i) {
    const double t = steps == 1 ? last : last * (1.0 - static_cast<double>(i) / (steps - 1));
    sigmas.push_back(table[static_cast<size_t>(std::llround(t))]);
  }
  sigmas.push_back(0.0);
  return sigmas;
}

bool is_edm_sampler(const std::string& sampler) {
  return sampler == "euler" || sampler == "ddim" || sampler == "heun" || sampler == "dpmpp-2m" || sampler == "ddpm";
}

SampleResult edm_sample(const Denoiser& denoise, const torch::Tensor& z, const std::vector<double>& sigmas,
                        const std::string& sampler, const StepNoise& noise) {
  if (!is_edm_sampler(sampler))
    usage_fail("--sampler {}: diffusion models sample with euler, ddim, heun, dpmpp-2m or ddpm", sampler);
  if (sampler == "ddpm" && !noise) fail("the ddpm sampler needs a noise source");
  SampleResult result{z * sigmas.front(), 0};
  torch::Tensor& x = result.x;
  torch::Tensor previous;  // dpmpp-2m: the denoised value of the step before
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sigma = sigmas[i], next = sigmas[i + 1];
    const torch::Tensor denoised = denoise(x, sigma);
    ++result.nfe;
    if (sampler == "dpmpp-2m") {
      // DPM-Solver++(2M) (Lu et al. 2022) in lambda = -log(sigma): a second-order multistep
      // correction from the previous denoised value; first order on the first and last steps.
      torch::Tensor d = denoised;
      if (previous.defined() && next > 0) {
        const double h = std::log(sigma / next), h_last = std::log(sigmas[i - 1] / sigma);
        const double r = h_last / h;
        d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * previous;
      }
      x = next > 0 ? (next / sigma) * x - std::expm1(-std::log(sigma / next)) * d : denoised;
      previous = denoised;
      continue;
    }
    if (sampler == "ddpm") {
      // The posterior q(x_next | x, x0 = D) in sigma space: its variance is
      // up^2 = next^2 (sigma^2 - next^2) / sigma^2 (Ho et al.'s beta-tilde, scaled), its mean a
      // deterministic step down to sqrt(next^2 - up^2).
      const double up = next > 0 ? next * std::sqrt(sigma * sigma - next * next) / sigma : 0.0;
      const double down = std::sqrt(std::max(0.0, next * next - up * up));
      x = denoised + (down / sigma) * (x - denoised);
      if (up > 0) x = x + up * noise(static_cast<int>(i) + 1);
      continue;
    }
    // Euler, which is DDIM in sigma space: x' = D + (sigma' / sigma) (x - D).
    const torch::Tensor slope = (x - denoised) / sigma;
    torch::Tensor proposal = x + (next - sigma) * slope;
    if (sampler == "heun" && next > 0) {
      // Second-order correction with the slope at the end of the step (EDM Algorithm 1, line 7).
      const torch::Tensor slope_next = (proposal - denoise(proposal, next)) / next;
      ++result.nfe;
      proposal = x + (next - sigma) * 0.5 * (slope + slope_next);
    }
    x = proposal;
  }
  return result;
}

}  // namespace gm::models
