#include <gtest/gtest.h>

#include "parallel/MpiSession.hpp"
#include "train/BatchShard.hpp"
#include "train/EffectiveSampleSize.hpp"

namespace flowlat {
namespace {

TEST(EffectiveSampleSize, EqualWeightsGiveOne) {
  EXPECT_DOUBLE_EQ(effective_sample_size(torch::full({100}, -3.7, torch::kFloat64)), 1.0);
  // Huge log weights must not overflow.
  EXPECT_DOUBLE_EQ(effective_sample_size(torch::full({10}, 5000.0, torch::kFloat64)), 1.0);
}

TEST(EffectiveSampleSize, OneDominantWeightGivesOneOverN) {
  torch::Tensor log_w = torch::full({50}, -800.0, torch::kFloat64);
  log_w[7] = 800.0;
  EXPECT_NEAR(effective_sample_size(log_w), 1.0 / 50.0, 1e-15);
}

TEST(EffectiveSampleSize, MatchesDirectFormulaForModerateWeights) {
  const torch::Tensor log_w = torch::tensor({0.1, -0.5, 1.2, 0.0}, torch::kFloat64);
  const torch::Tensor w = log_w.exp();
  const double direct = (w.sum() * w.sum() / (4.0 * (w * w).sum())).item<double>();
  EXPECT_NEAR(effective_sample_size(log_w), direct, 1e-15);
}

TEST(BatchShard, CoversTheGlobalBatchExactlyOnce) {
  for (int size : {1, 2, 3, 4, 7}) {
    int64_t next = 0;
    for (int rank = 0; rank < size; ++rank) {
      const BatchShard shard = BatchShard::of(30, rank, size);
      EXPECT_EQ(shard.begin, next);
      EXPECT_GE(shard.count, 30 / size);
      EXPECT_LE(shard.count, 30 / size + 1);
      next += shard.count;
    }
    EXPECT_EQ(next, 30);
  }
}

}  // namespace
}  // namespace flowlat
