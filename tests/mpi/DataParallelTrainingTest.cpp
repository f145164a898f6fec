// Data-parallel training equals one process on the full global batch,
// step by step; ranks stay bitwise identical; the reported ESS is the
// global batch's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "config/Config.hpp"
#include "support/TestSupport.hpp"
#include "train/EffectiveSampleSize.hpp"
#include "train/GradientSync.hpp"
#include "train/Trainer.hpp"

namespace flowlat {
namespace {

Config config_with_batch(int64_t batch, const std::vector<std::string>& overrides = {}) {
  return parse_config(
      "lattice: {shape: [4, 4]}\n"
      "action: {kind: phi4, m2: -4.0, lambda: 8.0}\n"
      "flow: {n_layers: 4, hidden_channels: [6, 6], kernel_size: 3}\n"
      "train: {steps: 8, batch_size: " + std::to_string(batch) + ", lr: 1.0e-2, seed: 21, check_every: 2}\n"
      "run: {device: cpu, precision: float64}\n",
      "data_parallel.yaml", overrides);
}

// The flow-quality options, each a way the ranks could drift apart.
const std::vector<std::vector<std::string>> kRecipes{
    {},
    {"flow.coupling=[spline, affine]", "flow.fourier_layer=diagonal", "flow.equivariance=z2",
     "train.lr_schedule=cosine", "train.warmup_steps=3", "train.grad_clip=0.5", "train.adam_beta2=0.99"},
    {"flow.coupling=spline", "flow.symmetrisation=z2", "train.estimator=path", "train.eval_every=3",
     "train.eval_size=10"},
    {"flow.n_layers=0", "flow.fourier_layer=symmetric", "flow.ode_layer=global", "flow.ode_pieces=3",
     "flow.ode_substeps=2", "flow.ode_frequencies=3", "flow.ode_channels=2", "train.eval_every=3",
     "train.eval_size=10"},
};

double max_parameter_difference(Trainer& a, Trainer& b) {
  double worst = 0;
  const auto pa = a.flow()->parameters(), pb = b.flow()->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    const double scale = std::max(1.0, pa[i].abs().max().item<double>());
    worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>() / scale);
  }
  return worst;
}

// Trains `parallel` (on every rank) and, on rank 0, one process on the full
// batch, and compares loss, ESS, parameters, lr and held-out numbers after
// every step. Collective.
void expect_every_step_equals_one_process(const Config& config, Trainer& parallel) {
  const Communicator world = Communicator::world();
  std::unique_ptr<Trainer> reference;
  if (world.is_root()) reference = std::make_unique<Trainer>(config, Communicator::self(), torch::Device(torch::kCPU));
  for (int64_t step = 1; step <= config.train.steps; ++step) {
    const StepMetrics got = parallel.step();
    if (!world.is_root()) continue;
    const StepMetrics expected = reference->step();
    EXPECT_NEAR(got.loss, expected.loss, 1e-12 * std::abs(expected.loss)) << "step " << step;
    EXPECT_NEAR(got.ess, expected.ess, 1e-12) << "step " << step;
    EXPECT_LT(max_parameter_difference(parallel, *reference), 1e-12) << "step " << step;
    EXPECT_EQ(got.lr, expected.lr);
    if (std::isnan(expected.eval_ess)) {
      EXPECT_TRUE(std::isnan(got.eval_ess));
    } else {
      EXPECT_NEAR(got.eval_ess, expected.eval_ess, 1e-12) << "step " << step;
      EXPECT_EQ(got.eval_acceptance, expected.eval_acceptance) << "step " << step;
    }
  }
}

// Global batches 12 (even split on 2 and 4 ranks) and 10 (uneven on 4),
// for every recipe.
class DataParallelTraining : public ::testing::TestWithParam<std::tuple<int64_t, size_t>> {};

TEST_P(DataParallelTraining, MatchesOneProcessOnTheFullBatchAfterEveryStep) {
  const Config config = config_with_batch(std::get<0>(GetParam()), kRecipes[std::get<1>(GetParam())]);
  Trainer parallel(config, Communicator::world(), torch::Device(torch::kCPU));
  expect_every_step_equals_one_process(config, parallel);
}

INSTANTIATE_TEST_SUITE_P(GlobalBatchAndRecipe, DataParallelTraining,
                         ::testing::Combine(::testing::Values(12, 10), ::testing::Values(0, 1, 2)));

// The staging path (gradients reduced through a separate host buffer, as
// on GPUs without CUDA-aware MPI) forced on CPU tensors: the same steps.
TEST(DataParallelTraining, StagingThroughHostMemoryMatchesOneProcess) {
  const Config config = config_with_batch(10, kRecipes[1]);
  const Communicator world = Communicator::world();
  setenv("FLOWLAT_GRADIENT_STAGING", "host", 1);
  Trainer parallel(config, world, torch::Device(torch::kCPU));
  EXPECT_TRUE(GradientSync(world, {}).stages_through_host(torch::zeros({3})));
  unsetenv("FLOWLAT_GRADIENT_STAGING");
  EXPECT_FALSE(GradientSync(world, {}).stages_through_host(torch::zeros({3})));
  expect_every_step_equals_one_process(config, parallel);
}

TEST(DataParallelTraining, RanksHoldBitwiseIdenticalParameters) {
  const Config config = config_with_batch(12);
  const Communicator world = Communicator::world();
  Trainer trainer(config, world, torch::Device(torch::kCPU));
  for (int i = 0; i < 6; ++i) trainer.step();
  for (auto& p : trainer.flow()->parameters()) {
    torch::Tensor root_copy = p.detach().clone();
    world.broadcast(root_copy.data_ptr(), root_copy.numel() * 8, 0);
    EXPECT_TRUE(torch::equal(root_copy, p.detach())) << "rank " << world.rank();
  }
}

TEST(DataParallelTraining, ReportedEssIsThatOfTheGatheredGlobalBatch) {
  const Config config = config_with_batch(12);
  const Communicator world = Communicator::world();
  Trainer trainer(config, world, torch::Device(torch::kCPU));
  for (int i = 0; i < 4; ++i) {
    const StepMetrics metrics = trainer.step();
    const auto local = metrics.log_w.contiguous();
    const std::vector<double> mine(local.data_ptr<double>(), local.data_ptr<double>() + local.numel());
    const std::vector<double> all = world.all_gather(mine);
    ASSERT_EQ(all.size(), 12u);
    const double gathered = effective_sample_size(torch::tensor(all, torch::kFloat64));
    EXPECT_NEAR(metrics.ess, gathered, 1e-13 * gathered);
    // Each rank's ESS alone would differ: the global one is what is reported.
  }
}

}  // namespace
}  // namespace flowlat

int main(int argc, char** argv) { return flowlat::testing::run_mpi_tests(argc, argv); }
