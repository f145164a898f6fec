// Which configuration changes a restart accepts: every differing key that
// affects training is named with both values; budget and logging pass.
#include <gtest/gtest.h>

#include "config/Config.hpp"
#include "config/ConfigDiff.hpp"

namespace flowlat {
namespace {

std::string resolved(const std::string& extra) {
  return parse_config("lattice: {shape: [4, 4]}\naction: {kind: phi4, m2: -4.0, lambda: 8.0}\n" + extra, "t.yaml")
      .resolved_yaml();
}

TEST(ConfigDiff, BudgetLoggingOutputAndOtherSectionsMayChange) {
  const std::string before = resolved("train: {steps: 100, log_every: 10}\n");
  const std::string after = resolved(
      "train: {steps: 500, log_every: 50, check_every: 7, checkpoint_every: 9}\n"
      "run: {resume: auto, max_walltime: '01:00:00', output_dir: elsewhere}\n"
      "sample: {n_configs: 5}\nhmc: {n_chains: 3}\n");
  EXPECT_TRUE(forbidden_changes(before, after, Changeable::OnTrainResume, "in the checkpoint").empty());
}

TEST(ConfigDiff, EveryTrainingKeyThatDiffersIsNamedWithBothValues) {
  const std::string before = resolved("train: {lr: 0.001}\n");
  const std::string after = resolved("train: {lr: 0.002, seed: 99}\nflow: {hidden_channels: [4, 4]}\n"
                                     "run: {threads_per_rank: 2}\n");
  const std::vector<std::string> changes = forbidden_changes(before, after, Changeable::OnTrainResume, "in the checkpoint");
  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0], "flow.hidden_channels: [8, 8] in the checkpoint, [4, 4] now");
  EXPECT_EQ(changes[1], "run.threads_per_rank: 1 in the checkpoint, 2 now");
  EXPECT_EQ(changes[2], "train.lr: 0.001 in the checkpoint, 0.002 now");
  EXPECT_EQ(changes[3], "train.seed: 1234 in the checkpoint, 99 now");
  EXPECT_FALSE(may_change("action.m2", Changeable::OnTrainResume));
  EXPECT_TRUE(may_change("train.steps", Changeable::OnTrainResume));
}

TEST(ConfigDiff, AnEnsembleResumesOnlyWithTheSameRowsDefiningKeys) {
  const std::string before = resolved("sample: {n_configs: 100}\n");
  const std::string after = resolved("run: {max_walltime: 600, output_dir: moved}\nhmc: {n_chains: 3}\n"
                                     "train: {log_every: 5}\nsample: {n_configs: 100}\n");
  EXPECT_TRUE(forbidden_changes(before, after, Changeable::OnSampleResume, "in the file").empty());
  const std::vector<std::string> changes =
      forbidden_changes(before, resolved("sample: {n_configs: 200, seed: 1}\ntrain: {steps: 10}\n"),
                        Changeable::OnSampleResume, "in the file");
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0], "sample.n_configs: 100 in the file, 200 now");
  EXPECT_EQ(changes[1], "sample.seed: 4321 in the file, 1 now");
  EXPECT_EQ(changes[2], "train.steps: 2500 in the file, 10 now");
}

}  // namespace
}  // namespace flowlat
