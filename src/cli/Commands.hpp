#pragma once
// Subcommand registry: each command adds its CLI11 options and a handler.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "config/Config.hpp"
#include "parallel/Communicator.hpp"

namespace flowlat {

class CommandRegistry {
 public:
  using Handler = std::function<void(const Communicator&)>;
  void add(CLI::App* subcommand, Handler handler) { handlers_.emplace_back(subcommand, std::move(handler)); }
  // Runs the handler of the subcommand given on the command line. Collective.
  void run_selected(const Communicator& comm) const;

 private:
  std::vector<std::pair<CLI::App*, Handler>> handlers_;
};

// Options shared by the commands that read a configuration file.
struct ConfigOptions {
  std::string config_file;
  std::vector<std::string> overrides;  // --set key.path=value
  bool force = false;
  std::string json;  // --json PATH|- (cli/JsonOutput.hpp)
  void add_to(CLI::App* command);
  // Adds --resume, refused together with --force (which would discard what
  // --resume continues).
  CLI::Option* add_resume(CLI::App* command, bool& resume, const std::string& help);

 private:
  CLI::Option* force_option_ = nullptr;
};

// Refuses an empty value (`--output ''`), which would silently mean the
// option's default.
const CLI::Validator& not_empty();

// Loads the configuration on every rank; errors reach all ranks. Collective.
Config load_collectively(const ConfigOptions& options, const Communicator& comm);

void register_commands(CLI::App& app, CommandRegistry& registry);
// One per subcommand, each in cli/<Name>Command.cpp.
void register_train(CLI::App& app, CommandRegistry& registry);
void register_sample(CLI::App& app, CommandRegistry& registry);
void register_analyze(CLI::App& app, CommandRegistry& registry);
void register_hmc(CLI::App& app, CommandRegistry& registry);
void register_ti(CLI::App& app, CommandRegistry& registry);
void register_run(CLI::App& app, CommandRegistry& registry);
void register_keys(CLI::App& app, CommandRegistry& registry);

}  // namespace flowlat
