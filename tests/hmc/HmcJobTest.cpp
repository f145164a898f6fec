// flowlat hmc as a long job: stopped by a signal it leaves a valid file
// that --resume completes to the same ensemble as one go (every kept
// trajectory, thinned and stored in float32); a resume with other physics
// is refused naming the key; hmc.tune: auto reaches its target acceptance
// and trajectory length.
#include <gtest/gtest.h>

#include <regex>

#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {

// 2 ranks x 2 chains on 4x6, every 2nd trajectory kept, float32 configurations.
std::string hmc_yaml(const std::string& dir) {
  return tiny_config_yaml(dir + "/run", "[4, 6]") +
         "hmc: {n_thermalization: 20, n_md_steps: 4, step_size: 0.15, integrator: leapfrog, seed: 9, "
         "n_chains: 2, n_trajectories: 8000, save_every: 2, config_precision: float32}\n";
}

TEST(HmcJob, StoppedRunResumesToTheSameEnsemble) {
  const std::string dir = scratch_directory("hmc_resume");
  write_text(dir + "/hmc.yaml", hmc_yaml(dir));
  const std::string reference = dir + "/reference.h5", file = dir + "/stopped.h5";
  const CommandResult whole = run_flowlat("hmc " + dir + "/hmc.yaml --output " + reference, 2);
  ASSERT_EQ(whole.exit_code, 0) << whole.output;

  // SIGUSR1 to mpirun (which passes it on to the ranks) once thermalisation is over.
  const CommandResult stopped = run_command(
      "(exec " + std::string(FLOWLAT_MPIEXEC) + " -np 2 " + FLOWLAT_BINARY + " hmc " + dir + "/hmc.yaml --output " +
      file + ") > " + dir + "/log 2>&1 & pid=$!\nwhile ! grep -q thermalised " + dir +
      "/log; do sleep 0.02; done\nkill -USR1 $pid; wait $pid; rc=$?; cat " + dir + "/log; exit $rc");
  ASSERT_EQ(stopped.exit_code, 3) << stopped.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(stopped.output, match,
                                std::regex("stopped by signal SIGUSR1 with ([0-9]+) of 8000 kept trajectories")))
      << stopped.output;
  const int64_t kept = std::stoll(match[1]);
  EXPECT_LT(kept, 8000);
  EXPECT_EQ(EnsembleReader(file).n_written(), kept * 4);

  // Other physics is refused, naming the key, and the file is left as it was.
  const CommandResult other = run_flowlat("hmc " + dir + "/hmc.yaml --output " + file +
                                          " --resume --set hmc.step_size=0.2", 2);
  EXPECT_EQ(other.exit_code, 2) << other.output;
  EXPECT_NE(other.output.find("hmc.step_size"), std::string::npos) << other.output;
  EXPECT_EQ(EnsembleReader(file).n_written(), kept * 4);

  const CommandResult resumed = run_flowlat("hmc " + dir + "/hmc.yaml --output " + file + " --resume", 2);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming"), std::string::npos) << resumed.output;
  const int64_t n = 4 * 8000;
  const EnsembleReader a(file), b(reference);
  ASSERT_EQ(a.n_written(), n);
  EXPECT_EQ(a.read_configs(0, n), b.read_configs(0, n));
  EXPECT_EQ(a.read_column(ensemble::kLogP, 0, n), b.read_column(ensemble::kLogP, 0, n));
  EXPECT_EQ(a.read_chain_accepted(0, n), b.read_chain_accepted(0, n));
  EXPECT_EQ(a.attribute_double("accept_rate"), b.attribute_double("accept_rate"));
  // Sums over two runs add in another order: equal to rounding.
  EXPECT_NEAR(a.attribute_double("mean_delta_h"), b.attribute_double("mean_delta_h"),
              1e-12 * std::abs(b.attribute_double("mean_delta_h")));
  // Thinning: a row costs save_every = 2 trajectories of 4 + 1 leapfrog forces.
  EXPECT_EQ(a.attribute_double("evaluations_per_row"), 10.0);
  EXPECT_EQ(a.attribute_int64("hmc_save_every"), 2);
}

TEST(HmcJob, TuningReachesTheTargetAcceptanceAndTrajectoryLength) {
  const std::string dir = scratch_directory("hmc_tune");
  write_text(dir + "/hmc.yaml", tiny_config_yaml(dir + "/run", "[8, 8]") +
                                    "hmc: {n_thermalization: 400, tune: auto, tune_trajectories: 300, "
                                    "target_acceptance: 0.8, trajectory_length_xi: 1.5, step_size: 0.05, "
                                    "n_md_steps: 20, n_chains: 8, n_trajectories: 400, seed: 3}\n");
  const CommandResult run = run_flowlat("hmc " + dir + "/hmc.yaml", 2);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(run.output, match,
                                std::regex("tuned: xi2 = ([0-9.]+), trajectory length ([0-9.]+) = 1.5 xi2")))
      << run.output;
  const double xi2 = std::stod(match[1]), length = std::stod(match[2]);
  // The tutorial's couplings: xi2 about 1.2 (HMC reference of the physics tests).
  EXPECT_GT(xi2, 0.8);
  EXPECT_LT(xi2, 1.7);
  EXPECT_NEAR(length, 1.5 * xi2, 1e-3 * length);
  const EnsembleReader file(dir + "/run/hmc.h5");
  EXPECT_NEAR(file.attribute_double("hmc_step_size") * static_cast<double>(file.attribute_int64("hmc_n_md_steps")),
              length, 1e-3 * length);
  // Over 16 chains x 400 trajectories, within 0.08 of the target: a whole
  // number of ~9 steps per trajectory moves the acceptance in jumps of ~0.06.
  EXPECT_NEAR(file.attribute_double("accept_rate"), 0.8, 0.08);
  EXPECT_NEAR(file.attribute_double("hmc_tuned_xi2"), xi2, 1e-3 * xi2);
}

// A step size far too large: no trajectory is accepted, and the observables
// would be those of the starting configurations. The job says so, names the
// key and exits 2 instead of printing them as a result; the file stays.
TEST(HmcJob, ZeroAcceptanceIsAnErrorNamingTheStepSize) {
  const std::string dir = scratch_directory("hmc_zero_acceptance");
  write_text(dir + "/hmc.yaml", tiny_config_yaml(dir + "/run") +
                                    "hmc: {n_thermalization: 2, n_trajectories: 10, step_size: 40, n_md_steps: 4, "
                                    "n_chains: 2}\n");
  const CommandResult run = run_flowlat("hmc " + dir + "/hmc.yaml");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("hmc: no trajectory was accepted in 20 (acceptance 0): " + dir +
                            "/run/hmc.h5 holds only the starting configurations; reduce hmc.step_size (the run "
                            "used 40.000000)"),
            std::string::npos)
      << run.output;
  EXPECT_EQ(run.output.find("observables"), std::string::npos) << run.output;
  EXPECT_EQ(EnsembleReader(dir + "/run/hmc.h5").n_written(), 20);
}

}  // namespace
}  // namespace flowlat::testing
