#pragma once
// The Gaussian (Hartree) approximation of the phi^4 theory: the mass
// squared m^2 of the free field that best stands in for the action,
//   m^2 = m2 + 6 lambda <phi^2>,  <phi^2> = (1/V) sum_p 1 / (2 (phat^2 + m^2)),
// solved self-consistently on the lattice (README: the free propagator is
// 1 / (2 (phat^2 + m2))). The default of flow.fourier_mass2.
#include <cstdint>
#include <vector>

namespace flowlat {

// The self-consistent m^2 (exactly m2 when lambda = 0), at least 1e-3 so
// that the propagator stays finite in the broken phase. Local.
double gaussian_mass2(const std::vector<int64_t>& shape, double m2, double lambda);

}  // namespace flowlat
