#include "analysis/AnalyzeJob.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>

#include "analysis/AnalysisReport.hpp"
#include "analysis/CostReport.hpp"
#include "analysis/EnsembleAnalysis.hpp"
#include "analysis/LogZBounds.hpp"
#include "analysis/Verdict.hpp"
#include "config/ConfigError.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace {

// The couplings an ensemble was made with, as printed in messages. Local.
std::string couplings(const EnsembleReader& file) {
  std::ostringstream text;
  text << "lattice [";
  for (size_t i = 0; i < file.lattice_shape().size(); ++i) text << (i ? ", " : "") << file.lattice_shape()[i];
  text << "]";
  if (file.has_attribute("action")) text << ", " << file.attribute_string("action");
  for (const char* name : {"m2", "lambda"}) {
    if (file.has_attribute(name)) text << ", " << name << " = " << file.attribute_double(name);
  }
  return text.str();
}

// Refuses a --versus that cannot be compared with the ensemble: the same
// file, a flow ensemble that is not compared with an HMC one, or another
// lattice, action or couplings. Local.
void check_versus(const std::string& ensemble, const std::string& versus) {
  std::error_code error;
  if (std::filesystem::equivalent(ensemble, versus, error)) {
    throw ConfigError("--versus " + versus + ": names the ensemble itself; give the HMC ensemble of the same couplings");
  }
  const EnsembleReader flow = open_ensemble_input(ensemble), hmc = open_ensemble_input(versus);
  if (flow.source() != "flow" || hmc.source() != "hmc") {
    throw ConfigError("--versus: compares a flow ensemble with an HMC one, but " + ensemble + " is a " + flow.source() +
                      " ensemble and " + versus + " a " + hmc.source() + " one (flowlat analyze FLOW.h5 --versus HMC.h5)");
  }
  if (couplings(flow) != couplings(hmc)) {
    throw ConfigError("--versus: " + ensemble + " (" + couplings(flow) + ") and " + versus + " (" + couplings(hmc) +
                      ") sample different theories; their costs do not compare");
  }
}

// The couplings of "m2=X,lambda=Y", those left out the ensemble's. Local.
Phi4Couplings target_couplings(const std::string& text, const std::string& ensemble) {
  const EnsembleReader file = open_ensemble_input(ensemble);
  Phi4Couplings couplings;
  couplings.m2 = file.has_attribute("m2") ? file.attribute_double("m2") : 0;
  couplings.lambda = file.has_attribute("lambda") ? file.attribute_double("lambda") : 0;
  std::istringstream items(text);
  for (std::string item; std::getline(items, item, ',');) {
    const auto eq = item.find('=');
    const std::string name = item.substr(0, eq);
    double value = 0;
    size_t used = 0;
    try {
      if (eq != std::string::npos) value = std::stod(item.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if ((name != "m2" && name != "lambda") || eq == std::string::npos || used == 0 ||
        used != item.size() - eq - 1 || !std::isfinite(value)) {
      throw ConfigError("--reweight-to " + text + ": expected m2=NUMBER and/or lambda=NUMBER, comma-separated (got '" +
                        item + "')");
    }
    if (name == "lambda" && value < 0) {
      throw ConfigError("--reweight-to " + text + ": lambda must be >= 0 (got " + item.substr(eq + 1) + ")");
    }
    (name == "m2" ? couplings.m2 : couplings.lambda) = value;
  }
  return couplings;
}

// The whole command on one process. Local (rank 0).
nlohmann::json analyze_on_this_rank(const AnalyzeOptions& options) {
  if (!options.versus.empty()) check_versus(options.ensemble, options.versus);
  EnsembleAnalysisOptions analysis_options;
  analysis_options.n_blocks = options.blocks;
  if (!options.reweight_to.empty()) analysis_options.reweight_to = target_couplings(options.reweight_to, options.ensemble);
  const AnalysisReport report(analyze_ensemble(options.ensemble, analysis_options));
  FILE* text = stdout;
  std::fputs(report.table().c_str(), text);
  nlohmann::json json = report.json();
  if (!options.versus_log_q.empty()) {
    const LogZBracket bracket = log_z_bracket(report.analysis(), options.versus, options.versus_log_q);
    std::fputs(bracket_text(bracket).c_str(), text);
    json["log_z_bracket"] = bracket_json(bracket);
  }
  if (const auto sampler = sampler_cost(options.ensemble)) {
    CostComparison costs{report.analysis(), *sampler, std::nullopt, std::nullopt};
    if (!options.versus.empty()) {
      costs.other_analysis = analyze_ensemble(options.versus, analysis_options);
      costs.other_sampler = sampler_cost(options.versus);
      if (!costs.other_sampler) throw ConfigError(options.versus + ": --versus: the file records no costs");
    }
    std::fputs(cost_table(costs).c_str(), text);
    json["cost"] = cost_json(costs);
    if (const std::optional<Verdict> verdict = make_verdict(costs)) {
      std::fputs(verdict_text(*verdict).c_str(), text);
      json["verdict"] = verdict_json(*verdict);
    }
  } else if (!options.versus.empty()) {
    throw ConfigError(options.ensemble + ": records no costs (seconds_per_row) to compare with --versus");
  }
  if (options.store) {
    report.store(options.ensemble);
    std::fprintf(text, "stored the results in %s:/analysis\n", options.ensemble.c_str());
  }
  std::fflush(stdout);
  return json;
}

}  // namespace

nlohmann::json run_analyze(const Communicator& comm, const AnalyzeOptions& options) {
  nlohmann::json result;
  run_collectively(comm, [&] {
    if (comm.is_root()) result = analyze_on_this_rank(options);
  });
  return result;
}

}  // namespace flowlat
