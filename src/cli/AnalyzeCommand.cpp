// flowlat analyze ENSEMBLE.h5 [--json OUT] [--store] [--blocks 100] [--force]:
// estimates of the observables of an ensemble file by importance reweighting
// and along the stored chain (analysis/EnsembleAnalysis.hpp), printed as a
// table, optionally written as JSON and stored in the file's /analysis group.
// Runs on rank 0; the other ranks of an mpirun wait for its outcome.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "analysis/AnalysisReport.hpp"
#include "analysis/EnsembleAnalysis.hpp"
#include "cli/Commands.hpp"
#include "config/ConfigError.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace {

struct AnalyzeOptions {
  std::string ensemble;
  std::string json;  // empty: no JSON file
  bool store = false;
  int blocks = 100;
  bool force = false;
};

// Refuses a --json target that exists (without --force) or is the ensemble
// itself, before any work is done. Local.
void check_json_target(const AnalyzeOptions& options) {
  if (options.json.empty() || !std::filesystem::exists(options.json)) return;
  std::error_code error;
  if (std::filesystem::equivalent(options.json, options.ensemble, error)) {
    throw ConfigError(options.json + ": --json names the ensemble file itself");
  }
  if (!options.force) throw ConfigError(options.json + ": exists already; use --force to overwrite it");
}

// The whole command on one process. Local (rank 0).
void run_analyze(const AnalyzeOptions& options) {
  check_json_target(options);
  EnsembleAnalysisOptions analysis_options;
  analysis_options.n_blocks = options.blocks;
  const AnalysisReport report(analyze_ensemble(options.ensemble, analysis_options));
  std::fputs(report.table().c_str(), stdout);
  std::fflush(stdout);
  if (!options.json.empty()) {
    report.write_json(options.json, options.force ? OverwritePolicy::Force : OverwritePolicy::Refuse);
    std::printf("\nwrote %s\n", options.json.c_str());
  }
  if (options.store) {
    report.store(options.ensemble);
    std::printf("stored the results in %s:/analysis\n", options.ensemble.c_str());
  }
  std::fflush(stdout);
}

}  // namespace

void register_analyze(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<AnalyzeOptions>();
  CLI::App* analyze = app.add_subcommand(
      "analyze", "observables of an ensemble file: reweighted and chain estimates with errors");
  analyze->add_option("ensemble", options->ensemble, "ensemble HDF5 file (flowlat sample or hmc)")->required();
  analyze->add_option("--json", options->json, "also write the results as JSON to this file");
  analyze->add_flag("--store", options->store, "store the results in the file's /analysis group (replaced)");
  analyze->add_option("--blocks", options->blocks, "jackknife blocks of the reweighted estimator")
      ->check(CLI::Range(2, 1 << 30))
      ->capture_default_str();
  analyze->add_flag("--force", options->force, "overwrite an existing --json file");
  registry.add(analyze, [options](const Communicator& comm) {
    run_collectively(comm, [&] {
      if (comm.is_root()) run_analyze(*options);
    });
  });
}

}  // namespace flowlat
