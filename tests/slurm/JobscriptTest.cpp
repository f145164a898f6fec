// The jobscripts in jobscripts/ under a real single-node SLURM: the whole
// pipeline (train -> sample -> analyze, chained with afterok) completes; a
// training job sent SIGUSR1 mid-run checkpoints, requeues itself and ends
// with the same parameters as an uninterrupted run; the critical-line study
// runs as arrays over L with its dependencies and writes its table; a
// thermodynamic integration runs as an array over nodes and is combined;
// the free-energy study runs its three methods as arrays and writes its table.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "config/Config.hpp"
#include "flow/NormalizingFlow.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "slurm/SlurmCluster.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {
namespace fs = std::filesystem;

// The scripts' resource requests (2 nodes with 4 GPUs each) scaled down to
// this machine: one node, two tasks, no GPUs.
const std::string kSmallAllocation = "--nodes=1 --ntasks-per-node=2 --gpus-per-node=0 --cpus-per-task=1 --time=10";

class Jobscripts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!SlurmCluster::unavailable_reason().empty()) return;
    cluster_ = std::make_unique<SlurmCluster>(scratch_directory("slurm_cluster"));
  }
  static void TearDownTestSuite() { cluster_.reset(); }
  void SetUp() override {
    const std::string reason = SlurmCluster::unavailable_reason();
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  // sbatch from the repository root (the scripts expect it) with FLOWLAT set.
  static CommandResult submit(const std::string& arguments) {
    return cluster_->run(std::string("cd ") + FLOWLAT_SOURCE_DIR + " && FLOWLAT=" + FLOWLAT_BINARY + " " + arguments);
  }
  static std::unique_ptr<SlurmCluster> cluster_;
};
std::unique_ptr<SlurmCluster> Jobscripts::cluster_;

std::string config_in(const std::string& dir) {
  write_text(dir + "/tiny.yaml", tiny_config_yaml(dir + "/run") +
                                     "sample: {n_configs: 256, batch_size: 64, seed: 9, mcmc_seed: 10}\n");
  return dir + "/tiny.yaml";
}

std::vector<torch::Tensor> parameters_of(const std::string& config_path, const std::string& model) {
  NormalizingFlow flow(FlowArchitecture::from_config(load_config(config_path)));
  flow->load_from(model);
  return flow->parameters();
}

TEST_F(Jobscripts, PipelineTrainsSamplesAndAnalyzesInChainedJobs) {
  const std::string dir = scratch_directory("slurm_pipeline");
  const std::string config = config_in(dir);
  const CommandResult submitted = submit("SBATCH_EXTRA='" + kSmallAllocation + " --output=" + dir +
                                         "/%x-%j.out' bash jobscripts/submit_pipeline.sh " + config + " " + dir + "/run");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  ASSERT_TRUE(cluster_->wait_until_idle(180)) << cluster_->run("squeue; tail -n 30 " + dir + "/*.out").output;
  const std::string outputs = run_command("cat " + dir + "/*.out").output;
  // Sampling ran only after training, analysis only after sampling.
  EXPECT_NE(outputs.find("trained 20 steps"), std::string::npos) << outputs;
  EXPECT_NE(outputs.find("sampled 256/256"), std::string::npos) << outputs;
  const EnsembleReader ensemble(dir + "/run/ensemble.h5");
  EXPECT_EQ(ensemble.n_written(), 256);
  const nlohmann::json report = nlohmann::json::parse(read_text(dir + "/run/ensemble.analysis.json"));
  EXPECT_EQ(report["n"].get<int64_t>(), 256);
  for (const std::string job : {"flowlat-train", "flowlat-sample", "flowlat-analyze"}) {
    const std::string id = cluster_->run("squeue -h -t all -n " + job + " -o %i").output;
    EXPECT_EQ(cluster_->job_field(id.substr(0, id.find('\n')), "JobState"), "COMPLETED") << job;
  }
}

