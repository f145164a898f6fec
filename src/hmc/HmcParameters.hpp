#pragma once
// Parameters of the hybrid Monte Carlo baseline (`flowlat hmc`). Filled from
// the command line for now; the YAML section `hmc:` (proposed keys in the
// comments) maps onto the same struct.
#include <cstdint>
#include <string>

namespace flowlat {

struct HmcParameters {
  // Molecular-dynamics integrator of one trajectory.
  //   Leapfrog: 1 force evaluation per step, dH = O(step^2).
  //   Omelyan:  2nd-order minimum-norm (lambda = 0.1931833...), 2 force
  //             evaluations per step, a ~10x smaller dH coefficient.
  enum class Integrator { Leapfrog, Omelyan };

  int64_t n_trajectories = 10000;   // hmc.n_trajectories: measured trajectories per chain (rows per chain)
  int64_t n_thermalization = 1000;  // hmc.n_thermalization: discarded trajectories per chain before them
  double step_size = 0.1;           // hmc.step_size: MD step; trajectory length = step_size * n_steps
  int64_t n_steps = 10;             // hmc.n_md_steps: MD steps per trajectory
  Integrator integrator = Integrator::Omelyan;  // hmc.integrator: leapfrog | omelyan
  int64_t n_chains_per_rank = 16;   // hmc.n_chains: chains per rank, evolved as one batch
  uint64_t seed = 2468;             // hmc.seed: initial fields, momenta and accept draws
};

// "leapfrog" / "omelyan" (defined in Integrator.cpp). Local.
const char* to_string(HmcParameters::Integrator integrator);
// Inverse of to_string; throws ConfigError naming `origin` and the allowed
// values otherwise (defined in Integrator.cpp). Local.
HmcParameters::Integrator parse_integrator(const std::string& name, const std::string& origin = "hmc.integrator");
// Throws ConfigError naming the first parameter out of range, by its
// proposed YAML key and command-line option: n_trajectories, n_steps,
// n_chains_per_rank >= 1; n_thermalization >= 0; step_size finite and > 0
// (defined in HmcSampler.cpp). Local.
void validate(const HmcParameters& parameters);

}  // namespace flowlat
