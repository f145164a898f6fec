// Checkpoint and restart of flowlat train, end to end with the real binary:
// N steps in one go against N/2 + N/2 with a restart (1 and 2 ranks,
// parameters bitwise equal), SIGTERM to a running mpirun job, wall time,
// damaged checkpoints (the .prev one takes over, nothing is
// lost) and a changed configuration (refused, nothing touched).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "config/Config.hpp"
#include "flow/NormalizingFlow.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {
namespace fs = std::filesystem;

std::string config_in(const std::string& dir, const std::string& extra = "") {
  const std::string path = dir + "/tiny.yaml";
  write_text(path, tiny_config_yaml(dir + "/run") + extra);
  return path;
}

std::vector<torch::Tensor> trained_parameters(const std::string& config_path) {
  const Config config = load_config(config_path);
  NormalizingFlow flow(FlowArchitecture::from_config(config));
  flow->load_from(config.run.output_dir + "/model.pt");
  return flow->parameters();
}

// Number of parameter tensors that differ in any bit.
int differing(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  int n = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) n += torch::equal(a[i], b[i]) ? 0 : 1;
  return n;
}

// history.csv without the timing column, to compare runs.
std::string losses(const std::string& history_path) {
  std::ifstream in(history_path);
  std::string line, out;
  while (std::getline(in, line)) {
    const size_t seconds = line.find(',', line.find(',', line.find(',') + 1) + 1);
    out += line.substr(0, seconds) + "\n";
  }
  return out;
}

// A reference run of `steps` steps in one go on `ranks` ranks.
std::vector<torch::Tensor> uninterrupted(const std::string& name, int64_t steps, int ranks, std::string* history) {
  const std::string config = config_in(scratch_directory(name));
  const CommandResult run = run_flowlat("train " + config + " --set train.steps=" + std::to_string(steps), ranks);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  if (history) *history = losses(fs::path(config).parent_path() / "run/history.csv");
  return trained_parameters(config);
}

void check_exact_continuation(int ranks) {
  std::string reference_history;
  const auto reference = uninterrupted("restart_reference_np" + std::to_string(ranks), 20, ranks, &reference_history);
  const std::string config = config_in(scratch_directory("restart_halves_np" + std::to_string(ranks)));
  const CommandResult first = run_flowlat("train " + config + " --set train.steps=10", ranks);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  const CommandResult second = run_flowlat("train " + config + " --resume --set train.steps=20", ranks);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("checkpoint.ckpt at step 10 of 20"), std::string::npos) << second.output;
  EXPECT_EQ(differing(trained_parameters(config), reference), 0);
  EXPECT_EQ(losses(fs::path(config).parent_path() / "run/history.csv"), reference_history);
}

// history.csv without the seconds column (column 4), every other column kept.
std::string history_without_seconds(const std::string& history_path) {
  std::ifstream in(history_path);
  std::string line, out;
  while (std::getline(in, line)) {
    const size_t a = line.find(',', line.find(',', line.find(',') + 1) + 1);
    const size_t b = line.find(',', a + 1);
    out += line.substr(0, a) + line.substr(b) + "\n";
  }
  return out;
}

// With a learning-rate schedule, warm-up, gradient clipping, held-out
// evaluations and best-model tracking: the restarted run's parameters,
// history (lr and held-out columns included) and best model equal the
// uninterrupted run's bitwise.
void check_schedule_continuation(const std::string& name, const std::string& recipe) {
  const std::string options = " --set train.lr_schedule=step --set train.lr_decay_every=4 --set train.warmup_steps=3"
                              " --set train.grad_clip=1.0 --set train.eval_every=5 --set train.eval_size=64";
  std::string dirs[2] = {scratch_directory(name + "_reference"), scratch_directory(name + "_halves")};
  std::string configs[2];
  for (int i = 0; i < 2; ++i) {
    configs[i] = dirs[i] + "/tiny.yaml";
    std::string text = tiny_config_yaml(dirs[i] + "/run");
    text = text.substr(0, text.find("flow:")) + recipe + text.substr(text.find('\n', text.find("flow:")) + 1);
    write_text(configs[i], text);
  }
  ASSERT_EQ(run_flowlat("train " + configs[0] + " --set train.steps=20" + options, 2).exit_code, 0);
  ASSERT_EQ(run_flowlat("train " + configs[1] + " --set train.steps=12" + options, 2).exit_code, 0);
  const CommandResult second = run_flowlat("train " + configs[1] + " --resume --set train.steps=20" + options, 2);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_NE(second.output.find("best held-out ESS"), std::string::npos) << second.output;
  EXPECT_EQ(differing(trained_parameters(configs[1]), trained_parameters(configs[0])), 0);
  const std::string reference_history = history_without_seconds(dirs[0] + "/run/history.csv");
  EXPECT_EQ(history_without_seconds(dirs[1] + "/run/history.csv"), reference_history);
  EXPECT_NE(reference_history.find("\n5,"), std::string::npos);
  // The best model: the same file content (parameters) in both runs.
  const Config config = load_config(configs[0]);
  std::vector<torch::Tensor> best[2];
  for (int i = 0; i < 2; ++i) {
    NormalizingFlow flow(FlowArchitecture::from_config(config));
    flow->load_from(dirs[i] + "/run/model_best.pt");
    best[i] = flow->parameters();
  }
  EXPECT_EQ(differing(best[0], best[1]), 0);
}

