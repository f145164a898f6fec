#include "analysis/AnalyzeJob.hpp"
#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "sample/FlowDensityOfEnsemble.hpp"

namespace flowlat {

void register_analyze(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<AnalyzeOptions>();
  CLI::App* analyze = app.add_subcommand(
      "analyze", "observables of an ensemble file: reweighted and chain estimates with errors");
  analyze->add_option("ensemble", options->ensemble, "ensemble HDF5 file (flowlat sample or hmc)")->required();
  auto json_target = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  analyze->add_option("--json", *json_target, "also write the results as JSON to this file; - writes the JSON alone to stdout (tables to stderr)")
      ->check(not_empty());
  analyze->add_flag("--store", options->store, "store the results in the file's /analysis group (replaced)");
  analyze->add_option("--blocks", options->blocks, "jackknife blocks of the reweighted estimator")
      ->check(CLI::Range(2, 1 << 30))
      ->capture_default_str();
  analyze->add_flag("--force", *force, "overwrite an existing --json file");
  CLI::Option* versus =
      analyze->add_option("--versus", options->versus,
                          "another ensemble (e.g. HMC) to compare the cost per independent configuration with")
          ->check(CLI::ExistingFile);
  analyze->add_option("--model", options->model,
                      "the flow's model file: with --versus HMC.h5, also the upper bound <log p - log q>_p on log Z "
                      "from the flow's log q of the HMC configurations")
      ->check(CLI::ExistingFile)
      ->needs(versus);
  analyze->add_option("--reweight-to", options->reweight_to,
                      "m2=X,lambda=Y: also log Z at these couplings minus the ensemble's, by reweighting "
                      "(a coupling left out keeps the ensemble's value)")
      ->check(not_empty());
  registry.add(analyze, [options, json_target, force](const Communicator& comm) {
    JsonOutput json;
    json.begin(*json_target, *force, {options->ensemble, options->versus}, comm);
    if (!options->model.empty()) {
      options->versus_log_q = flow_log_q_of_rows(options->model, options->ensemble, options->versus, comm);
    }
    const nlohmann::json result = run_analyze(comm, *options);
    json.finish(result, comm);
  });
}

}  // namespace flowlat
