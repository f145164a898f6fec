#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "train/TrainJob.hpp"

namespace flowlat {

void register_train(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<ConfigOptions>();
  auto resume = std::make_shared<bool>(false);
  CLI::App* train = app.add_subcommand("train", "train a flow by reverse KL (mpirun for data parallelism)");
  options->add_to(train);
  options->add_resume(train, *resume,
                  "continue from the newest valid checkpoint in run.output_dir (only train.steps, logging and "
                  "checking periods may change)");
  registry.add(train, [options, resume](const Communicator& comm) {
    const Config config = load_collectively(*options, comm);
    JsonOutput json;
    json.begin(options->json, options->force, comm);
    const nlohmann::json result =
        run_training(config, comm, options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse,
                     *resume ? TrainStart::Resume : TrainStart::Fresh);
    json.finish(result, comm);
  });
}

}  // namespace flowlat
