#include "analysis/LogZBounds.hpp"

#include <cmath>
#include <cstdio>

#include "analysis/GammaMethod.hpp"
#include "analysis/ReplicaLayout.hpp"
#include "config/ConfigError.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"

namespace flowlat {
namespace {

std::string value_error(double value, double error) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6f +- %.6f", value, error);
  return text;
}

}  // namespace

LogZBracket log_z_bracket(const EnsembleAnalysis& flow, const std::string& hmc_path,
                          const std::vector<double>& flow_log_q) {
  const EnsembleReader hmc = open_ensemble_input(hmc_path);
  const int64_t n = hmc.n_written();
  if (static_cast<int64_t>(flow_log_q.size()) != n) {
    throw ConfigError(hmc_path + ": " + std::to_string(n) + " rows, but log q was given for " +
                      std::to_string(flow_log_q.size()));
  }
  std::vector<double> gap = hmc.read_column(ensemble::kLogP, 0, n);
  for (size_t i = 0; i < gap.size(); ++i) gap[i] -= flow_log_q[i];
  // The chains as the Gamma method's replicas.
  const ReplicaLayout layout =
      replica_layout(hmc, n, hmc.has_attribute("n_chains") ? hmc.attribute_int64("n_chains") : 1);
  const GammaMethodResult upper =
      gamma_method({chain_major(gap, layout)}, [](const std::vector<double>& m) { return m[0]; }, layout.lengths());

  LogZBracket bracket;
  bracket.lower = flow.scalar("log_z_lower_bound").estimate.reweighted;
  bracket.log_z = flow.scalar("log_z").estimate.reweighted;
  bracket.upper = {upper.value, upper.error, upper.tau_int, upper.tau_int_error};
  const double below = (bracket.lower.value - bracket.log_z.value) / std::hypot(bracket.lower.error, bracket.log_z.error);
  const double above = (bracket.log_z.value - bracket.upper.value) / std::hypot(bracket.upper.error, bracket.log_z.error);
  bracket.log_z_inside = !(below > 3.0) && !(above > 3.0);
  if (!bracket.log_z_inside) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "log Z = %.6f lies outside its bounds [%.6f, %.6f] by more than 3 combined errors: the flow's "
                  "estimate (and its error) is not to be trusted",
                  bracket.log_z.value, bracket.lower.value, bracket.upper.value);
    bracket.warnings.push_back(text);
  }
  return bracket;
}

std::string bracket_text(const LogZBracket& b) {
  std::string out = "\nlog Z bracketed (flow ensemble and the --versus HMC ensemble):\n";
  out += "  lower bound <log w>_q          " + value_error(b.lower.value, b.lower.error) + "\n";
  out += "  log Z = log <w>_q              " + value_error(b.log_z.value, b.log_z.error) + "\n";
  char tau[64];
  std::snprintf(tau, sizeof tau, "   (tau_int %.2f)", b.upper.tau_int);
  out += "  upper bound <log p - log q>_p  " + value_error(b.upper.value, b.upper.error) + tau + "\n";
  out += "  KL(q || p) = " + value_error(b.log_z.value - b.lower.value, std::hypot(b.log_z.error, b.lower.error)) +
         ", KL(p || q) = " + value_error(b.upper.value - b.log_z.value, std::hypot(b.upper.error, b.log_z.error)) +
         " nats\n";
  for (const std::string& warning : b.warnings) out += "warning: " + warning + "\n";
  return out;
}

nlohmann::json bracket_json(const LogZBracket& b) {
  return {{"lower", {{"value", b.lower.value}, {"error", b.lower.error}}},
          {"log_z", {{"value", b.log_z.value}, {"error", b.log_z.error}}},
          {"upper", {{"value", b.upper.value}, {"error", b.upper.error}, {"tau_int", b.upper.tau_int}}},
          {"log_z_inside", b.log_z_inside},
          {"warnings", b.warnings}};
}

}  // namespace flowlat
