#pragma once
// Helpers shared by the test executables: running the real binary, scratch
// directories, and a GoogleTest main for MPI tests.
#include <gtest/gtest.h>

#include <string>

namespace flowlat::testing {

struct CommandResult {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs a shell command (sh -c, without this process's MPI variables),
// capturing stdout and stderr. Local.
CommandResult run_command(const std::string& command);
// Runs build/flowlat with `arguments` (optionally under mpirun -np `ranks`).
CommandResult run_flowlat(const std::string& arguments, int ranks = 0, const std::string& environment = "");
// Waits until no process of process group `group` is running (zombies
// count as ended); false after `seconds`. Local.
bool wait_for_group_exit(int group, double seconds);
// A fresh, empty directory under the build tree's test-scratch area
// (FLOWLAT_TEST_SCRATCH): tests write nowhere else. Local.
std::string scratch_directory(const std::string& name);
void write_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);
// A small, fast configuration (lattice `shape`, tiny flow) as YAML text.
std::string tiny_config_yaml(const std::string& output_dir, const std::string& shape = "[4, 4]");

// GoogleTest main for MPI tests: all ranks run every test; only rank 0
// prints; the exit code is non-zero if any rank failed. Collective.
int run_mpi_tests(int argc, char** argv);

}  // namespace flowlat::testing
