#pragma once
// The closed form of log Z for the free field (lambda = 0) with the
// README's action S = phi^T A phi, A = -Laplacian + m2 (no factor 1/2 in
// the kinetic term): Z = pi^{V/2} det(A)^{-1/2}, so
//   log Z = (V/2) log(pi) - (1/2) sum_p log(phat^2 + m2),
//   phat^2 = sum_mu (2 - 2 cos p_mu), p_mu = 2 pi n_mu / L_mu.
// The exact start of flowlat ti's path and the reference of the free-field
// tests.
#include <cstdint>
#include <vector>

namespace flowlat {

// log Z of the free field of mass squared m2 > 0 on the periodic lattice
// `shape`; throws std::invalid_argument for m2 <= 0 (Z is infinite). Local.
double free_field_log_z(const std::vector<int64_t>& shape, double m2);

}  // namespace flowlat
