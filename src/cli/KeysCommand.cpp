#include "cli/Commands.hpp"
#include "config/ConfigKeys.hpp"

#include <cstdio>

namespace flowlat {

void register_keys(CLI::App& app, CommandRegistry& registry) {
  auto section = std::make_shared<std::string>();
  auto markdown = std::make_shared<bool>(false);
  CLI::App* command = app.add_subcommand("keys", "list every configuration key: type, default, allowed values");
  command->add_option("section", *section, "only this section (lattice, action, flow, train, run, sample, hmc, ti)")
      ->check(CLI::IsMember(config_sections()));
  command->add_flag("--markdown", *markdown, "as the Markdown table of the README");
  registry.add(command, [section, markdown](const Communicator& comm) {
    if (!comm.is_root()) return;
    const std::string table = key_table(*markdown ? KeyTableStyle::Markdown : KeyTableStyle::Text, *section);
    std::fputs(table.c_str(), stdout);
  });
}

}  // namespace flowlat