TEST(CheckpointRestart, ScheduleAndBestModelContinueBitwise) {
  check_schedule_continuation("schedule", "flow: {n_layers: 4, hidden_channels: [4], coupling: [spline, affine], "
                                          "fourier_layer: diagonal, equivariance: z2}\n");
}

// The same for the symmetric Fourier layer and the continuous (ODE) layer.
TEST(CheckpointRestart, ContinuousFlowContinuesBitwise) {
  check_schedule_continuation("schedule_ode", "flow: {n_layers: 0, fourier_layer: symmetric, ode_layer: global, "
                                              "ode_pieces: 4, ode_frequencies: 3, ode_channels: 3}\n");
}

TEST(CheckpointRestart, HalfAndHalfEqualsOneGoBitwiseOnOneRank) { check_exact_continuation(0); }
TEST(CheckpointRestart, HalfAndHalfEqualsOneGoBitwiseOnTwoRanks) { check_exact_continuation(2); }

// Starts `command` in the background, waits until history.csv in `run`
// has `rows` steps, sends `kill_arguments` (e.g. "-TERM $pid", "-TERM
// $(cat /proc/$pid/task/*/children)" for its children), and returns the exit code and output.
CommandResult interrupt(const std::string& command, const std::string& run, int rows, const std::string& kill_arguments,
                        const std::string& log) {
  return run_command("(" + command + ") > " + log + " 2>&1 & pid=$!\n"
                     "while [ \"$(cat " + run + "/history.csv 2>/dev/null | wc -l)\" -le " + std::to_string(rows) +
                     " ]; do sleep 0.05; done\n"
                     "kill " + kill_arguments + "; wait $pid; rc=$?; cat " + log + "; exit $rc");
}

int stopped_step(const std::string& output) {
  std::smatch match;
  const std::regex pattern("after step ([0-9]+) of");
  return std::regex_search(output, match, pattern) ? std::stoi(match[1]) : -1;
}

TEST(CheckpointRestart, SigtermToMpirunRanksStopsWithCheckpointAndResumesExactly) {
  const int64_t steps = 400;
  const auto reference = uninterrupted("sigterm_reference", steps, 2, nullptr);
  const std::string dir = scratch_directory("sigterm");
  const std::string config = config_in(dir);
  // SIGTERM to the ranks of a running `mpirun -np 2`, as a batch system's
  // scancel or time limit sends it. (SIGTERM to mpirun itself makes Open
  // MPI kill the job; SIGUSR1 to mpirun is passed on to the ranks.)
  const CommandResult stopped = interrupt(
      "exec " + std::string(FLOWLAT_MPIEXEC) + " -np 2 " + FLOWLAT_BINARY + " train " + config +
          " --set train.steps=" + std::to_string(steps) + " --set train.checkpoint_every=100000",
      dir + "/run", 30, "-TERM $(cat /proc/$pid/task/*/children)", dir + "/log");
  EXPECT_EQ(stopped.exit_code, 3) << stopped.output;
  EXPECT_NE(stopped.output.find("flowlat: stopped by signal SIGTERM after step"), std::string::npos) << stopped.output;
  const int step = stopped_step(stopped.output);
  EXPECT_GE(step, 30);
  EXPECT_LT(step, steps);
  EXPECT_TRUE(fs::exists(dir + "/run/checkpoint.ckpt"));
  EXPECT_FALSE(fs::exists(dir + "/run/model.pt"));

  const CommandResult resumed = run_flowlat("train " + config + " --resume --set train.steps=" + std::to_string(steps), 2);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("at step " + std::to_string(step) + " of"), std::string::npos) << resumed.output;
  EXPECT_EQ(differing(trained_parameters(config), reference), 0);
}

