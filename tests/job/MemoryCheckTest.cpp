// The memory estimate that refuses runs too large for the node must be a
// lower bound of what a run really takes (or it would refuse runs that
// fit): checked against the peak resident memory of real training,
// sampling and annealed sampling runs.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "config/Config.hpp"
#include "job/MemoryCheck.hpp"
#include "support/TestSupport.hpp"

namespace flowlat::testing {
namespace {

// The largest resident set (bytes) of any child this process waited for.
double peak_child_bytes() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024;
}

TEST(MemoryCheck, TheEstimateIsALowerBoundOfARealRun) {
  const std::string dir = scratch_directory("memory_check");
  const std::string yaml =
      "lattice: {shape: [64, 64]}\n"
      "action:  {kind: phi4, m2: -4.0, lambda: 8.0}\n"
      "flow:    {n_layers: 4, hidden_channels: [8, 8], kernel_size: 3}\n"
      "train:   {steps: 2, batch_size: 64, seed: 7}\n"
      "sample:  {n_configs: 256, batch_size: 256, store_configs: false}\n"
      "run:     {output_dir: " + dir + "/run, device: cpu, precision: float32, threads_per_rank: 1}\n";
  write_text(dir + "/big.yaml", yaml);
  const Config config = parse_config(yaml, "big.yaml");

  // Training first: its peak is the larger, so the children's maximum after
  // it is training's own.
  ASSERT_EQ(run_flowlat("train " + dir + "/big.yaml").exit_code, 0);
  const double train_peak = peak_child_bytes();
  const double train_estimate = rank_memory_bytes(config, MemoryUse::Train, 1);
  EXPECT_LE(train_estimate, train_peak);
  EXPECT_GE(train_estimate, 0.4 * train_peak) << "the estimate stopped seeing the activations";

  ASSERT_EQ(run_flowlat("sample " + dir + "/big.yaml").exit_code, 0);
  EXPECT_LE(rank_memory_bytes(config, MemoryUse::Sample, 1), peak_child_bytes());

  // Annealing keeps the flow's activations for its gradients, as training
  // does, for a whole sampling batch (4x the training batch here, so that
  // its peak is the largest so far).
  Config annealed = config;
  annealed.sample.anneal_steps = 1;
  annealed.sample.anneal_md_steps = 1;
  const double annealed_estimate = rank_memory_bytes(annealed, MemoryUse::Sample, 1);
  EXPECT_GT(annealed_estimate, 2 * rank_memory_bytes(config, MemoryUse::Sample, 1));
  ASSERT_EQ(run_flowlat("sample " + dir + "/big.yaml --force --set sample.anneal_steps=1 --set "
                        "sample.anneal_md_steps=1 --output " + dir + "/annealed.h5").exit_code, 0);
  EXPECT_LE(annealed_estimate, peak_child_bytes());
  EXPECT_GE(annealed_estimate, 0.4 * peak_child_bytes()) << "the estimate stopped seeing the annealing's gradients";
}

TEST(MemoryCheck, TheEstimateGrowsWithWhatTheMessageTellsToLower) {
  Config config = parse_config("lattice: {shape: [64, 64]}\naction: {kind: phi4, m2: -4.0, lambda: 8.0}\n", "x");
  const double base = rank_memory_bytes(config, MemoryUse::Train, 1);
  config.train.batch_size *= 4;
  EXPECT_GT(rank_memory_bytes(config, MemoryUse::Train, 1), 2 * base - 200e6);
  EXPECT_LT(rank_memory_bytes(config, MemoryUse::Train, 4), rank_memory_bytes(config, MemoryUse::Train, 1));
  config.hmc.n_chains = 1 << 20;
  // At least field, momentum, force and the saved field of 2^20 chains of 4096 sites in float64.
  EXPECT_GE(rank_memory_bytes(config, MemoryUse::Hmc, 1), 4.0 * 8 * 4096 * (1 << 20));
  EXPECT_LT(available_memory_bytes(), 1e15);
}

}  // namespace
}  // namespace flowlat::testing
