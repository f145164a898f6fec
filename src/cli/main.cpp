// flowlat: normalizing-flow sampling of lattice field theories.
// Subcommands are registered by the cli/*Command.cpp files.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/Commands.hpp"
#include "cli/ResumeCommand.hpp"
#include "io/H5Handle.hpp"
#include "parallel/CollectiveError.hpp"
#include "parallel/Communicator.hpp"
#include "parallel/MpiSession.hpp"
#include "provenance/BuildInfo.hpp"

namespace {
// glibc serves blocks above its mmap threshold with fresh mmap()s and hands
// them back on free, so every batch's activations (~2 MB at L = 8, batch
// 1024) were page-faulted in again: up to 840k faults and a 5x slower,
// erratic run. Keeping freed memory in the heap makes reuse free. Blocks
// above glibc's largest threshold (32 MB: L = 32, batch 1024 activations)
// were still mmap'ed (1.7M faults, 5x slower), so mmap is off altogether.
void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);   // glibc's maximum on 64-bit
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}
// The error for `flowlat NAME ...` when NAME is no subcommand (CLI11 only
// says that a subcommand is required), or "" when argv[1] is one or an option.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return "";
  std::string known;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (command->get_name() == argv[1]) return "";
    known += (known.empty() ? "" : ", ") + command->get_name();
  }
  return std::string("unknown command '") + argv[1] + "' (commands: " + known + "; flowlat --help)";
}

// Returns `code`, or ends the process with it at once when a file was left
// open after a failed write (e.g. a full disk): HDF5 1.10 would crash
// terminating itself in MPI_Finalize (exit 139 after the real error).
int finish(int code, const flowlat::Communicator& world) {
  if (!flowlat::h5detail::file_left_open()) return code;
  if (world.is_root()) {
    std::fprintf(stderr, "flowlat: a file was left open after a failed write; ending without MPI_Finalize\n");
  }
  std::fflush(nullptr);
  std::_Exit(code == 0 ? static_cast<int>(flowlat::ExitCode::RuntimeFailure) : code);
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory_for_reuse();
  // A write past the file-size limit (ulimit -f) then fails with EFBIG and
  // is reported like a full disk, instead of killing the process unannounced.
  std::signal(SIGXFSZ, SIG_IGN);
  flowlat::MpiSession mpi(&argc, &argv);
  const flowlat::Communicator world = flowlat::Communicator::world();

  CLI::App app{"flowlat: normalizing flows for lattice field theory"};
  app.require_subcommand(1);
  // CLI11's own parse errors read like every other error of flowlat.
  app.failure_message([](const CLI::App* command, const CLI::Error& e) {
    const auto chosen = command->get_subcommands();
    const std::string name = chosen.empty() ? std::string("flowlat") : "flowlat " + chosen.front()->get_name();
    return "flowlat: error: " + std::string(e.what()) + " (" + name + " --help)\n";
  });
  app.set_version_flag("--version", flowlat::version_report(), "Version, commit, build and libraries, then exit");
  flowlat::CommandRegistry commands;
  flowlat::register_commands(app, commands);
  if (const std::string error = unknown_command(app, argc, argv); !error.empty()) {
    if (world.is_root()) std::fprintf(stderr, "flowlat: error: %s\n", error.c_str());
    return static_cast<int>(flowlat::ExitCode::InputError);
  }
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
    const bool stopped = e.code() == flowlat::ExitCode::StoppedResumable;
    if (world.is_root() && stopped) {
      std::fflush(stdout);
      std::fprintf(stderr, "flowlat: %s; continue with: %s\n", e.what(),
                   flowlat::resume_command(std::vector<std::string>(argv, argv + argc), world.size()).c_str());
    } else if (world.is_root()) {
      std::fprintf(stderr, "flowlat: error: %s\n", e.what());
    }
    return finish(static_cast<int>(e.code()), world);
  } catch (const std::exception& e) {
    // Only this rank failed: report with its rank and take the job down.
    std::fprintf(stderr, "flowlat: error on rank %d of %d: %s\n", world.rank(), world.size(), e.what());
    std::fflush(stderr);
    if (world.size() > 1) flowlat::Communicator::abort_job(static_cast<int>(flowlat::ExitCode::RuntimeFailure));
    return finish(static_cast<int>(flowlat::ExitCode::RuntimeFailure), world);
  }
  return finish(0, world);
}