TEST(CheckpointRestart, WallTimeStopsResumablyBeforeTheLimit) {
  const std::string dir = scratch_directory("walltime");
  const std::string config = config_in(dir, "");
  const auto start = std::chrono::steady_clock::now();
  const CommandResult result =
      run_flowlat("train " + config + " --set train.steps=10000000 --set run.max_walltime=2");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(result.exit_code, 3) << result.output;
  EXPECT_NE(result.output.find("stopped by run.max_walltime (2 s) after step"), std::string::npos) << result.output;
  EXPECT_GT(stopped_step(result.output), 0);
  EXPECT_TRUE(fs::exists(dir + "/run/checkpoint.ckpt"));
  EXPECT_LT(seconds, 15.0);  // start-up plus 2 s of training
}

// The "continue with:" command after a stop keeps every argument (the
// --set overrides, --json) and, run as printed, continues the job.
TEST(CheckpointRestart, TheContinueCommandAfterAStopContinuesTheJobAsPrinted) {
  const std::string dir = scratch_directory("continue_hint");
  const std::string config = config_in(dir, "");
  const std::string arguments = "train " + config + " --set train.steps=10000000 --set run.max_walltime=2 --set "
                                "'train.lr=0.002' --json " + dir + "/train.json";
  const CommandResult first = run_flowlat(arguments);
  ASSERT_EQ(first.exit_code, 3) << first.output;
  std::smatch hint;
  ASSERT_TRUE(std::regex_search(first.output, hint, std::regex("; continue with: (.*)\n"))) << first.output;
  EXPECT_EQ(hint[1].str(), std::string(FLOWLAT_BINARY) + " train " + config +
                               " --set train.steps=10000000 --set run.max_walltime=2 --set train.lr=0.002 --json " +
                               dir + "/train.json --resume");
  const CommandResult second = run_command(hint[1].str());
  EXPECT_EQ(second.exit_code, 3) << second.output;  // the same wall-time limit stops it again, further on
  EXPECT_NE(second.output.find("resuming from " + dir + "/run/checkpoint.ckpt at step " +
                               std::to_string(stopped_step(first.output))),
            std::string::npos)
      << second.output;
  EXPECT_GT(stopped_step(second.output), stopped_step(first.output));
  EXPECT_FALSE(fs::exists(dir + "/train.json"));  // no results of a stopped job
}

// Under mpirun the command keeps the launcher's own options (here the
// tests' --oversubscribe, without which 2 ranks may not start on 1 core).
TEST(CheckpointRestart, TheContinueCommandKeepsTheLaunchersOptions) {
  const std::string dir = scratch_directory("continue_hint_mpirun");
  const std::string config = config_in(dir, "");
  const CommandResult first =
      run_flowlat("train " + config + " --set train.steps=10000000 --set run.max_walltime=2", 2);
  ASSERT_EQ(first.exit_code, 3) << first.output;
  std::smatch hint;
  ASSERT_TRUE(std::regex_search(first.output, hint, std::regex("; continue with: (.*)\n"))) << first.output;
  const std::string command = hint[1].str(), launcher = FLOWLAT_MPIEXEC;
  EXPECT_EQ(command.rfind(launcher.substr(0, launcher.find(' ')) + " --oversubscribe ", 0), 0u) << command;
  EXPECT_NE(command.find(" -np 2 " + std::string(FLOWLAT_BINARY) + " train " + config +
                         " --set train.steps=10000000 --set run.max_walltime=2 --resume"),
            std::string::npos)
      << command;
  const CommandResult second = run_command(command);
  EXPECT_EQ(second.exit_code, 3) << second.output;
  EXPECT_GT(stopped_step(second.output), stopped_step(first.output));
}

// Two checkpoints (steps 5 and 10) of a 10-step run in `dir`.
std::string run_with_two_checkpoints(const std::string& dir) {
  const std::string config = config_in(dir);
  const CommandResult run = run_flowlat("train " + config + " --set train.steps=10 --set train.checkpoint_every=5");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(fs::exists(dir + "/run/checkpoint.ckpt.prev"));
  return config;
}

