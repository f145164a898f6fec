#include "cli/Commands.hpp"
#include "train/TrainingRun.hpp"

namespace flowlat {

void register_train(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<ConfigOptions>();
  CLI::App* train = app.add_subcommand("train", "train a flow by reverse KL (mpirun for data parallelism)");
  options->add_to(train);
  registry.add(train, [options](const Communicator& comm) {
    const Config config = load_collectively(*options, comm);
    run_training(config, comm, options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse);
  });
}

}  // namespace flowlat
