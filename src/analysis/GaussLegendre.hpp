#pragma once
// Gauss-Legendre quadrature on an interval: the n nodes and weights that
// integrate every polynomial of degree <= 2n - 1 exactly. The nodes of
// flowlat ti's thermodynamic integration (hmc/ThermodynamicIntegration).
#include <vector>

namespace flowlat {

struct QuadratureRule {
  std::vector<double> nodes;    // ascending, inside (a, b)
  std::vector<double> weights;  // positive, summing to b - a
};

// The n-point rule on [a, b] (n >= 1): the roots of the Legendre polynomial
// P_n by Newton's method from Tricomi's estimates, to rounding. Throws
// std::invalid_argument for n < 1 or b <= a. Local.
QuadratureRule gauss_legendre(int n, double a, double b);

}  // namespace flowlat
