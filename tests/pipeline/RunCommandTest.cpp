// `flowlat run`: train, sample, analyze and plot in one job on 2 ranks. With
// Python (matplotlib, h5py) the plot scripts run and every PNG path is
// printed (with the HMC ensemble of --hmc beside the flow's);
// without it the job still succeeds and says exactly how to make them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/TestSupport.hpp"

namespace flowlat {
namespace {

namespace fs = std::filesystem;

const char* const kPlots[] = {"training.png",      "action_vs_logq.png", "logw_hist.png",
                              "configs.png",       "magnetisation.png",  "correlator.png"};

bool is_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char header[8] = {};
  in.read(header, 8);
  return in.gcount() == 8 && std::string(header, 8) == std::string("\x89PNG\r\n\x1a\n", 8) &&
         fs::file_size(path) > 1000;
}

std::string run_config(const std::string& dir) {
  const std::string config = dir + "/tiny.yaml";
  testing::write_text(config, testing::tiny_config_yaml(dir + "/run") +
                                  "sample: {n_configs: 256, batch_size: 64}\n"
                                  "hmc: {n_trajectories: 40, n_thermalization: 10, n_chains: 2}\n");
  return config;
}

TEST(RunCommand, TrainsSamplesAnalyzesAndPlots) {
  // The plot scripts re-run themselves under Debian's python3 if the first
  // python3 lacks numpy; probe the same way they will be run.
  const testing::CommandResult probe = testing::run_command(
      "python3 -c 'import matplotlib, h5py' 2>/dev/null || /usr/bin/python3 -c 'import matplotlib, h5py'");
  if (probe.exit_code != 0) GTEST_SKIP() << "no python3 with matplotlib and h5py: " << probe.output;
  const std::string dir = testing::scratch_directory("run_command");
  const std::string config = run_config(dir);
  // HMC first, outside the run directory (train refuses a non-empty one).
  const testing::CommandResult hmc = testing::run_flowlat("hmc " + config + " --output " + dir + "/hmc.h5");
  ASSERT_EQ(hmc.exit_code, 0) << hmc.output;
  const testing::CommandResult run = testing::run_flowlat("run " + config + " --hmc " + dir + "/hmc.h5", 2);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("chi2 = <M^2>/V"), std::string::npos) << run.output;
  const size_t plots = run.output.find("\nplots (scripts in " + std::string(FLOWLAT_SOURCE_DIR) + "/tools):\n");
  ASSERT_NE(plots, std::string::npos) << run.output;
  EXPECT_LT(run.output.find("chi2 = <M^2>/V"), plots);  // the table, then the plots
  for (const char* name : kPlots) {
    const std::string path = dir + "/run/" + name;
    EXPECT_NE(run.output.find("  " + path + "\n", plots), std::string::npos) << name << "\n" << run.output;
    EXPECT_TRUE(fs::exists(path) && is_png(path)) << path;
  }
  // The HMC overlay was asked for: without it the plots differ only in content.
  EXPECT_EQ(run.output.find("no HMC overlay"), std::string::npos) << run.output;
}

TEST(RunCommand, WithoutPythonSaysHowToMakeThePlots) {
  const std::string dir = testing::scratch_directory("run_command_no_python");
  const std::string config = run_config(dir);
  const testing::CommandResult run =
      testing::run_flowlat("run " + config, 0, "FLOWLAT_PYTHON=" + dir + "/no-such-python");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("plots: not made"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("apt-get install python3-matplotlib python3-h5py"), std::string::npos) << run.output;
  const std::string tools = std::string(FLOWLAT_SOURCE_DIR) + "/tools/";
  EXPECT_NE(run.output.find(tools + "plot_training.py " + dir + "/run"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(tools + "plot_ensemble.py " + dir + "/run/ensemble.h5"), std::string::npos)
      << run.output;
  for (const char* name : kPlots) EXPECT_FALSE(fs::exists(dir + "/run/" + name)) << name;
}

}  // namespace
}  // namespace flowlat