TEST_F(Jobscripts, TrainingSentUsr1CheckpointsRequeuesAndFinishesExactly) {
  const std::string steps = "600";
  const std::string reference_dir = scratch_directory("slurm_usr1_reference");
  const std::string reference_config = config_in(reference_dir);
  const CommandResult reference = run_flowlat("train " + reference_config + " --set train.steps=" + steps, 2);
  ASSERT_EQ(reference.exit_code, 0) << reference.output;

  const std::string dir = scratch_directory("slurm_usr1");
  const std::string config = config_in(dir);
  const CommandResult submitted = submit("sbatch --parsable " + kSmallAllocation + " --output=" + dir +
                                         "/train.out jobscripts/train_slurm.sbatch " + config +
                                         " --set train.steps=" + steps + " --set train.checkpoint_every=100000");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  const std::string job = submitted.output.substr(0, submitted.output.find_first_of(";\n"));
  // Signal the batch shell, as --signal=B:USR1@<seconds> does before the limit.
  const CommandResult signalled = cluster_->run(
      "for i in $(seq 600); do [ \"$(cat " + dir + "/run/history.csv 2>/dev/null | wc -l)\" -gt 30 ] && break; "
      "sleep 0.1; done; scancel --signal=USR1 --batch " + job);
  ASSERT_EQ(signalled.exit_code, 0) << signalled.output;
  ASSERT_TRUE(cluster_->wait_until_idle(180)) << read_text(dir + "/train.out");
  const std::string output = read_text(dir + "/train.out");
  EXPECT_NE(output.find("flowlat: stopped by signal SIGUSR1 after step"), std::string::npos) << output;
  EXPECT_NE(output.find("requeueing job " + job), std::string::npos) << output;
  EXPECT_NE(output.find("resuming from " + dir + "/run/checkpoint.ckpt at step"), std::string::npos) << output;
  EXPECT_NE(output.find("trained " + steps + " steps"), std::string::npos) << output;
  EXPECT_EQ(cluster_->job_field(job, "JobState"), "COMPLETED");
  EXPECT_EQ(cluster_->job_field(job, "Restarts"), "1");
  const auto resumed = parameters_of(config, dir + "/run/model.pt");
  const auto uninterrupted = parameters_of(reference_config, reference_dir + "/run/model.pt");
  ASSERT_EQ(resumed.size(), uninterrupted.size());
  for (size_t i = 0; i < resumed.size(); ++i) EXPECT_TRUE(torch::equal(resumed[i], uninterrupted[i])) << i;
}


// The critical-line study at a tiny size under the real scheduler: HMC and
// sampling as arrays over L, training chained L to L (the second size
// starts from the first one's best model), analysis per L after its
// sampling, then the table; every job completes and the table has a row
// per L with the flow checked against HMC.
// A tiny near-critical input per size, as input/critical/phi4_L<L>.yaml.
void write_study_configs(const std::string& dir, const std::vector<std::string>& sizes) {
  for (const std::string& size : sizes) {
    write_text(dir + "/phi4_L" + size + ".yaml",
               "lattice: {shape: [" + size + ", " + size + "]}\n"
               "action:  {kind: phi4, m2: -4.0, lambda: 6.0}\n"
               "flow:    {n_layers: 2, hidden_channels: [4], coupling: spline, fourier_layer: diagonal, "
               "equivariance: z2}\n"
               "train:   {steps: 20, batch_size: 32, seed: 3, log_every: 10, eval_every: 10, eval_size: 128}\n"
               "run:     {device: cpu, precision: float64, threads_per_rank: 1}\n"
               "sample:  {n_configs: 512, batch_size: 128}\n"
               "hmc:     {n_trajectories: 60, n_thermalization: 80, tune: auto, tune_trajectories: 80, n_chains: 2}\n");
  }
}