void check_previous_checkpoint_takes_over(const std::string& name, const std::function<void(const std::string&)>& damage,
                                          const std::string& expected_message) {
  const auto reference = uninterrupted(name + "_reference", 20, 0, nullptr);
  const std::string dir = scratch_directory(name);
  const std::string config = run_with_two_checkpoints(dir);
  damage(dir + "/run/checkpoint.ckpt");
  const std::string damaged = read_text(dir + "/run/checkpoint.ckpt");
  const CommandResult resumed = run_flowlat("train " + config + " --resume --set train.steps=20");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("flowlat: warning: " + dir + "/run/checkpoint.ckpt: " + expected_message),
            std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from " + dir + "/run/checkpoint.ckpt.prev at step 5 of 20"),
            std::string::npos) << resumed.output;
  EXPECT_EQ(read_text(dir + "/run/checkpoint.ckpt.damaged"), damaged);  // kept for inspection
  EXPECT_EQ(differing(trained_parameters(config), reference), 0);      // nothing lost
}

TEST(CheckpointRestart, FlippedByteFallsBackToThePreviousCheckpoint) {
  check_previous_checkpoint_takes_over("damaged_flip", [](const std::string& path) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-500, std::ios::end);
    file.put('\x5a');
  }, "checksum mismatch");
}

TEST(CheckpointRestart, TruncatedCheckpointFallsBackToThePreviousOne) {
  check_previous_checkpoint_takes_over("damaged_truncate", [](const std::string& path) {
    fs::resize_file(path, fs::file_size(path) / 2);
  }, "truncated (");
}

TEST(CheckpointRestart, ChangedConfigurationIsRefusedWithEveryKeyAndNothingTouched) {
  const std::string dir = scratch_directory("changed_config");
  const std::string config = run_with_two_checkpoints(dir);
  const std::string checkpoint = read_text(dir + "/run/checkpoint.ckpt");
  const std::string history = read_text(dir + "/run/history.csv");
  const std::string model = read_text(dir + "/run/model.pt");
  const CommandResult refused =
      run_flowlat("train " + config + " --resume --set train.steps=20 --set train.lr=0.002 --set action.m2=-3", 2);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("cannot resume with a changed configuration"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("action.m2: -4 in the checkpoint, -3 now"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("train.lr: 0.001 in the checkpoint, 0.002 now"), std::string::npos) << refused.output;
  EXPECT_EQ(refused.output.find("train.steps:"), std::string::npos) << refused.output;
  EXPECT_EQ(read_text(dir + "/run/checkpoint.ckpt"), checkpoint);
  EXPECT_EQ(read_text(dir + "/run/history.csv"), history);
  EXPECT_EQ(read_text(dir + "/run/model.pt"), model);
  EXPECT_FALSE(fs::exists(dir + "/run/checkpoint.ckpt.damaged"));
}

TEST(CheckpointRestart, ResumeWithoutCheckpointAndTwoDamagedOnesAreRefused) {
  const std::string dir = scratch_directory("no_checkpoint");
  const CommandResult none = run_flowlat("train " + config_in(dir) + " --resume");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("--resume: no checkpoint in " + dir + "/run"), std::string::npos) << none.output;

  const std::string damaged_dir = scratch_directory("two_damaged");
  const std::string config = run_with_two_checkpoints(damaged_dir);
  fs::resize_file(damaged_dir + "/run/checkpoint.ckpt", 100);
  fs::resize_file(damaged_dir + "/run/checkpoint.ckpt.prev", 100);
  const CommandResult both = run_flowlat("train " + config + " --set run.resume=auto --set train.steps=20");
  EXPECT_EQ(both.exit_code, 1) << both.output;
  EXPECT_NE(both.output.find("no usable checkpoint (nothing was changed)"), std::string::npos) << both.output;
  EXPECT_EQ(fs::file_size(damaged_dir + "/run/checkpoint.ckpt"), 100u);
  EXPECT_EQ(fs::file_size(damaged_dir + "/run/checkpoint.ckpt.prev"), 100u);
}

TEST(CheckpointRestart, ResumeAutoStartsFreshThenContinues) {
  const auto reference = uninterrupted("auto_reference", 20, 0, nullptr);
  const std::string dir = scratch_directory("resume_auto");
  const std::string config = config_in(dir, "");
  const CommandResult fresh = run_flowlat("train " + config + " --set run.resume=auto --set train.steps=8");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.output;
  EXPECT_EQ(fresh.output.find("resuming from"), std::string::npos) << fresh.output;
  const CommandResult more = run_flowlat("train " + config + " --set run.resume=auto --set train.steps=20");
  ASSERT_EQ(more.exit_code, 0) << more.output;
  EXPECT_NE(more.output.find("at step 8 of 20"), std::string::npos) << more.output;
  EXPECT_EQ(differing(trained_parameters(config), reference), 0);
}

}  // namespace
}  // namespace flowlat::testing
