// flowlat sample end to end: the file's rows agree with the action and the
// flow recomputed from the stored configurations, and so do each row's
// sums of phi^2 and phi^4, which make coupling reweighting work without
// configurations; 1 and 2 ranks write the same datasets bit for bit; a
// killed job leaves a valid file that resumes.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "action/Phi4Action.hpp"
#include "config/Config.hpp"
#include "flow/NormalizingFlow.hpp"
#include "ensemble/EnsembleFormat.hpp"
#include "ensemble/EnsembleReader.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {
namespace fs = std::filesystem;

// A trained tiny model shared by the tests of this file.
class SampleCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = scratch_directory("cli_sample");
    write_text(dir_ + "/tiny.yaml", tiny_config_yaml(dir_ + "/run") +
                                        "sample: {n_configs: 300, batch_size: 32, seed: 9, mcmc_seed: 10}\n");
    const CommandResult trained = run_flowlat("train " + dir_ + "/tiny.yaml --set train.steps=30");
    ASSERT_EQ(trained.exit_code, 0) << trained.output;
  }
  static std::string dir_;
};
std::string SampleCommand::dir_;

template <typename T>
std::vector<T> all_rows(const EnsembleReader& r, const std::string& name);
template <>
std::vector<double> all_rows(const EnsembleReader& r, const std::string& name) {
  return name == ensemble::kConfigs ? r.read_configs(0, r.n_written()) : r.read_column(name, 0, r.n_written());
}

TEST_F(SampleCommand, RowsAgreeWithActionAndFlowRecomputedFromConfigs) {
  const CommandResult result = run_flowlat("sample " + dir_ + "/tiny.yaml --output " + dir_ + "/np2.h5", 2);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const EnsembleReader reader(dir_ + "/np2.h5");
  ASSERT_EQ(reader.n_written(), 300);
  const std::vector<double> configs = all_rows<double>(reader, ensemble::kConfigs);
  ASSERT_EQ(configs.size(), 300u * 16u);
  const std::vector<double> log_q = all_rows<double>(reader, ensemble::kLogQ);
  const std::vector<double> log_p = all_rows<double>(reader, ensemble::kLogP);
  const std::vector<double> log_w = all_rows<double>(reader, ensemble::kLogW);
  for (size_t i = 0; i < 300; ++i) EXPECT_EQ(log_w[i], log_p[i] - log_q[i]) << i;

  const Config config = load_config(dir_ + "/tiny.yaml");
  const torch::Tensor phi = torch::tensor(configs, torch::kFloat64).view({300, 4, 4});
  const torch::Tensor action = Phi4Action(config.action.m2, config.action.lambda)(phi);
  NormalizingFlow flow(FlowArchitecture::from_config(config));
  flow->load_from(dir_ + "/run/model.pt");
  flow->to(torch::kFloat64);
  const torch::Tensor recomputed_log_q = flow->log_q(phi).detach();
  for (int64_t i = 0; i < 300; ++i) {
    EXPECT_NEAR(log_p[i], -action[i].item<double>(), 1e-12 * std::abs(log_p[i])) << i;
    EXPECT_NEAR(log_q[i], recomputed_log_q[i].item<double>(), 1e-9) << i;
  }
  // Each row's sums of phi^2 and phi^4 (coupling reweighting and TI read them), from the configurations.
  const std::vector<double> sum_phi2 = all_rows<double>(reader, ensemble::kSumPhi2);
  const std::vector<double> sum_phi4 = all_rows<double>(reader, ensemble::kSumPhi4);
  for (size_t i = 0; i < 300; ++i) {
    double s2 = 0, s4 = 0;
    for (size_t x = 0; x < 16; ++x) {
      const double p2 = configs[i * 16 + x] * configs[i * 16 + x];
      s2 += p2;
      s4 += p2 * p2;
    }
    EXPECT_NEAR(sum_phi2[i], s2, 1e-13 * s2) << i;
    EXPECT_NEAR(sum_phi4[i], s4, 1e-13 * s4) << i;
  }
  // The chain: state[i] = i when accepted, else the previous state.
  const auto state = reader.read_chain_state(0, 300);
  const auto accepted = reader.read_chain_accepted(0, 300);
  EXPECT_EQ(state[0], 0);
  for (size_t i = 1; i < 300; ++i) EXPECT_EQ(state[i], accepted[i] ? int64_t(i) : state[i - 1]) << i;

  // An independent reader (h5py) sees N rows in every dataset.
  const CommandResult h5py = run_command(
      "/usr/bin/python3 -c \"import h5py; f = h5py.File('" + dir_ + "/np2.h5', 'r'); "
      "print(sorted((k, f[k].shape[0]) for k in ['configs', 'log_q', 'log_p', 'log_w', 'sum_phi2', 'sum_phi4', "
      "'mcmc/state', 'mcmc/accepted']), f.attrs['format'], f.attrs['n_written'])\"");
  EXPECT_EQ(h5py.output,
            "[('configs', 300), ('log_p', 300), ('log_q', 300), ('log_w', 300), ('mcmc/accepted', 300), "
            "('mcmc/state', 300), ('sum_phi2', 300), ('sum_phi4', 300)] flowlat-ensemble 300\n");
}

