#include "hmc/HmcSampler.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <vector>

#include "config/ConfigError.hpp"
#include "random/RandomStreams.hpp"
#include "hmc/Integrator.hpp"

namespace flowlat {
namespace {

const torch::TensorOptions kCpuFloat64 = torch::TensorOptions().dtype(torch::kFloat64).device(torch::kCPU);
// The step-size draws' stream: a chain index no chain has.
constexpr uint64_t kJitterStream = ~uint64_t{0};
// Chains start near phi = 0, where the force is small and soft: a wide
// start (|phi| ~ 1 at lambda = 8) makes the MD unstable at usual step sizes
// and the chain never leaves its first field.
constexpr double kInitialWidth = 0.1;

at::Generator chain_generator(uint64_t seed, int64_t chain, int64_t draw) {
  return at::make_generator<at::CPUGeneratorImpl>(
      stream_key(seed, StreamPurpose::Hmc, static_cast<uint64_t>(chain), static_cast<uint64_t>(draw)));
}

void require(bool ok, const std::string& key, const std::string& rule, const std::string& got) {
  if (!ok) throw ConfigError(key + ": must be " + rule + " (got " + got + ")");
}

}  // namespace

HmcParameters from_config(const HmcConfig& config) {
  HmcParameters p;
  p.n_trajectories = config.n_trajectories;
  p.n_thermalization = config.n_thermalization;
  p.step_size = config.step_size;
  p.n_steps = config.n_md_steps;
  p.step_jitter = config.step_jitter;
  p.integrator = config.integrator;
  p.n_chains_per_rank = config.n_chains;
  p.seed = config.seed;
  return p;
}

void validate(const HmcParameters& p) {
  require(p.n_trajectories >= 1, "hmc.n_trajectories", ">= 1", std::to_string(p.n_trajectories));
  require(p.n_thermalization >= 0, "hmc.n_thermalization", ">= 0",
          std::to_string(p.n_thermalization));
  require(std::isfinite(p.step_size) && p.step_size > 0, "hmc.step_size", "finite and > 0",
          std::to_string(p.step_size));
  require(p.n_steps >= 1, "hmc.n_md_steps", ">= 1", std::to_string(p.n_steps));
  require(p.step_jitter >= 0 && p.step_jitter <= 0.5, "hmc.step_jitter", "in [0, 0.5]", std::to_string(p.step_jitter));
  require(p.n_chains_per_rank >= 1, "hmc.n_chains", ">= 1", std::to_string(p.n_chains_per_rank));
}

torch::Tensor phi4_force(const Phi4Action& action, const torch::Tensor& phi) {
  const int64_t d = phi.dim() - 1;
  // On-site part: 2 (2d + m2) phi + 4 lambda phi^3; hopping: -2 sum of the 2d neighbours.
  torch::Tensor force = phi * (2.0 * (2.0 * static_cast<double>(d) + action.m2()) + 4.0 * action.lambda() * phi * phi);
  for (int64_t axis = 1; axis <= d; ++axis) {
    force.sub_(torch::roll(phi, {1}, {axis}), 2.0);
    force.sub_(torch::roll(phi, {-1}, {axis}), 2.0);
  }
  return force;
}

torch::Tensor kinetic_energy(const torch::Tensor& momenta) {
  const torch::Tensor p = momenta.to(torch::kFloat64);
  return 0.5 * (p * p).flatten(1).sum(1);
}

HmcSampler::HmcSampler(const Phi4Action& action, const Lattice& lattice, const HmcParameters& parameters,
                       int64_t first_chain, torch::Device device)
    : action_(action), lattice_(lattice), parameters_(parameters), first_chain_(first_chain), device_(device) {
  validate(parameters_);
  TORCH_CHECK(first_chain >= 0, "HmcSampler: first_chain must be >= 0");
  std::vector<torch::Tensor> fields;
  fields.reserve(static_cast<size_t>(n_chains()));
  for (int64_t c = 0; c < n_chains(); ++c) {
    fields.push_back(kInitialWidth *
                     torch::randn(lattice_.shape(), chain_generator(parameters_.seed, first_chain_ + c, 0), kCpuFloat64));
  }
  phi_ = torch::stack(fields).to(device_);
  action_values_ = action_(phi_);
}

torch::Tensor HmcSampler::draw_momenta(int64_t draw, torch::Tensor& uniforms) const {
  std::vector<torch::Tensor> momenta;
  momenta.reserve(static_cast<size_t>(n_chains()));
  uniforms = torch::empty({n_chains()}, kCpuFloat64);
  auto u = uniforms.accessor<double, 1>();
  for (int64_t c = 0; c < n_chains(); ++c) {
    at::Generator generator = chain_generator(parameters_.seed, first_chain_ + c, draw);
    momenta.push_back(torch::randn(lattice_.shape(), generator, kCpuFloat64));
    u[c] = torch::rand({1}, generator, kCpuFloat64).item<double>();
  }
  return torch::stack(momenta).to(device_);
}

double HmcSampler::step_size_of(int64_t draw) const {
  if (parameters_.step_jitter == 0) return parameters_.step_size;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(
      stream_key(parameters_.seed, StreamPurpose::Hmc, kJitterStream, static_cast<uint64_t>(draw)));
  const double u = torch::rand({1}, generator, kCpuFloat64).item<double>();
  return parameters_.step_size * (1 + parameters_.step_jitter * (2 * u - 1));
}

TrajectoryResult HmcSampler::trajectory() {
  torch::Tensor uniforms;
  torch::Tensor momenta = draw_momenta(trajectories_done_ + 1, uniforms);
  const double step_size = step_size_of(trajectories_done_ + 1);
  const torch::Tensor h_start = kinetic_energy(momenta) + action_values_;

  torch::Tensor phi = phi_.clone();
  const ForceFunction force = [this](const torch::Tensor& x) { return phi4_force(action_, x); };
  integrate(parameters_.integrator, force, phi, momenta, step_size, parameters_.n_steps);
  const torch::Tensor s_end = action_(phi);

  TrajectoryResult result;
  result.delta_h = (kinetic_energy(momenta) + s_end - h_start).to(torch::kCPU);
  // u < exp(-dH) accepts with probability min(1, exp(-dH)); a NaN dH rejects.
  result.accepted = uniforms < torch::exp(-result.delta_h);
  const torch::Tensor accept = result.accepted.to(device_);
  std::vector<int64_t> mask_shape(static_cast<size_t>(phi.dim()), 1);
  mask_shape[0] = n_chains();
  phi_ = torch::where(accept.view(mask_shape), phi, phi_);
  action_values_ = torch::where(accept, s_end, action_values_);
  ++trajectories_done_;
  return result;
}

void HmcSampler::restore(const torch::Tensor& fields, int64_t trajectories_done) {
  TORCH_CHECK(fields.sizes() == phi_.sizes(), "HmcSampler::restore: fields of another shape");
  phi_ = fields.to(device_, torch::kFloat64).clone();
  action_values_ = action_(phi_);
  trajectories_done_ = trajectories_done;
}

void HmcSampler::set_integration(double step_size, int64_t n_steps) {
  parameters_.step_size = step_size;
  parameters_.n_steps = n_steps;
  validate(parameters_);
}

double HmcSampler::thermalize() {
  int64_t accepted = 0;
  for (int64_t t = 0; t < parameters_.n_thermalization; ++t) {
    accepted += trajectory().accepted.sum().item<int64_t>();
  }
  const int64_t total = parameters_.n_thermalization * n_chains();
  return total == 0 ? 1.0 : static_cast<double>(accepted) / static_cast<double>(total);
}

}  // namespace flowlat
