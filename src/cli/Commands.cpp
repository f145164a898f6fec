#include "cli/Commands.hpp"

#include "parallel/CollectiveError.hpp"

namespace flowlat {

void CommandRegistry::run_selected(const Communicator& comm) const {
  for (const auto& [subcommand, handler] : handlers_) {
    if (subcommand->parsed()) {
      handler(comm);
      return;
    }
  }
}

const CLI::Validator& not_empty() {
  static const CLI::Validator validator(
      [](std::string& value) { return value.empty() ? std::string("an empty value is not allowed") : std::string(); },
      "NOT EMPTY");
  return validator;
}

void ConfigOptions::add_to(CLI::App* command) {
  command->add_option("config", config_file, "YAML configuration file")->required()->check(CLI::ExistingFile);
  command->add_option("--set", overrides,
                      "override a key: --set train.lr=5e-4 (repeatable; `flowlat keys` lists them)");
  force_option_ = command->add_flag("--force", force, "overwrite an existing output");
  command->add_option("--json", json,
                      "write the results (with the build's provenance) as JSON to this file; - writes the JSON "
                      "alone to stdout and everything else to stderr")
      ->check(not_empty());
}

CLI::Option* ConfigOptions::add_resume(CLI::App* command, bool& resume, const std::string& help) {
  return command->add_flag("--resume", resume, help)->excludes(force_option_);
}

Config load_collectively(const ConfigOptions& options, const Communicator& comm) {
  Config config;
  run_collectively(comm, [&] { config = load_config(options.config_file, options.overrides); });
  return config;
}

void register_commands(CLI::App& app, CommandRegistry& registry) {
  register_train(app, registry);
  register_sample(app, registry);
  register_analyze(app, registry);
  register_hmc(app, registry);
  register_ti(app, registry);
  register_run(app, registry);
  register_keys(app, registry);
}

}  // namespace flowlat
