// Gauss-Legendre rules (analysis/GaussLegendre): the known 2- and 3-point
// rules, exactness for every polynomial of degree <= 2n - 1 (and not for
// degree 2n, where that error is above rounding), on [0, 1] and a shifted
// interval.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/GaussLegendre.hpp"

namespace flowlat {
namespace {

TEST(GaussLegendre, TwoAndThreePointRules) {
  const QuadratureRule two = gauss_legendre(2, -1.0, 1.0);
  EXPECT_NEAR(two.nodes[0], -1.0 / std::sqrt(3.0), 1e-15);
  EXPECT_NEAR(two.nodes[1], 1.0 / std::sqrt(3.0), 1e-15);
  EXPECT_NEAR(two.weights[0], 1.0, 1e-15);
  const QuadratureRule three = gauss_legendre(3, -1.0, 1.0);
  EXPECT_NEAR(three.nodes[0], -std::sqrt(0.6), 1e-15);
  EXPECT_NEAR(three.nodes[1], 0.0, 1e-15);
  EXPECT_NEAR(three.weights[0], 5.0 / 9.0, 1e-15);
  EXPECT_NEAR(three.weights[1], 8.0 / 9.0, 1e-15);
  EXPECT_THROW(gauss_legendre(0, 0.0, 1.0), std::invalid_argument);
  EXPECT_THROW(gauss_legendre(2, 1.0, 1.0), std::invalid_argument);
}

TEST(GaussLegendre, ExactForPolynomialsUpToDegreeTwoNMinusOne) {
  for (int n : {1, 2, 3, 5, 8, 16, 32}) {
    for (const auto& [a, b] : {std::pair{0.0, 1.0}, std::pair{-0.5, 2.0}}) {
      const QuadratureRule rule = gauss_legendre(n, a, b);
      for (size_t k = 1; k < rule.nodes.size(); ++k) EXPECT_LT(rule.nodes[k - 1], rule.nodes[k]);
      for (int degree = 0; degree <= 2 * n; ++degree) {
        double sum = 0;
        for (size_t k = 0; k < rule.nodes.size(); ++k) sum += rule.weights[k] * std::pow(rule.nodes[k], degree);
        const double exact = (std::pow(b, degree + 1) - std::pow(a, degree + 1)) / (degree + 1);
        if (degree <= 2 * n - 1) {
          EXPECT_NEAR(sum, exact, 1e-13 * (1 + std::abs(exact))) << "n " << n << " degree " << degree;
        } else if (n <= 5) {  // larger n: degree 2n's error falls below rounding
          EXPECT_GT(std::abs(sum - exact), 1e-12) << "n " << n << ": degree 2n is not integrated exactly";
        }
      }
    }
  }
}

}  // namespace
}  // namespace flowlat
