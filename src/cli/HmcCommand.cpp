#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "hmc/HmcJob.hpp"

namespace flowlat {

void register_hmc(CLI::App& app, CommandRegistry& registry) {
  auto config_options = std::make_shared<ConfigOptions>();
  auto options = std::make_shared<HmcOptions>();
  CLI::App* command = app.add_subcommand("hmc", "hybrid Monte Carlo baseline ensemble (mpirun: independent chains)");
  config_options->add_to(command);
  command->add_option("--output", options->output_path, "ensemble file (default: <run.output_dir>/<hmc.output>)")
      ->check(not_empty());
  auto resume = std::make_shared<bool>(false);
  config_options->add_resume(command, *resume, "continue a stopped or killed run from its last committed round");
  registry.add(command, [config_options, options, resume](const Communicator& comm) {
    const Config config = load_collectively(*config_options, comm);
    HmcOptions chosen = *options;
    chosen.overwrite = config_options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse;
    chosen.start = *resume ? HmcStart::Resume : HmcStart::Fresh;
    JsonOutput json;
    json.begin(config_options->json, config_options->force,
               {config_options->config_file, hmc_output_path(config, chosen)}, comm);
    const nlohmann::json result = run_hmc(config, comm, chosen);
    json.finish(result, comm);
  });
}

}  // namespace flowlat