TEST_F(Jobscripts, CriticalLineStudyRunsAsArraysWithDependencies) {
  const std::string dir = scratch_directory("slurm_critical");
  write_study_configs(dir, {"4", "6"});
  const CommandResult submitted =
      submit("STUDY_SIZES='4 6' STUDY_CONFIGS=" + dir + " SBATCH_EXTRA='" + kSmallAllocation + " --output=" + dir +
             "/%x-%A_%a.out' bash jobscripts/submit_critical_line.sh " + dir + "/study");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  ASSERT_TRUE(cluster_->wait_until_idle(300)) << cluster_->run("squeue; tail -n 30 " + dir + "/*.out").output;
  const std::string jobs = cluster_->run("squeue -h -t all -o '%j %T'").output;
  for (const std::string name : {"critical-hmc", "critical-train", "critical-sample", "critical-analyze",
                                 "critical-table"}) {
    EXPECT_NE(jobs.find(name + " COMPLETED"), std::string::npos) << name << "\n" << jobs;
  }
  EXPECT_EQ(jobs.find("FAILED"), std::string::npos) << jobs;
  EXPECT_EQ(EnsembleReader(dir + "/study/L6/hmc/hmc.h5").n_written(), 4 * 60);
  EXPECT_EQ(EnsembleReader(dir + "/study/L6/flow/ensemble.h5").n_written(), 512);
  // Transfer: L = 6 started from L = 4's best model.
  EXPECT_EQ(load_config(dir + "/study/L6/flow/config.yaml").train.init_from, dir + "/study/L4/flow/model_best.pt");
  const std::string table = read_text(dir + "/study/table.csv");
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 3) << table;
  EXPECT_NE(table.find("\n4,6,"), std::string::npos) << table;
  EXPECT_NE(table.find("\n6,6,"), std::string::npos) << table;
  EXPECT_TRUE(fs::exists(dir + "/study/cost.png"));
}

TEST_F(Jobscripts, ThermodynamicIntegrationRunsAsAnArrayAndCombines) {
  const std::string dir = scratch_directory("slurm_ti");
  write_text(dir + "/free.yaml", "lattice: {shape: [4, 4]}\n"
                                 "action:  {kind: phi4, m2: 0.5, lambda: 0.0}\n"
                                 "run:     {output_dir: " + dir + "/run, device: cpu, threads_per_rank: 1}\n"
                                 "hmc:     {n_trajectories: 300, n_thermalization: 50, step_size: 0.25, n_md_steps: 4, "
                                 "step_jitter: 0.2, n_chains: 8}\n"
                                 "ti:      {nodes: 4, m2_start: 2.0}\n");
  const CommandResult submitted = submit("TI_JSON=" + dir + "/ti.json SBATCH_EXTRA='" + kSmallAllocation +
                                         " --output=" + dir + "/%x-%A_%a.out' bash jobscripts/submit_ti.sh " + dir +
                                         "/free.yaml");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  EXPECT_NE(submitted.output.find("(array 0-5)"), std::string::npos) << submitted.output;  // 4 + 2 nodes
  ASSERT_TRUE(cluster_->wait_until_idle(300)) << cluster_->run("squeue; tail -n 30 " + dir + "/*.out").output;
  const std::string jobs = cluster_->run("squeue -h -t all -o '%j %T'").output;
  size_t nodes_done = 0;  // the cluster also lists the other tests' jobs
  for (size_t at = jobs.find("ti-node COMPLETED"); at != std::string::npos; at = jobs.find("ti-node COMPLETED", at + 1)) {
    ++nodes_done;
  }
  EXPECT_EQ(nodes_done, 6u) << jobs;
  EXPECT_NE(jobs.find("ti-combine COMPLETED"), std::string::npos) << jobs;
  EXPECT_EQ(jobs.find("FAILED"), std::string::npos) << jobs;
  for (int node = 0; node < 6; ++node) {
    const std::string file = dir + "/run/ti/" + (node < 4 ? "n4_k0" + std::to_string(node)
                                                           : "n2_k0" + std::to_string(node - 4)) + ".h5";
    EXPECT_EQ(EnsembleReader(file).n_written(), 2 * 8 * 300) << file;  // 2 tasks x 8 chains
  }
  const nlohmann::json result = nlohmann::json::parse(read_text(dir + "/ti.json"));
  const double value = result.at("log_z").at("value").get<double>();
  const double error = result.at("log_z").at("error").get<double>();
  // The closed form of the free 4x4 field at m2 = 0.5 (analysis/FreeFieldLogZ).
  EXPECT_NEAR(value, -1.6540384125532768, 3 * error);
  EXPECT_LT(error, 0.05);
}

