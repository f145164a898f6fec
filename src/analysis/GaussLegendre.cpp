#include "analysis/GaussLegendre.hpp"

#include <cmath>
#include <stdexcept>

namespace flowlat {

QuadratureRule gauss_legendre(int n, double a, double b) {
  if (n < 1 || !(b > a)) throw std::invalid_argument("gauss_legendre: needs n >= 1 and a < b");
  QuadratureRule rule;
  rule.nodes.resize(static_cast<size_t>(n));
  rule.weights.resize(static_cast<size_t>(n));
  const double half = 0.5 * (b - a), middle = 0.5 * (a + b);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    // The i-th largest root of P_n, refined from cos(pi (i + 3/4) / (n + 1/2)).
    double x = std::cos(M_PI * (i + 0.75) / (n + 0.5));
    double derivative = 1;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double p0 = 1, p1 = x;  // P_0, P_1, then the recurrence up to P_n
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      derivative = n * (x * p1 - p0) / (x * x - 1);  // P_n'(x)
      const double dx = p1 / derivative;
      x -= dx;
      if (std::abs(dx) < 1e-16) break;
    }
    const double w = 2 / ((1 - x * x) * derivative * derivative);
    const size_t low = static_cast<size_t>(i), high = static_cast<size_t>(n - 1 - i);
    rule.nodes[low] = middle - half * x;
    rule.nodes[high] = middle + half * x;
    rule.weights[low] = rule.weights[high] = half * w;
  }
  return rule;
}

}  // namespace flowlat
