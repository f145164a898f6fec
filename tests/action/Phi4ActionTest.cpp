// Action against hand-computed values in d = 1, 2, 3.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "action/Phi4Action.hpp"

namespace flowlat {
namespace {

// For a constant field c the hopping terms cancel: S = V (m2 c^2 + lambda c^4).
TEST(Phi4Action, ConstantFieldInEveryDimension) {
  const double m2 = -4.0, lambda = 8.0, c = 0.7;
  const Phi4Action action(m2, lambda);
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{6}, {4, 6}, {2, 4, 4}}) {
    std::vector<int64_t> batch{1};
    batch.insert(batch.end(), shape.begin(), shape.end());
    const torch::Tensor phi = torch::full(batch, c, torch::kFloat64);
    const double volume = static_cast<double>(phi.numel());
    const double expected = volume * (m2 * c * c + lambda * c * c * c * c);
    EXPECT_NEAR(action(phi).item<double>(), expected, 1e-12 * std::abs(expected)) << shape.size() << "d";
  }
}

// A single spike of height h at one site (others 0): the kinetic term gives
// 2 d h^2 at the spike and nothing elsewhere, so S = (2d + m2) h^2 + lambda h^4.
TEST(Phi4Action, SingleSpikeInEveryDimension) {
  const double m2 = 1.5, lambda = 0.25, h = 2.0;
  const Phi4Action action(m2, lambda);
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{8}, {4, 4}, {4, 4, 4}}) {
    std::vector<int64_t> batch{1};
    batch.insert(batch.end(), shape.begin(), shape.end());
    torch::Tensor phi = torch::zeros(batch, torch::kFloat64);
    phi.view({-1})[5] = h;
    const double d = static_cast<double>(shape.size());
    EXPECT_DOUBLE_EQ(action(phi).item<double>(), (2 * d + m2) * h * h + lambda * h * h * h * h);
  }
}

// 1d, L = 4, phi = (1, 2, 0, -1), written out by hand:
// kinetic sum_x phi(x)(2phi(x) - phi(x+1) - phi(x-1))
//   x0: 1*(2 - 2 - (-1)) = 1;  x1: 2*(4 - 0 - 1) = 6;
//   x2: 0;                     x3: -1*(-2 - 1 - 0) = 3   -> 10
// m2 = 0.5: 0.5*(1+4+0+1) = 3; lambda = 0.1: 0.1*(1+16+0+1) = 1.8 -> 14.8
TEST(Phi4Action, HandComputedOneDimensional) {
  const torch::Tensor phi = torch::tensor({1.0, 2.0, 0.0, -1.0}, torch::kFloat64).view({1, 4});
  EXPECT_NEAR(Phi4Action(0.5, 0.1)(phi).item<double>(), 14.8, 1e-13);
}

// 2x2 lattice, phi = [[1, 0], [0, 0]]: each neighbour in each direction is
// the same site (L = 2), so kinetic = 1*(2*1 - 0 - 0)*2 = 4.
TEST(Phi4Action, HandComputedTwoByTwo) {
  const torch::Tensor phi = torch::tensor({1.0, 0.0, 0.0, 0.0}, torch::kFloat64).view({1, 2, 2});
  EXPECT_DOUBLE_EQ(Phi4Action(-4.0, 8.0)(phi).item<double>(), 4.0 - 4.0 + 8.0);
}

// Batched, float32 input: result is float64 [B] and each entry matches the
// single-configuration value.
TEST(Phi4Action, BatchedFloat32InputReducesInFloat64) {
  torch::manual_seed(3);
  const torch::Tensor phi = torch::randn({5, 4, 6}, torch::kFloat32);
  const Phi4Action action(-4.0, 8.0);
  const torch::Tensor s = action(phi);
  ASSERT_EQ(s.scalar_type(), torch::kFloat64);
  ASSERT_EQ(s.sizes(), torch::IntArrayRef({5}));
  for (int64_t b = 0; b < 5; ++b) {
    EXPECT_DOUBLE_EQ(s[b].item<double>(), action(phi.narrow(0, b, 1)).item<double>());
  }
}

}  // namespace
}  // namespace flowlat
