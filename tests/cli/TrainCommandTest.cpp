// The real binary: input errors, refusing to overwrite, outputs of a run,
// and a failing rank taking the whole MPI job down with its message.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>

#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {
namespace fs = std::filesystem;

TEST(TrainCommand, InvalidInputExitsTwoWithOneClearMessage) {
  const std::string dir = scratch_directory("cli_invalid");
  write_text(dir + "/bad.yaml", "lattice: {shape: [8, 8]}\naction: {kind: phi4, m2: -4, lambda: 8}\ntrain: {lr: -1}\n");
  const CommandResult result = run_flowlat("train " + dir + "/bad.yaml", 2);
  EXPECT_EQ(result.exit_code, 2) << result.output;
  const std::string expected = "flowlat: error: " + dir + "/bad.yaml:3: train.lr: must be > 0 (got -1)";
  EXPECT_NE(result.output.find(expected), std::string::npos) << result.output;
  // Printed once, by rank 0, not once per rank.
  EXPECT_EQ(result.output.find(expected), result.output.rfind(expected)) << result.output;
  EXPECT_FALSE(fs::exists(dir + "/runs"));
}

TEST(TrainCommand, UnknownOptionAndMissingFileAreInputErrors) {
  EXPECT_EQ(run_flowlat("train").exit_code, 2);
  EXPECT_EQ(run_flowlat("train no-such-file.yaml").exit_code, 2);
  EXPECT_EQ(run_flowlat("frobnicate").exit_code, 2);
}

TEST(TrainCommand, WritesOutputsAndRefusesToOverwriteWithoutForce) {
  const std::string dir = scratch_directory("cli_train");
  const std::string run = dir + "/run";
  write_text(dir + "/tiny.yaml", tiny_config_yaml(run));
  const CommandResult first = run_flowlat("train " + dir + "/tiny.yaml --set train.steps=10");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("--- resolved configuration"), std::string::npos);
  EXPECT_NE(first.output.find("step     10/10"), std::string::npos) << first.output;  // not a terminal: lines
  ASSERT_TRUE(fs::exists(run + "/model.pt"));
  EXPECT_NE(read_text(run + "/config.yaml").find("steps: 10"), std::string::npos);
  const std::string history = read_text(run + "/history.csv");
  EXPECT_EQ(std::count(history.begin(), history.end(), '\n'), 11);  // header + 10 steps
  EXPECT_EQ(history.rfind("step,loss,ess,seconds,skipped,lr,eval_ess,eval_acceptance\n", 0), 0u);

  const auto model_time = fs::last_write_time(run + "/model.pt");
  const CommandResult again = run_flowlat("train " + dir + "/tiny.yaml");
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("already holds a run; pass --force"), std::string::npos) << again.output;
  EXPECT_EQ(fs::last_write_time(run + "/model.pt"), model_time);
  EXPECT_NE(read_text(run + "/config.yaml").find("steps: 10"), std::string::npos);

  // --force: the previous flow's ensemble, its analysis and plots go (they
  // would look like the new flow's); other files stay.
  for (const char* name : {"ensemble.h5", "ensemble.h5.json", "logw_hist.png", "notes.txt"}) {
    write_text(run + "/" + name, "previous run\n");
  }
  const CommandResult forced = run_flowlat("train " + dir + "/tiny.yaml --force --set train.steps=5");
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(read_text(run + "/config.yaml").find("steps: 5"), std::string::npos);
  EXPECT_NE(forced.output.find("files of the previous run"), std::string::npos) << forced.output;
  for (const char* name : {"ensemble.h5", "ensemble.h5.json", "logw_hist.png"}) EXPECT_FALSE(fs::exists(run + "/" + name));
  EXPECT_TRUE(fs::exists(run + "/notes.txt"));
  EXPECT_TRUE(fs::exists(run + "/model.pt"));
}

// Under mpirun a rank's stdout is a pseudo-terminal even when the output is
// captured (Open MPI): the log must still get one timestamped line per
// log_every steps, not the carriage-return bar.
TEST(TrainCommand, UnderMpirunTheLogGetsTimestampedLinesNotTheBar) {
  const std::string dir = scratch_directory("train_log_lines");
  write_text(dir + "/tiny.yaml", tiny_config_yaml(dir + "/run"));
  const CommandResult run =
      run_flowlat("train " + dir + "/tiny.yaml --set train.steps=30 --set train.log_every=10", 2);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find('\r'), std::string::npos) << run.output;
  const std::string stamp = "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z  ";
  for (const char* step : {"10", "20", "30"}) {
    EXPECT_TRUE(std::regex_search(run.output, std::regex("(^|\n)" + stamp + "step +" + step + "/30  loss")))
        << step << "\n" << run.output;
  }
  EXPECT_TRUE(std::regex_search(run.output, std::regex("(^|\n)" + stamp + "trained 30 steps in"))) << run.output;
}

TEST(TrainCommand, FailingRankAbortsTheJobWithItsMessage) {
  const std::string dir = scratch_directory("cli_fault");
  write_text(dir + "/tiny.yaml", tiny_config_yaml(dir + "/run"));
  const auto start = std::chrono::steady_clock::now();
  const CommandResult result = run_flowlat("train " + dir + "/tiny.yaml --set train.steps=1000", 2,
                                           "FLOWLAT_FAULT_RANK=1 FLOWLAT_FAULT_STEP=3");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("flowlat: error on rank 1 of 2: injected fault at step 3"), std::string::npos)
      << result.output;
  EXPECT_LT(seconds, 30.0);
  EXPECT_FALSE(fs::exists(dir + "/run/model.pt"));
}

}  // namespace
}  // namespace flowlat::testing