// The one data row of a CSV table with a header, by column name.
std::map<std::string, std::string> csv_row(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(cell);
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    lines.push_back(fields);
  }
  EXPECT_EQ(lines.size(), 2u) << text;
  std::map<std::string, std::string> row;
  for (size_t i = 0; lines.size() == 2 && i < lines[0].size() && i < lines[1].size(); ++i) row[lines[0][i]] = lines[1][i];
  return row;
}

// The free-energy study at L = 4 under the real scheduler: the flow and HMC
// from the critical-line jobs, thermodynamic integration as an array over
// its 4 + 2 nodes, the annealed ensemble and the bracket as arrays over L,
// then the table; the three log Z agree within 3 combined errors.
TEST_F(Jobscripts, FreeEnergyStudyRunsItsMethodsAsArrays) {
  const std::string dir = scratch_directory("slurm_free_energy");
  write_study_configs(dir, {"4"});
  const CommandResult submitted =
      submit("STUDY_SIZES=4 STUDY_CONFIGS=" + dir + " FE_OPTIONS='--ti-nodes 4 --ti-trajectories 100 "
             "--anneal-steps 2 --anneal-configs 256' SBATCH_EXTRA='" + kSmallAllocation + " --output=" + dir +
             "/%x-%A_%a.out' bash jobscripts/submit_free_energy.sh " + dir + "/study " + dir + "/free");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  ASSERT_TRUE(cluster_->wait_until_idle(300)) << cluster_->run("squeue; tail -n 30 " + dir + "/*.out").output;
  const std::string jobs = cluster_->run("squeue -h -t all -o '%j %T'").output;
  for (const std::string name : {"free-energy-anneal", "free-energy-bracket", "free-energy-table"}) {
    EXPECT_NE(jobs.find(name + " COMPLETED"), std::string::npos) << name << "\n" << jobs;
  }
  EXPECT_EQ(jobs.find("FAILED"), std::string::npos) << jobs;
  EXPECT_EQ(EnsembleReader(dir + "/study/L4/flow/annealed.h5").n_written(), 256);
  const nlohmann::json ti = nlohmann::json::parse(read_text(dir + "/free/L4/ti.json"));
  EXPECT_EQ(ti.at("log_z").at("nodes").get<int>(), 4);
  const nlohmann::json bracket = nlohmann::json::parse(read_text(dir + "/study/L4/flow/bracket.json"));
  const double lower = bracket.at("log_z_bracket").at("lower").at("value").get<double>();
  const double upper = bracket.at("log_z_bracket").at("upper").at("value").get<double>();
  EXPECT_LT(lower, upper);
  // table.csv (header and one row): L = 4, its three log Z within 3 combined errors.
  const std::map<std::string, std::string> row = csv_row(read_text(dir + "/free/table.csv"));
  EXPECT_EQ(row.at("L"), "4");
  EXPECT_EQ(row.at("disagreements"), "");
  EXPECT_LT(std::stod(row.at("max_deviation_sigma")), 3.0);
  const double ti_log_z = ti.at("log_z").at("value").get<double>();
  EXPECT_NEAR(std::stod(row.at("ti_log_z")), ti_log_z, 1e-5 * std::abs(ti_log_z));  // 6 digits in the CSV
  EXPECT_TRUE(fs::exists(dir + "/free/free_energy.png"));
}

}  // namespace
}  // namespace flowlat::testing