TEST_F(SampleCommand, OneAndTwoRanksWriteBitwiseIdenticalDatasets) {
  // The flow alone, and annealed (each batch's moves from its own stream).
  for (const std::string anneal : {"0", "3"}) {
    for (int ranks : {1, 2}) {
      const std::string out = dir_ + "/anneal" + anneal + "_ranks" + std::to_string(ranks) + ".h5";
      const CommandResult result = run_flowlat(
          "sample " + dir_ + "/tiny.yaml --output " + out + " --set sample.anneal_steps=" + anneal, ranks);
      ASSERT_EQ(result.exit_code, 0) << result.output;
    }
    const EnsembleReader one(dir_ + "/anneal" + anneal + "_ranks1.h5"), two(dir_ + "/anneal" + anneal + "_ranks2.h5");
    for (const char* name : {ensemble::kConfigs, ensemble::kLogQ, ensemble::kLogP, ensemble::kLogW,
                             ensemble::kSumPhi2, ensemble::kSumPhi4}) {
      EXPECT_EQ(all_rows<double>(one, name), all_rows<double>(two, name)) << name << ", anneal_steps " << anneal;
    }
    EXPECT_EQ(one.read_chain_state(0, 300), two.read_chain_state(0, 300));
    EXPECT_EQ(one.attribute_double("ess"), two.attribute_double("ess"));
    EXPECT_EQ(two.attribute_int64("n_ranks"), 2);
    EXPECT_EQ(two.attribute_int64("anneal_steps"), std::stoll(anneal));
  }
}

TEST_F(SampleCommand, ReweightingToOtherCouplingsNeedsNoConfigurations) {
  // The same rows with and without /configs: the shift of log Z comes from the stored sums alone.
  for (const std::string store : {"true", "false"}) {
    const std::string out = dir_ + "/store_" + store + ".h5";
    const CommandResult sampled =
        run_flowlat("sample " + dir_ + "/tiny.yaml --output " + out + " --set sample.store_configs=" + store);
    ASSERT_EQ(sampled.exit_code, 0) << sampled.output;
    const CommandResult analysed =
        run_flowlat("analyze " + out + " --reweight-to m2=-3.9,lambda=8.1 --json " + out + ".json");
    ASSERT_EQ(analysed.exit_code, 0) << analysed.output;
  }
  EXPECT_FALSE(EnsembleReader(dir_ + "/store_false.h5").has_configs());
  const nlohmann::json with = nlohmann::json::parse(read_text(dir_ + "/store_true.h5.json"));
  const nlohmann::json without = nlohmann::json::parse(read_text(dir_ + "/store_false.h5.json"));
  const double a = with.at("reweighted_to").at("delta_log_z").at("value").get<double>();
  const double b = without.at("reweighted_to").at("delta_log_z").at("value").get<double>();
  EXPECT_NE(a, 0.0);
  EXPECT_NEAR(a, b, 1e-12 * std::abs(a));
  EXPECT_NEAR(with.at("reweighted_to").at("delta_log_z").at("error").get<double>(),
              without.at("reweighted_to").at("delta_log_z").at("error").get<double>(), 1e-12);
  EXPECT_EQ(with.at("reweighted_to").at("ess").get<double>(), without.at("reweighted_to").at("ess").get<double>());
}

TEST_F(SampleCommand, ExistingFileIsNeverOverwrittenWithoutForce) {
  const std::string out = dir_ + "/keep.h5";
  ASSERT_EQ(run_flowlat("sample " + dir_ + "/tiny.yaml --output " + out).exit_code, 0);
  const auto size = fs::file_size(out);
  const auto time = fs::last_write_time(out);
  const CommandResult again = run_flowlat("sample " + dir_ + "/tiny.yaml --output " + out, 2);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("ensemble file exists; pass --force"), std::string::npos) << again.output;
  EXPECT_EQ(fs::file_size(out), size);
  EXPECT_EQ(fs::last_write_time(out), time);
  const CommandResult wrong = run_flowlat("sample " + dir_ + "/tiny.yaml --output " + dir_ + "/x.h5 "
                                          "--set flow.n_layers=6");
  EXPECT_EQ(wrong.exit_code, 2) << wrong.output;  // an input error: the file is sound
  EXPECT_NE(wrong.output.find("model architecture differs from the configuration"), std::string::npos);
}

