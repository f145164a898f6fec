#pragma once
// The `flowlat ti` job: log Z of the phi^4 action by thermodynamic
// integration with flowlat hmc, the baseline a flow's direct estimate is
// measured against (README: free energies).
//
// The path runs in a straight line from the free field (m2_0 = ti.m2_start,
// lambda = 0), whose log Z is the closed form (analysis/FreeFieldLogZ), to
// the configuration's couplings:
//   m2(t) = m2_0 + t (m2 - m2_0),  lambda(t) = t lambda,  t in [0, 1],
//   log Z(1) = log Z(0) - int_0^1 <dS/dt>_t dt,
//   dS/dt = (m2 - m2_0) sum phi^2 + lambda sum phi^4.
// The integral is taken by the ti.nodes-point Gauss-Legendre rule, one HMC
// run (the hmc: section, couplings of the node) per node; the ti.nodes/2
// rule, run as well, estimates the quadrature error as the difference of
// the two (reported with its statistical error: the rules are independent
// runs, so only a difference above that error measures the quadrature). Each node's <dS/dt> and its error come from the Gamma method
// with the chains as replicas; the nodes are independent runs, so the
// statistical errors add in quadrature with the weights (each node has its
// own random numbers). A fixed
// trajectory length is not ergodic for the nearly harmonic modes near the
// free end of the path, so hmc.step_jitter must be > 0.
//
// Node files: <run.output_dir>/<ti.output_dir>/n<rule>_k<index>.h5, each an
// ordinary HMC ensemble (flowlat analyze reads it); a node can be run alone
// (a SLURM array task) and a stopped node is continued bitwise.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "analysis/EnsembleAnalysis.hpp"
#include "config/Config.hpp"
#include "io/OverwritePolicy.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

// One HMC run of the integration.
struct TiNode {
  int rule = 0;   // the rule it belongs to: ti.nodes or ti.nodes / 2 points
  int index = 0;  // its place in that rule, 0-based, ascending t
  double t = 0, weight = 0;
  Phi4Couplings couplings;
  std::string file;
};

// Fresh: no node file may exist yet. Continue (--resume): complete node files
// are used as they are and a partial one is continued.
enum class TiStart { Fresh, Continue };

struct TiOptions {
  OverwritePolicy overwrite = OverwritePolicy::Refuse;  // Force: every node is run anew
  TiStart start = TiStart::Fresh;
  std::optional<int> node;  // run this node alone (0-based over ti_nodes) and stop
};

// The nodes of the ti.nodes rule, then those of the ti.nodes/2 rule. Local.
std::vector<TiNode> ti_nodes(const Config& config);

// The configuration of one node's HMC run: the given one with the node's
// couplings and its own seed, derived from hmc.seed, the rule and the index
// (nodes with one stream would be correlated). Local.
Config ti_node_config(const Config& config, const TiNode& node);

// Runs the nodes still missing (or only options.node) and, once every node
// file is complete, prints the integration and returns it: each node's
// <dS/dt>, error and tau_int, log Z of both rules, the quadrature-error
// estimate, f = -log Z / V, and the cost (seconds of thermalisation and
// trajectories of every node's job). Refuses (ConfigError) hmc.step_jitter
// = 0, a node file made with other settings, and, unless options continue
// or force, an existing one. Collective; the result on rank 0, null elsewhere.
nlohmann::json run_ti(const Config& config, const Communicator& comm, const TiOptions& options);

}  // namespace flowlat
