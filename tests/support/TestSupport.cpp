#include "support/TestSupport.hpp"

#include <mpi.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "parallel/MpiSession.hpp"

namespace flowlat::testing {
namespace fs = std::filesystem;

namespace {
// This test process is itself an MPI singleton; the variables Open MPI set
// for it would make a child mpirun think it is part of this job.
std::string clean_mpi_environment() {
  std::string unset;
  for (char** entry = environ; *entry; ++entry) {
    const std::string name = std::string(*entry).substr(0, std::string(*entry).find('='));
    const bool mpi_internal = name.rfind("OMPI_", 0) == 0 || name.rfind("PMIX_", 0) == 0 || name.rfind("OPAL_", 0) == 0;
    const bool user_setting = name.rfind("OMPI_ALLOW_RUN_AS_ROOT", 0) == 0 || name.rfind("OMPI_MCA_rmaps", 0) == 0;
    if (mpi_internal && !user_setting) unset += " -u " + name;
  }
  return "env" + unset + " ";
}

std::string escape_single_quotes(const std::string& text) {
  std::string out;
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out;
}
}  // namespace

CommandResult run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((clean_mpi_environment() + "sh -c '" + escape_single_quotes(command) + "' 2>&1").c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, output};
}

CommandResult run_flowlat(const std::string& arguments, int ranks, const std::string& environment) {
  std::string command = environment.empty() ? "" : "env " + environment + " ";
  if (ranks > 0) command += std::string(FLOWLAT_MPIEXEC) + " -np " + std::to_string(ranks) + " ";
  command += std::string(FLOWLAT_BINARY) + " " + arguments;
  return run_command(command);
}

namespace {
// True if a process of `group` exists that is not a zombie (from /proc).
bool group_running(int group) {
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;  // ended meanwhile
    // pid (comm) state ppid pgrp ...: comm may hold spaces, so start after ')'.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    char state = 0;
    int parent = 0, process_group = 0;
    fields >> state >> parent >> process_group;
    if (process_group == group && state != 'Z' && state != 'X') return true;
  }
  return false;
}
}  // namespace

bool wait_for_group_exit(int group, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (group_running(group)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string scratch_directory(const std::string& name) {
  const fs::path path = fs::path(FLOWLAT_TEST_SCRATCH) / name;
  fs::remove_all(path);
  fs::create_directories(path);
  return path.string();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tiny_config_yaml(const std::string& output_dir, const std::string& shape) {
  return "lattice: {shape: " + shape + "}\n"
         "action:  {kind: phi4, m2: -4.0, lambda: 8.0}\n"
         "flow:    {n_layers: 4, hidden_channels: [4], kernel_size: 3, final_tanh: true}\n"
         "train:   {steps: 20, batch_size: 16, lr: 1.0e-3, seed: 7, log_every: 5}\n"
         "run:     {output_dir: " + output_dir + ", device: cpu, precision: float64, threads_per_rank: 1}\n";
}

namespace {
// Keeps only rank 0's listener so output is not interleaved.
void silence_other_ranks() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) return;
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_result_printer());
}
}  // namespace

int run_mpi_tests(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  silence_other_ranks();
  int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (failed) std::fprintf(stderr, "rank %d: tests failed\n", rank);
  return any_failed;
}

}  // namespace flowlat::testing
