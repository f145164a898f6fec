#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "job/RunDirectory.hpp"
#include "train/TrainJob.hpp"

namespace flowlat {

void register_train(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<ConfigOptions>();
  auto resume = std::make_shared<bool>(false);
  CLI::App* train = app.add_subcommand("train", "train a flow by reverse KL (mpirun for data parallelism)");
  options->add_to(train);
  options->add_resume(train, *resume,
                  "continue from the newest valid checkpoint in run.output_dir (the keys `flowlat keys` marks "
                  "may change)");
  registry.add(train, [options, resume](const Communicator& comm) {
    const Config config = load_collectively(*options, comm);
    JsonOutput json;
    std::vector<std::string> own_files = RunDirectory(config.run.output_dir).training_files();
    own_files.push_back(options->config_file);
    json.begin(options->json, options->force, own_files, comm);
    const nlohmann::json result =
        run_training(config, comm, options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse,
                     *resume ? TrainStart::Resume : TrainStart::Fresh);
    json.finish(result, comm);
  });
}

}  // namespace flowlat
