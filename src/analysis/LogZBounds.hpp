#pragma once
// How far to trust a flow's log Z: the bracket
//   <log w>_q  <=  log Z  <=  <log p - log q>_p,
// the evidence lower bound from the flow's own ensemble (its gap is
// KL(q || p)) and the upper bound from an ensemble of the target itself
// (HMC; its gap is KL(p || q)), with the flow's log q of the HMC
// configurations from its reverse pass (sample/FlowDensityOfEnsemble.hpp).
// Nicoli et al., PRL 126 (2021) 032001, use the same pair.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "analysis/EnsembleAnalysis.hpp"

namespace flowlat {

struct LogZBracket {
  Estimate lower;        // <log w>_q, jackknife (the flow's analysis)
  Estimate log_z;        // log <w>_q, jackknife (the flow's analysis)
  ChainEstimate upper;   // <log p - log q>_p, Gamma method over the HMC chains as replicas
  bool log_z_inside = true;  // lower - 3 sigma <= log Z <= upper + 3 sigma (combined sigmas)
  std::vector<std::string> warnings;
};

// The bracket from the flow ensemble's analysis and the HMC file
// `hmc_path` with `flow_log_q` the flow's log q of each of its written rows
// (file order). Throws ConfigError naming the file if the row counts differ.
// Local.
LogZBracket log_z_bracket(const EnsembleAnalysis& flow, const std::string& hmc_path,
                          const std::vector<double>& flow_log_q);

// A few lines for the analysis table, and the JSON object
// {"lower", "log_z", "upper" (with tau_int), "log_z_inside", "warnings"}. Local.
std::string bracket_text(const LogZBracket& bracket);
nlohmann::json bracket_json(const LogZBracket& bracket);

}  // namespace flowlat
