// Per-configuration primaries on hand-made fields with hand-computed values,
// and the derived observables on exactly known inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "analysis/Observables.hpp"

namespace flowlat {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<double> primaries_of(const Observables& obs, const std::vector<double>& config) {
  return obs.compute(config, 1);
}

TEST(Observables, ColumnLayoutIsDocumented) {
  const Observables obs({4, 6});
  EXPECT_EQ(obs.volume(), 24);
  EXPECT_EQ(obs.link_column(0), 5);
  EXPECT_EQ(obs.link_column(1), 6);
  EXPECT_EQ(obs.correlator_column(0), 7);
  EXPECT_EQ(obs.correlator_column(3), 10);
  EXPECT_EQ(obs.phi2_column(), 11);
  EXPECT_EQ(obs.phi4_column(), 12);
  EXPECT_EQ(obs.n_columns(), 13);
  EXPECT_THROW(Observables({}), std::invalid_argument);
  EXPECT_THROW(Observables({2, 2, 2, 2}), std::invalid_argument);
  EXPECT_THROW(obs.compute(std::vector<double>(23), 1), std::invalid_argument);
}

TEST(Observables, ConstantField) {
  const double c = -0.75;
  const Observables obs({4, 4});
  const std::vector<double> p = primaries_of(obs, std::vector<double>(16, c));
  EXPECT_DOUBLE_EQ(p[Observables::kM], 16 * c);
  EXPECT_DOUBLE_EQ(p[Observables::kAbsM], 16 * std::abs(c));
  EXPECT_DOUBLE_EQ(p[Observables::kM2], 256 * c * c);
  EXPECT_DOUBLE_EQ(p[Observables::kM4], 65536 * c * c * c * c);
  EXPECT_NEAR(p[Observables::kMomentumP1], 0.0, 1e-14);
  // G(mu) = link / V = c^2.
  EXPECT_DOUBLE_EQ(p[obs.link_column(0)] / 16, c * c);
  EXPECT_DOUBLE_EQ(p[obs.link_column(1)] / 16, c * c);
  EXPECT_DOUBLE_EQ(p[obs.phi2_column()], 16 * c * c);
  EXPECT_DOUBLE_EQ(p[obs.phi4_column()], 16 * c * c * c * c);
  // Sigma(t0) = 4 c; c(t) = (1/16) * 4 * (4c)^2 = 4 c^2 = (V / L0) c^2.
  for (int t = 0; t < 4; ++t) EXPECT_DOUBLE_EQ(p[obs.correlator_column(t)], 4 * c * c);
}

TEST(Observables, SingleSpike) {
  const double a = 2.5;
  const Observables obs({4, 4});
  std::vector<double> config(16, 0.0);
  config[1 * 4 + 2] = a;  // x = (1, 2)
  const std::vector<double> p = primaries_of(obs, config);
  EXPECT_DOUBLE_EQ(p[Observables::kM], a);
  EXPECT_DOUBLE_EQ(p[Observables::kM2], a * a);
  EXPECT_DOUBLE_EQ(p[Observables::kM4], a * a * a * a);
  EXPECT_DOUBLE_EQ(p[Observables::kMomentumP1], a * a / 16);  // |F(p1)| = a at any site
  EXPECT_DOUBLE_EQ(p[obs.link_column(0)], 0.0);
  EXPECT_DOUBLE_EQ(p[obs.link_column(1)], 0.0);
  EXPECT_DOUBLE_EQ(p[obs.correlator_column(0)], a * a / 16);
  for (int t = 1; t < 4; ++t) EXPECT_DOUBLE_EQ(p[obs.correlator_column(t)], 0.0);
}

TEST(Observables, PlaneWaveAlongAxisZero) {
  // phi(x) = cos(2 pi x_0 / 4): slices 1, 0, -1, 0 (each of 4 sites).
  const Observables obs({4, 4});
  std::vector<double> config(16);
  for (int x0 = 0; x0 < 4; ++x0) {
    for (int x1 = 0; x1 < 4; ++x1) config[x0 * 4 + x1] = std::round(std::cos(2 * kPi * x0 / 4));
  }
  const std::vector<double> p = primaries_of(obs, config);
  EXPECT_DOUBLE_EQ(p[Observables::kM], 0.0);
  EXPECT_DOUBLE_EQ(p[Observables::kM2], 0.0);
  // F(p1) = sum_t0 Sigma(t0) e^{i pi t0 / 2} = 4 + 4 = 8: |F|^2 / V = 4.
  EXPECT_NEAR(p[Observables::kMomentumP1], 4.0, 1e-12);
  EXPECT_DOUBLE_EQ(p[obs.link_column(0)], 0.0);  // neighbours along 0: 1*0, 0*(-1), ...
  EXPECT_DOUBLE_EQ(p[obs.link_column(1)], 8.0);  // sum phi^2
  // Sigma = 4, 0, -4, 0: c(t) = (1/16) sum Sigma(t0) Sigma(t0 + t) = 2, 0, -2, 0.
  const double expected[4] = {2.0, 0.0, -2.0, 0.0};
  for (int t = 0; t < 4; ++t) EXPECT_DOUBLE_EQ(p[obs.correlator_column(t)], expected[t]);
}

TEST(Observables, PlaneWaveAlongAxisOneOfARectangle) {
  // phi(x) = cos(2 pi x_1 / 6) on [4, 6]: every time slice sums to zero.
  const Observables obs({4, 6});
  std::vector<double> config(24);
  for (int x0 = 0; x0 < 4; ++x0) {
    for (int x1 = 0; x1 < 6; ++x1) config[x0 * 6 + x1] = std::cos(2 * kPi * x1 / 6);
  }
  const std::vector<double> p = primaries_of(obs, config);
  EXPECT_NEAR(p[Observables::kM], 0.0, 1e-14);
  EXPECT_NEAR(p[Observables::kMomentumP1], 0.0, 1e-14);
  EXPECT_NEAR(p[obs.link_column(0)], 12.0, 1e-13);  // 4 * sum_x1 cos^2 = 4 * 3
  EXPECT_NEAR(p[obs.link_column(1)], 6.0, 1e-13);   // 4 * 6 * cos(60 deg) / 2
  for (int t = 0; t < 4; ++t) EXPECT_NEAR(p[obs.correlator_column(t)], 0.0, 1e-14);
}

TEST(Observables, ThreeDimensionsAndBatches) {
  // Two configurations on [2, 2, 4]: phi = x_2 and phi = 1 everywhere.
  const Observables obs({2, 2, 4});
  std::vector<double> configs(32);
  for (int x = 0; x < 16; ++x) {
    configs[x] = x % 4;
    configs[16 + x] = 1.0;
  }
  const std::vector<double> p = obs.compute(configs, 2);
  const int k = obs.n_columns();
  ASSERT_EQ(p.size(), 2u * k);
  EXPECT_DOUBLE_EQ(p[Observables::kM], 4 * 6.0);
  EXPECT_DOUBLE_EQ(p[obs.link_column(0)], 4 * 14.0);  // sum phi^2 = 4 (0+1+4+9)
  EXPECT_DOUBLE_EQ(p[obs.link_column(2)], 4 * 8.0);   // 0*1 + 1*2 + 2*3 + 3*0
  // Sigma(t0) = 12 for both slices: c(t) = (1/16) * 2 * 144 = 18.
  EXPECT_DOUBLE_EQ(p[obs.correlator_column(0)], 18.0);
  EXPECT_DOUBLE_EQ(p[obs.correlator_column(1)], 18.0);
  EXPECT_DOUBLE_EQ(p[k + Observables::kM], 16.0);
  EXPECT_DOUBLE_EQ(p[k + obs.link_column(1)], 16.0);
  EXPECT_DOUBLE_EQ(p[k + obs.correlator_column(1)], 8.0 * 8.0 * 2 / 16);
}

TEST(Observables, CorrelatorSumsToTheSusceptibilityAndMomentum) {
  // Identities of any field: sum_t c(t) = M^2 / V and
  // sum_t c(t) cos(p1 t) = |F(p1)|^2 / V.
  const Observables obs({6, 2});
  std::vector<double> config(12);
  for (int x = 0; x < 12; ++x) config[x] = std::sin(1.3 * x * x + 0.2);
  const std::vector<double> p = primaries_of(obs, config);
  double sum = 0, sum_cos = 0;
  for (int t = 0; t < 6; ++t) {
    sum += p[obs.correlator_column(t)];
    sum_cos += p[obs.correlator_column(t)] * std::cos(2 * kPi * t / 6);
  }
  EXPECT_NEAR(sum, p[Observables::kM2] / 12, 1e-13);
  EXPECT_NEAR(sum_cos, p[Observables::kMomentumP1], 1e-13);
}

TEST(DerivedObservables, BinderCumulant) {
  EXPECT_DOUBLE_EQ(binder_cumulant(2.0, 12.0), 0.0);         // Gaussian: <M^4> = 3 <M^2>^2
  EXPECT_DOUBLE_EQ(binder_cumulant(4.0, 16.0), 2.0 / 3.0);   // M = +-2 exactly
}

TEST(DerivedObservables, IsingEnergyIsTheMeanOverDirections) {
  EXPECT_DOUBLE_EQ(ising_energy({0.5, 0.25}), 0.375);
  EXPECT_DOUBLE_EQ(ising_energy({0.1, 0.2, 0.6}), 0.3);
}

TEST(DerivedObservables, EffectiveMassOfACosh) {
  const double m = 0.37;
  const int l0 = 16;
  const auto c = [&](int t) { return std::cosh(m * (t - l0 / 2.0)); };
  for (int t = 1; t < l0 - 1; ++t) EXPECT_NEAR(effective_mass(c(t - 1), c(t), c(t + 1)), m, 1e-12);
  EXPECT_TRUE(std::isnan(effective_mass(1.0, 2.0, 1.0)));   // argument 1/2 < 1
  EXPECT_TRUE(std::isnan(effective_mass(1.0, 0.0, 1.0)));   // C(t) = 0
  EXPECT_TRUE(std::isnan(effective_mass(-1.0, 1.0, 0.5)));  // negative argument
  EXPECT_DOUBLE_EQ(effective_mass(1.0, 1.0, 1.0), 0.0);
}

TEST(DerivedObservables, SecondMomentLengthOfAFreePropagator) {
  // G~(p) = 1 / (4 sin^2(p/2) + m^2) gives xi2 = 1/m exactly.
  const double m = 0.4;
  const int l0 = 12;
  const double p1 = 2 * kPi / l0;
  const double g0 = 1 / (m * m), g1 = 1 / (4 * std::sin(p1 / 2) * std::sin(p1 / 2) + m * m);
  EXPECT_NEAR(second_moment_correlation_length(g0, g1, l0), 1 / m, 1e-12);
  EXPECT_TRUE(std::isnan(second_moment_correlation_length(1.0, 2.0, l0)));
}

}  // namespace
}  // namespace flowlat
