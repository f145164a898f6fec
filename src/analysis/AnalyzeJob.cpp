#include "analysis/AnalyzeJob.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "analysis/AnalysisReport.hpp"
#include "analysis/CostReport.hpp"
#include "analysis/EnsembleAnalysis.hpp"
#include "config/ConfigError.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace {

// Refuses a --json target that exists (without --force) or is the ensemble
// itself, before any work is done. Local.
void check_json_target(const AnalyzeOptions& options) {
  if (options.json.empty() || options.json == "-" || !std::filesystem::exists(options.json)) return;
  std::error_code error;
  if (std::filesystem::equivalent(options.json, options.ensemble, error)) {
    throw ConfigError(options.json + ": --json names the ensemble file itself");
  }
  if (!options.force) throw ConfigError(options.json + ": exists already; use --force to overwrite it");
}

// The whole command on one process. Local (rank 0).
void analyze_on_this_rank(const AnalyzeOptions& options) {
  check_json_target(options);
  EnsembleAnalysisOptions analysis_options;
  analysis_options.n_blocks = options.blocks;
  const AnalysisReport report(analyze_ensemble(options.ensemble, analysis_options));
  // `--json -`: the JSON alone on stdout (for pipes), the tables on stderr.
  const bool json_to_stdout = options.json == "-";
  FILE* text = json_to_stdout ? stderr : stdout;
  std::fputs(report.table().c_str(), text);
  nlohmann::json json = report.json();
  if (const auto sampler = sampler_cost(options.ensemble)) {
    CostComparison costs{report.analysis(), *sampler, std::nullopt, std::nullopt};
    if (!options.versus.empty()) {
      costs.other_analysis = analyze_ensemble(options.versus, analysis_options);
      costs.other_sampler = sampler_cost(options.versus);
      if (!costs.other_sampler) throw ConfigError(options.versus + ": --versus: the file records no costs");
    }
    std::fputs(cost_table(costs).c_str(), text);
    json["cost"] = cost_json(costs);
  } else if (!options.versus.empty()) {
    throw ConfigError(options.ensemble + ": records no costs (seconds_per_row) to compare with --versus");
  }
  std::fflush(text);
  if (json_to_stdout) {
    std::fputs((json.dump(2) + "\n").c_str(), stdout);
  } else if (!options.json.empty()) {
    write_json_file(options.json, json, options.force ? OverwritePolicy::Force : OverwritePolicy::Refuse);
    std::fprintf(text, "\nwrote %s\n", options.json.c_str());
  }
  if (options.store) {
    report.store(options.ensemble);
    std::fprintf(text, "stored the results in %s:/analysis\n", options.ensemble.c_str());
  }
  std::fflush(stdout);
  std::fflush(stderr);
}

}  // namespace

void run_analyze(const Communicator& comm, const AnalyzeOptions& options) {
  run_collectively(comm, [&] {
    if (comm.is_root()) analyze_on_this_rank(options);
  });
}

}  // namespace flowlat