// --resume with another model (same architecture, other weights) would
// append its rows under the first model's checksum: refused, file untouched.
TEST_F(SampleCommand, ResumeWithAnotherModelIsRefused) {
  const std::string out = dir_ + "/one_model.h5";
  ASSERT_EQ(run_flowlat("sample " + dir_ + "/tiny.yaml --output " + out).exit_code, 0);
  const std::string other = dir_ + "/other";
  const CommandResult trained =
      run_flowlat("train " + dir_ + "/tiny.yaml --set train.steps=5 --set run.output_dir=" + other);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const std::string bytes = read_text(out);
  const CommandResult resumed =
      run_flowlat("sample " + dir_ + "/tiny.yaml --resume --output " + out + " --model " + other + "/model.pt");
  EXPECT_EQ(resumed.exit_code, 2) << resumed.output;
  EXPECT_NE(resumed.output.find(out + ": --resume needs the model the file was started with (model_checksum fnv1a64:"),
            std::string::npos)
      << resumed.output;
  EXPECT_NE(resumed.output.find("but " + other + "/model.pt has fnv1a64:"), std::string::npos) << resumed.output;
  EXPECT_EQ(read_text(out), bytes);
}

// Starts a long sampling job, kills it (SIGKILL, whole process group) once
// rows are committed, checks the file, resumes it, and compares with an
// uninterrupted run. The job is killed at its first flush (the first round,
// both ranks' batches): later flushes come every 5 s, and a fast machine
// finishes 400,000 tiny configurations in less.
TEST_F(SampleCommand, KilledJobLeavesValidFileThatResumesToTheSameEnsemble) {
  const std::string big = " --set sample.n_configs=400000 --set sample.batch_size=2048";
  const std::string killed = dir_ + "/killed.h5", reference = dir_ + "/reference.h5";
  ASSERT_EQ(run_flowlat("sample " + dir_ + "/tiny.yaml --output " + reference + big, 2).exit_code, 0);

  const std::string pid_file = dir_ + "/pid";
  run_command("setsid sh -c 'echo $$ > " + pid_file + "; exec " + std::string(FLOWLAT_MPIEXEC) + " -np 2 " +
              FLOWLAT_BINARY + " sample " + dir_ + "/tiny.yaml --output " + killed + big + " > " + dir_ +
              "/killed.log 2>&1' &");
  int64_t seen = 0;
  for (int attempt = 0; attempt < 3000 && seen < 2 * 2048; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    try {
      seen = EnsembleReader(killed).n_written();
    } catch (const std::exception&) {
      // Not created yet, or caught mid-update: try again.
    }
  }
  const pid_t group = std::stoi(read_text(pid_file));
  ::kill(-group, SIGKILL);
  // Wait until every process of the group has ended (a fixed sleep races on
  // a loaded machine).
  ASSERT_TRUE(testing::wait_for_group_exit(group, 30.0)) << "the killed job's processes are still running";
  ASSERT_GE(seen, 2 * 2048) << read_text(dir_ + "/killed.log");

  {  // HDF5 locks the file: close the readers before the job reopens it.
    const EnsembleReader partial(killed);
    const int64_t n = partial.n_written();
    ASSERT_GT(n, 0);
    ASSERT_LT(n, 400000) << "the job finished before it was killed";
    const EnsembleReader full(reference);
    EXPECT_EQ(partial.read_column(ensemble::kLogW, 0, n), full.read_column(ensemble::kLogW, 0, n));
    EXPECT_EQ(partial.read_configs(n - 10, 10), full.read_configs(n - 10, 10));
  }
  // Open MPI starts the ranks in process groups of their own: they end only
  // once they notice mpirun is gone, and hold the writer's claim until then.
  CommandResult resumed;
  for (int attempt = 0; attempt < 30; ++attempt) {
    resumed = run_flowlat("sample " + dir_ + "/tiny.yaml --resume --output " + killed + big, 2);
    if (resumed.output.find("is being written by another process") == std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming"), std::string::npos);
  const EnsembleReader done(killed), full(reference);
  ASSERT_EQ(done.n_written(), 400000);
  EXPECT_EQ(done.read_column(ensemble::kLogW, 0, 400000), full.read_column(ensemble::kLogW, 0, 400000));
  EXPECT_EQ(done.read_chain_state(0, 400000), full.read_chain_state(0, 400000));
  EXPECT_EQ(done.attribute_double("log_Z"), full.attribute_double("log_Z"));
}

}  // namespace
}  // namespace flowlat::testing
