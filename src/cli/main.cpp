// flowlat: normalizing-flow sampling of lattice field theories.
// Subcommands are registered by the cli/*Command.cpp files.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/Commands.hpp"
#include "parallel/CollectiveError.hpp"
#include "parallel/Communicator.hpp"
#include "parallel/MpiSession.hpp"

int main(int argc, char** argv) {
  flowlat::MpiSession mpi(&argc, &argv);
  const flowlat::Communicator world = flowlat::Communicator::world();

  CLI::App app{"flowlat: normalizing flows for lattice field theory"};
  app.require_subcommand(1);
  flowlat::CommandRegistry commands;
  flowlat::register_commands(app, commands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Every rank parses the same argv; only rank 0 speaks.
    int code = 0;
    if (world.is_root()) {
      code = app.exit(e);
    } else {
      code = e.get_exit_code();
    }
    return code == 0 ? 0 : static_cast<int>(flowlat::ExitCode::InputError);
  }

  try {
    commands.run_selected(world);
  } catch (const flowlat::CollectiveError& e) {
    // Every rank threw the same error: rank 0 reports, all end cleanly.
    if (world.is_root()) std::fprintf(stderr, "flowlat: error: %s\n", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    // Only this rank failed: report with its rank and take the job down.
    std::fprintf(stderr, "flowlat: error on rank %d of %d: %s\n", world.rank(), world.size(), e.what());
    std::fflush(stderr);
    if (world.size() > 1) flowlat::Communicator::abort_job(static_cast<int>(flowlat::ExitCode::RuntimeFailure));
    return static_cast<int>(flowlat::ExitCode::RuntimeFailure);
  }
  return 0;
}
