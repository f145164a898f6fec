#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "pipeline/RunJob.hpp"

namespace flowlat {

void register_run(CLI::App& app, CommandRegistry& registry) {
  auto config_options = std::make_shared<ConfigOptions>();
  auto options = std::make_shared<RunOptions>();
  auto resume = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand("run", "train, then sample, then analyze and plot, in one job");
  config_options->add_to(command);
  command->add_option("--hmc", options->hmc_path, "HMC ensemble (flowlat hmc) shown beside the flow in the plots")
      ->check(CLI::ExistingFile);
  config_options->add_resume(command, *resume,
                    "continue a stopped run: training from its newest checkpoint, sampling from the rows written");
  registry.add(command, [config_options, options, resume](const Communicator& comm) {
    const Config config = load_collectively(*config_options, comm);
    RunOptions chosen = *options;
    chosen.start = *resume ? RunStart::Resume : RunStart::Fresh;
    chosen.overwrite = config_options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse;
    JsonOutput json;
    json.begin(config_options->json, config_options->force, comm);
    const nlohmann::json result = run_pipeline(config, comm, chosen);
    json.finish(result, comm);
  });
}

}  // namespace flowlat
