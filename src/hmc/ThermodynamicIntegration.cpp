#include "hmc/ThermodynamicIntegration.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "analysis/FreeFieldLogZ.hpp"
#include "analysis/GaussLegendre.hpp"
#include "config/ConfigDiff.hpp"
#include "config/ConfigError.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "hmc/HmcJob.hpp"
#include "job/Log.hpp"
#include "parallel/CollectiveError.hpp"
#include "random/RandomStreams.hpp"

namespace flowlat {
namespace {

enum class NodeState { Missing, Partial, Complete };

// What is on disk for `node`: refuses a file of other settings. Local (rank 0).
NodeState node_state(const Config& node_config, const TiNode& node) {
  if (!std::filesystem::exists(node.file)) return NodeState::Missing;
  EnsembleReader reader = open_ensemble_input(node.file);
  refuse_forbidden_changes(reader.attribute_string("config"), node_config.resolved_yaml(), Changeable::OnHmcResume,
                           "in the file", node.file,
                           "this node of the integration was run with other settings (--force runs every node anew)");
  return reader.n_written() == reader.n_total() ? NodeState::Complete : NodeState::Partial;
}

// Runs one node as the options say. Collective.
void run_node(const Config& config, const TiNode& node, const TiOptions& options, const Communicator& comm) {
  const Config node_config = ti_node_config(config, node);
  NodeState state = NodeState::Missing;
  run_collectively(comm, [&] {
    // --force runs the node anew whatever its file holds.
    if (comm.is_root() && options.overwrite != OverwritePolicy::Force) state = node_state(node_config, node);
  });
  int code = static_cast<int>(state);
  comm.broadcast(&code, sizeof code, 0);
  state = static_cast<NodeState>(code);
  HmcOptions hmc;
  hmc.output_path = node.file;
  hmc.overwrite = options.overwrite;
  hmc.storage = ConfigStorage::Skip;  // <dS/dt> needs only the rows' sums of phi^2 and phi^4
  if (state != NodeState::Missing) {
    if (options.start == TiStart::Fresh) {
      throw CollectiveError(node.file + ": a node file of this integration exists; pass --resume to continue the "
                                "integration or --force to run every node anew",
                            ExitCode::InputError);
    }
    if (state == NodeState::Complete) return;
    hmc.start = HmcStart::Resume;
  }
  if (comm.is_root()) {
    log_line("ti: node %d of the %d-point rule: t = %.6f, m2 = %.6g, lambda = %.6g -> %s\n", node.index, node.rule,
             node.t, node.couplings.m2, node.couplings.lambda, node.file.c_str());
  }
  run_hmc(node_config, comm, hmc);
}

struct NodeResult {
  double derivative = 0, error = 0, tau_int = 0, seconds = 0;
};

// <dS/dt> of a finished node file (Gamma method, chains as replicas) and its
// cost. Local.
NodeResult measure_node(const TiNode& node, const Phi4Couplings& velocity) {
  EnsembleAnalysisOptions options;
  options.path_velocity = velocity;
  const EnsembleAnalysis analysis = analyze_ensemble(node.file, options);
  const ChainEstimate& e = analysis.scalar("path_derivative").estimate.chain;
  EnsembleReader reader = open_ensemble_input(node.file);
  const double seconds = reader.attribute_double("seconds_per_row") * static_cast<double>(reader.n_written()) +
                         (reader.has_attribute("thermalization_seconds")
                              ? reader.attribute_double("thermalization_seconds")
                              : 0.0);
  return {e.value, e.error, e.tau_int, seconds};
}

// log Z(1) - log Z(0) = -sum_k w_k <dS/dt>_k of one rule, and its error.
struct RuleSum {
  double value = 0, variance = 0;
};

nlohmann::json combine(const Config& config, const std::vector<TiNode>& nodes) {
  const Phi4Couplings velocity{config.action.m2 - config.ti.m2_start, config.action.lambda};
  const int full_rule = static_cast<int>(config.ti.nodes);
  RuleSum full, half;
  double seconds = 0;
  nlohmann::json rows = nlohmann::json::array();
  std::printf("\nthermodynamic integration: m2 %.6g -> %.6g, lambda 0 -> %.6g (dS/dt = %.6g sum phi^2 + %.6g "
              "sum phi^4)\n%6s %5s %10s %10s %10s %10s %16s %12s %8s %9s\n",
              config.ti.m2_start, config.action.m2, config.action.lambda, velocity.m2, velocity.lambda, "rule",
              "node", "t", "weight", "m2", "lambda", "<dS/dt>", "error", "tau_int", "seconds");
  for (const TiNode& node : nodes) {
    const NodeResult r = measure_node(node, velocity);
    RuleSum& sum = node.rule == full_rule ? full : half;
    sum.value -= node.weight * r.derivative;
    sum.variance += node.weight * node.weight * r.error * r.error;
    seconds += r.seconds;
    std::printf("%6d %5d %10.6f %10.6f %10.5g %10.5g %16.8g %12.4g %8.2f %9.1f\n", node.rule, node.index, node.t,
                node.weight, node.couplings.m2, node.couplings.lambda, r.derivative, r.error, r.tau_int, r.seconds);
    rows.push_back({{"rule", node.rule}, {"index", node.index}, {"t", node.t}, {"weight", node.weight},
                    {"m2", node.couplings.m2}, {"lambda", node.couplings.lambda}, {"file", node.file},
                    {"path_derivative", r.derivative}, {"error", r.error}, {"tau_int", r.tau_int},
                    {"seconds", r.seconds}});
  }
  double volume = 1;
  for (int64_t extent : config.lattice.shape) volume *= static_cast<double>(extent);
  const double log_z_start = free_field_log_z(config.lattice.shape, config.ti.m2_start);
  const double log_z = log_z_start + full.value, error = std::sqrt(full.variance);
  // Both rules are independent runs: their difference carries both statistical
  // errors, and is a quadrature-error estimate only where it exceeds them.
  const double quadrature = std::abs(full.value - half.value);
  const double quadrature_noise = std::sqrt(full.variance + half.variance);
  std::printf("log Z(free, m2 = %.6g) = %.10g (closed form)\n"
              "log Z = %.10g +- %.3g (statistical, %d nodes); %d nodes: %.10g +- %.3g; the rules differ by %.3g "
              "+- %.3g (the quadrature-error estimate, statistical error of the difference)\n"
              "f = -log Z / V = %.10g +- %.3g; cost %.1f s of the job (thermalisation and trajectories, all nodes)\n",
              config.ti.m2_start, log_z_start, log_z, error, full_rule, full_rule / 2, log_z_start + half.value,
              std::sqrt(half.variance), quadrature, quadrature_noise, -log_z / volume, error / volume, seconds);
  std::fflush(stdout);
  return {{"command", "ti"},
          {"m2_start", config.ti.m2_start},
          {"log_z_start", log_z_start},
          {"nodes", rows},
          {"log_z", {{"value", log_z}, {"error", error}, {"nodes", full_rule}}},
          {"log_z_half_rule", {{"value", log_z_start + half.value}, {"error", std::sqrt(half.variance)},
                               {"nodes", full_rule / 2}}},
          {"quadrature_error_estimate", {{"value", quadrature}, {"error", quadrature_noise}}},
          {"free_energy_density", {{"value", -log_z / volume}, {"error", error / volume}}},
          {"seconds", seconds}};
}

}  // namespace

std::vector<TiNode> ti_nodes(const Config& config) {
  const Phi4Couplings start{config.ti.m2_start, 0.0}, end{config.action.m2, config.action.lambda};
  const std::string folder = config.run.output_dir + "/" + config.ti.output_dir + "/";
  std::vector<TiNode> nodes;
  for (const int rule : {static_cast<int>(config.ti.nodes), static_cast<int>(config.ti.nodes / 2)}) {
    const QuadratureRule q = gauss_legendre(rule, 0.0, 1.0);
    for (int k = 0; k < rule; ++k) {
      TiNode node;
      node.rule = rule;
      node.index = k;
      node.t = q.nodes[static_cast<size_t>(k)];
      node.weight = q.weights[static_cast<size_t>(k)];
      node.couplings = {start.m2 + node.t * (end.m2 - start.m2), node.t * end.lambda};
      char name[64];
      std::snprintf(name, sizeof name, "n%d_k%02d.h5", rule, k);
      node.file = folder + name;
      nodes.push_back(node);
    }
  }
  return nodes;
}

Config ti_node_config(const Config& config, const TiNode& node) {
  Config node_config = config;
  node_config.action.m2 = node.couplings.m2;
  node_config.action.lambda = node.couplings.lambda;
  // Independent random numbers per node: with the same stream nodes of nearby
  // couplings run nearly the same chains, their errors are correlated and do
  // not add in quadrature (measured: the spread of log Z over seeds was 2.5x
  // the quadrature sum with one seed for all nodes).
  node_config.hmc.seed = stream_key(config.hmc.seed, StreamPurpose::IntegrationNode,
                                    static_cast<uint64_t>(node.rule), static_cast<uint64_t>(node.index));
  return node_config;
}

nlohmann::json run_ti(const Config& config, const Communicator& comm, const TiOptions& options) {
  const std::vector<TiNode> nodes = ti_nodes(config);
  run_collectively(comm, [&] {
    if (config.hmc.step_jitter <= 0) {
      throw ConfigError(config.source_file + ": flowlat ti needs hmc.step_jitter > 0: near the free end of the "
                        "path a fixed trajectory length is not ergodic for the nearly harmonic modes (e.g. 0.2)");
    }
    if (options.node && (*options.node < 0 || *options.node >= static_cast<int>(nodes.size()))) {
      throw ConfigError("--node " + std::to_string(*options.node) + ": the integration has nodes 0 to " +
                        std::to_string(nodes.size() - 1) + " (ti.nodes = " + std::to_string(config.ti.nodes) +
                        " and " + std::to_string(config.ti.nodes / 2) + ")");
    }
  });
  if (options.node) {
    run_node(config, nodes[static_cast<size_t>(*options.node)], options, comm);
    return comm.is_root() ? nlohmann::json{{"command", "ti"}, {"node", *options.node},
                                           {"file", nodes[static_cast<size_t>(*options.node)].file}}
                          : nlohmann::json();
  }
  for (const TiNode& node : nodes) run_node(config, node, options, comm);
  nlohmann::json result;
  run_collectively(comm, [&] {
    if (comm.is_root()) result = combine(config, nodes);
  });
  return result;
}

}  // namespace flowlat
