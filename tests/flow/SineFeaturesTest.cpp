// The site features of the continuous layer (flow/SineFeatures): values and
// the hand-written backward pass against autograd through plain LibTorch
// operations, in d = 1, 2, 3, with a loss through both outputs and through
// each alone (the other's gradient then arrives undefined).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "flow/SineFeatures.hpp"

namespace flowlat {
namespace {

struct Inputs {
  torch::Tensor phi, omega, slope;
};

Inputs inputs(const std::vector<int64_t>& shape) {
  std::vector<int64_t> sizes{3};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  return {(torch::randn(sizes, torch::kFloat64) * 1.5).requires_grad_(true),
          (torch::rand({5}, torch::kFloat64) * 5.0).requires_grad_(true),
          torch::randn({5}, torch::kFloat64).requires_grad_(true)};
}

// The same features with plain operations (autograd differentiates them).
std::pair<torch::Tensor, torch::Tensor> plain_features(const Inputs& in) {
  std::vector<int64_t> view(static_cast<size_t>(in.phi.dim() + 1), 1);
  view[1] = in.omega.size(0);
  const torch::Tensor phase = in.phi.unsqueeze(1) * in.omega.view(view);
  return {torch::sin(phase), (torch::cos(phase) * in.slope.view(view)).sum(1)};
}

enum class LossThrough { Both, SinesOnly, SlopeSumOnly };

torch::Tensor loss(const std::pair<torch::Tensor, torch::Tensor>& out, const torch::Tensor& weights,
                   LossThrough through) {
  const torch::Tensor from_sines = (out.first * weights).sum();
  const torch::Tensor from_sum = (out.second * out.second).sum();
  if (through == LossThrough::SinesOnly) return from_sines;
  if (through == LossThrough::SlopeSumOnly) return from_sum;
  return from_sines + from_sum;
}

TEST(SineFeatures, ValuesAndGradientsEqualAutogradOfThePlainOperations) {
  torch::manual_seed(11);
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{6}, {4, 4}, {3, 4, 5}}) {
    for (LossThrough through : {LossThrough::Both, LossThrough::SinesOnly, LossThrough::SlopeSumOnly}) {
      const Inputs in = inputs(shape);
      const auto fused = sine_features(in.phi, in.omega, in.slope);
      const auto plain = plain_features(in);
      EXPECT_TRUE(torch::allclose(fused.first, plain.first, 0, 1e-15));
      EXPECT_TRUE(torch::allclose(fused.second, plain.second, 0, 1e-14));
      const torch::Tensor weights = torch::randn_like(plain.first);
      const auto ours = torch::autograd::grad({loss(fused, weights, through)}, {in.phi, in.omega, in.slope}, {},
                                              false, false, /*allow_unused=*/true);
      const auto theirs = torch::autograd::grad({loss(plain, weights, through)}, {in.phi, in.omega, in.slope}, {},
                                                false, false, /*allow_unused=*/true);
      for (size_t k = 0; k < 3; ++k) {
        const torch::Tensor expected = theirs[k].defined() ? theirs[k] : torch::zeros_like(ours[k]);
        ASSERT_TRUE(ours[k].defined());
        const double scale = 1.0 + expected.abs().max().item<double>();
        EXPECT_LT((ours[k] - expected).abs().max().item<double>(), 1e-13 * scale)
            << "d=" << shape.size() << " input " << k << " loss " << static_cast<int>(through);
      }
    }
  }
}

}  // namespace
}  // namespace flowlat
