#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "sample/SampleJob.hpp"

namespace flowlat {

void register_sample(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<ConfigOptions>();
  auto sample = std::make_shared<SampleOptions>();
  auto resume = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand("sample", "generate an ensemble from a trained flow into HDF5");
  options->add_to(command);
  command->add_option("--model", sample->model_path, "model file (default: <run.output_dir>/model.pt)")
      ->check(not_empty());
  command->add_option("--output", sample->output_path, "ensemble file (default: <run.output_dir>/<sample.output>)")
      ->check(not_empty());
  options->add_resume(command, *resume, "continue a partly written ensemble file to sample.n_configs");
  registry.add(command, [options, sample, resume](const Communicator& comm) {
    const Config config = load_collectively(*options, comm);
    SampleOptions chosen = *sample;
    chosen.overwrite = options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse;
    chosen.start = *resume ? SampleStart::Resume : SampleStart::Fresh;
    JsonOutput json;
    json.begin(options->json, options->force,
               {options->config_file, sample_model_path(config, chosen), sample_output_path(config, chosen)}, comm);
    const nlohmann::json result = run_sampling(config, comm, chosen).summary;
    json.finish(result, comm);
  });
}

}  // namespace flowlat
