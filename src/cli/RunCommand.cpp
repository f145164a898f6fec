#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "job/RunDirectory.hpp"
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
    const RunDirectory run_dir(config.run.output_dir);
    std::vector<std::string> own_files = run_dir.training_files();
    const std::vector<std::string> products = run_dir.flow_products(config);
    own_files.insert(own_files.end(), products.begin(), products.end());
    own_files.insert(own_files.end(), {config_options->config_file, chosen.hmc_path});
    json.begin(config_options->json, config_options->force, own_files, comm);
    const nlohmann::json result = run_pipeline(config, comm, chosen);
    json.finish(result, comm);
  });
}

}  // namespace flowlat
