#include "cli/Commands.hpp"

#include "config/Config.hpp"
#include "parallel/CollectiveError.hpp"
#include "train/TrainingRun.hpp"

namespace flowlat {

void CommandRegistry::run_selected(const CLI::App& app, const Communicator& comm) const {
  for (const auto& [subcommand, handler] : handlers_) {
    if (subcommand->parsed()) {
      handler(comm);
      return;
    }
  }
  (void)app;
}

void ConfigOptions::add_to(CLI::App* command, bool with_force) {
  command->add_option("config", config_file, "YAML configuration file")->required()->check(CLI::ExistingFile);
  command->add_option("--set", overrides, "override a key: --set train.lr=5e-4 (repeatable)");
  if (with_force) command->add_flag("--force", force, "overwrite an existing output");
}

namespace {

Config load_collectively(const ConfigOptions& options, const Communicator& comm) {
  Config config;
  run_collectively(comm, [&] { config = load_config(options.config_file, options.overrides); });
  return config;
}

void register_train(CLI::App& app, CommandRegistry& registry) {
  auto options = std::make_shared<ConfigOptions>();
  CLI::App* train = app.add_subcommand("train", "train a flow by reverse KL (mpirun for data parallelism)");
  options->add_to(train, true);
  registry.add(train, [options](const Communicator& comm) {
    const Config config = load_collectively(*options, comm);
    run_training(config, comm, options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse);
  });
}

}  // namespace

void register_commands(CLI::App& app, CommandRegistry& registry) {
  register_train(app, registry);
}

}  // namespace flowlat
