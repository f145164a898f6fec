#include <cstdio>

#include "cli/Commands.hpp"
#include "cli/JsonOutput.hpp"
#include "hmc/ThermodynamicIntegration.hpp"

namespace flowlat {

void register_ti(CLI::App& app, CommandRegistry& registry) {
  auto config_options = std::make_shared<ConfigOptions>();
  auto node = std::make_shared<int>(-1);
  CLI::App* command = app.add_subcommand(
      "ti", "log Z by thermodynamic integration with HMC from the free field (one HMC run per quadrature node)");
  config_options->add_to(command);
  CLI::Option* node_option =
      command->add_option("--node", *node, "run this node alone (0-based; a SLURM array task) and stop");
  auto list = std::make_shared<bool>(false);
  command->add_flag("--list", *list, "print the nodes (number, rule, t, weight, couplings, file) and stop");
  auto resume = std::make_shared<bool>(false);
  config_options->add_resume(command, *resume,
                             "continue the integration: complete node files are used, a stopped one is continued, "
                             "the rest are run; with every node complete it only combines them");
  registry.add(command, [config_options, node, node_option, list, resume](const Communicator& comm) {
    const Config config = load_collectively(*config_options, comm);
    if (*list) {
      // One line per node, for people and for jobscripts (the array's size).
      if (!comm.is_root()) return;
      const std::vector<TiNode> nodes = ti_nodes(config);
      for (size_t k = 0; k < nodes.size(); ++k) {
        std::printf("node %zu rule %d index %d t %.17g weight %.17g m2 %.17g lambda %.17g file %s\n", k,
                    nodes[k].rule, nodes[k].index, nodes[k].t, nodes[k].weight, nodes[k].couplings.m2,
                    nodes[k].couplings.lambda, nodes[k].file.c_str());
      }
      return;
    }
    TiOptions options;
    options.overwrite = config_options->force ? OverwritePolicy::Force : OverwritePolicy::Refuse;
    options.start = *resume ? TiStart::Continue : TiStart::Fresh;
    if (node_option->count() > 0) options.node = *node;
    std::vector<std::string> own_files{config_options->config_file};
    for (const TiNode& n : ti_nodes(config)) own_files.push_back(n.file);
    JsonOutput json;
    json.begin(config_options->json, config_options->force, own_files, comm);
    const nlohmann::json result = run_ti(config, comm, options);
    json.finish(result, comm);
  });
}

}  // namespace flowlat
