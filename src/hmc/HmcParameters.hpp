#pragma once
// Parameters of the hybrid Monte Carlo baseline (`flowlat hmc`): the YAML
// section `hmc:` (config/Config.hpp HmcConfig, keys in the comments) in the
// sampler's typed form; `flowlat hmc` fills it with from_config.
#include <cstdint>
#include <string>

#include "config/Config.hpp"

namespace flowlat {

struct HmcParameters {
  using Integrator = HmcIntegrator;  // config/Config.hpp

  int64_t n_trajectories = 10000;   // hmc.n_trajectories: measured trajectories per chain (rows per chain)
  int64_t n_thermalization = 1000;  // hmc.n_thermalization: discarded trajectories per chain before them
  double step_size = 0.1;           // hmc.step_size: MD step; trajectory length = step_size * n_steps
  int64_t n_steps = 10;             // hmc.n_md_steps: MD steps per trajectory
  double step_jitter = 0;           // hmc.step_jitter: step size of each trajectory in step_size x [1 - j, 1 + j]
  Integrator integrator = Integrator::Omelyan;  // hmc.integrator: leapfrog | omelyan
  int64_t n_chains_per_rank = 16;   // hmc.n_chains: chains per rank, evolved as one batch
  uint64_t seed = 2468;             // hmc.seed: initial fields, momenta and accept draws
};

// The sampler's parameters from the configuration's `hmc:` section (already
// validated by load_config). Local.
HmcParameters from_config(const HmcConfig& config);
// Throws ConfigError naming the first parameter out of range by its YAML
// key: n_trajectories, n_steps,
// n_chains_per_rank >= 1; n_thermalization >= 0; step_size finite and > 0;
// step_jitter in [0, 0.5]
// (defined in HmcSampler.cpp). Local.
void validate(const HmcParameters& parameters);

}  // namespace flowlat
