#include <cstdio>

#include "analysis/AnalysisReport.hpp"
#include "analysis/EnsembleAnalysis.hpp"
#include "cli/Commands.hpp"
#include "parallel/CollectiveError.hpp"
#include "sample/EnsembleSampler.hpp"
#include "train/TrainingRun.hpp"

namespace flowlat {

// `flowlat run`: the whole pipeline in one job: train, sample, analyze.
void register_run(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<ConfigOptions>();
  CLI::App* command = app.add_subcommand("run", "train, then sample, then analyze, in one job");
  options->add_to(command);
  registry.add(command, [options](const Communicator& comm) {
    const Config config = load_collectively(*options, comm);
    const OverwritePolicy overwrite = options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse;
    run_training(config, comm, overwrite);
    SampleOptions sample;
    sample.overwrite = overwrite;
    run_sampling(config, comm, sample);
    run_collectively(comm, [&] {
      if (!comm.is_root()) return;
      std::printf("%s", AnalysisReport(analyze_ensemble(default_ensemble_path(config))).table().c_str());
      std::printf("plots: python3 tools/plot_training.py %s; python3 tools/plot_ensemble.py %s\n",
                  config.run.output_dir.c_str(), default_ensemble_path(config).c_str());
    });
  });
}

}  // namespace flowlat
