#include "analysis/AnalyzeJob.hpp"
#include "cli/Commands.hpp"

namespace flowlat {

void register_analyze(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<AnalyzeOptions>();
  CLI::App* analyze = app.add_subcommand(
      "analyze", "observables of an ensemble file: reweighted and chain estimates with errors");
  analyze->add_option("ensemble", options->ensemble, "ensemble HDF5 file (flowlat sample or hmc)")->required();
  analyze->add_option("--json", options->json, "also write the results as JSON to this file; - writes the JSON alone to stdout (tables to stderr)")
      ->check(not_empty());
  analyze->add_flag("--store", options->store, "store the results in the file's /analysis group (replaced)");
  analyze->add_option("--blocks", options->blocks, "jackknife blocks of the reweighted estimator")
      ->check(CLI::Range(2, 1 << 30))
      ->capture_default_str();
  analyze->add_flag("--force", options->force, "overwrite an existing --json file");
  analyze->add_option("--versus", options->versus,
                      "another ensemble (e.g. HMC) to compare the cost per independent configuration with")
      ->check(CLI::ExistingFile);
  registry.add(analyze, [options](const Communicator& comm) { run_analyze(comm, *options); });
}

}  // namespace flowlat
