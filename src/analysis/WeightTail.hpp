#pragma once
// How heavy the tail of the importance weights is: the shape k of a
// generalised Pareto distribution fitted to the largest weights, the
// diagnostic of Pareto-smoothed importance sampling (Vehtari, Simpson,
// Gelman, Yao, Gabry, arXiv:1507.02646; the fit of Zhang and Stephens,
// Technometrics 51 (2009) 316). The weights' variance is finite for k < 1/2
// and their mean for k < 1. For k > 0.7 a self-normalised estimate rests on
// a handful of configurations from where the flow under-covers the target:
// at any practical N it is biased by about its error, and the jackknife
// error does not show it. Between 0.5 and 0.7 it converges, slowly.
#include <vector>

namespace flowlat {

// Above this k an estimate (and its error) cannot be trusted (PSIS's rule).
inline constexpr double kUntrustedTailShape = 0.7;

// k of the largest min(N/5, 3 sqrt(N)) of exp(log_values - max): the tail
// of the values themselves. NaN when fewer than 5 values lie above the
// tail's threshold (e.g. all equal, as an HMC ensemble's). Local.
double pareto_tail_shape(const std::vector<double>& log_values);

}  // namespace flowlat
