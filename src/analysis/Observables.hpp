#pragma once
// Per-configuration primary quantities of a real scalar field on the periodic
// lattice [L0, ..., L_{d-1}] (row-major, axis 0 is "time"; README:
// conventions), and the derived observables computed from their means.
// Plain float64 vectors, no LibTorch.
//
// Column order of the primaries of one configuration phi (V sites, d axes):
//   0            M       = sum_x phi(x)
//   1            |M|
//   2            M^2
//   3            M^4
//   4            |F(p1)|^2 / V,  F(p) = sum_x phi(x) e^{i p x_0},  p1 = 2 pi / L0
//   5 + mu       link(mu) = sum_x phi(x) phi(x + mu),   mu = 0..d-1
//   5 + d + t    c(t) = (1/V) sum_{t0} Sigma(t0) Sigma(t0 + t),  t = 0..L0-1,
//                Sigma(t0) = sum_{x: x_0 = t0} phi(x)  (time-slice sums)
//   5 + d + L0   sum_x phi(x)^2   (dS/dm2: reweighting to other couplings)
//   6 + d + L0   sum_x phi(x)^4   (dS/dlambda)
// so that, with <.> the ensemble average,
//   chi2 = <M^2>/V,  G(mu) = <link(mu)>/V,  G~(p1) = <|F(p1)|^2>/V, and
//   <c(t)> = C(t) = (1/V) sum_{x,y: y_0 - x_0 = t} <phi(x) phi(y)>
// (not connected). Example: a constant field c on 4x4 has M = 16 c,
// link(mu) = 16 c^2, c(t) = 4 c^2 = (V/L0) c^2 and |F(p1)|^2/V = 0.
#include <cstdint>
#include <vector>

namespace flowlat {

class Observables {
 public:
  static constexpr int kM = 0;
  static constexpr int kAbsM = 1;
  static constexpr int kM2 = 2;
  static constexpr int kM4 = 3;
  static constexpr int kMomentumP1 = 4;
  static constexpr int kFirstLink = 5;

  // Prepares the neighbour tables of the lattice `lattice_shape` (1 to 3
  // extents, each >= 1); throws std::invalid_argument otherwise. Local.
  explicit Observables(std::vector<int64_t> lattice_shape);

  const std::vector<int64_t>& lattice_shape() const { return shape_; }
  int dims() const { return static_cast<int>(shape_.size()); }
  int64_t extent0() const { return shape_[0]; }
  int64_t volume() const { return volume_; }
  // Column of link(mu), of c(t), and the number of columns. Local.
  int link_column(int mu) const { return kFirstLink + mu; }
  int correlator_column(int64_t t) const { return kFirstLink + dims() + static_cast<int>(t); }
  int phi2_column() const { return kFirstLink + dims() + static_cast<int>(extent0()); }
  int phi4_column() const { return phi2_column() + 1; }
  int n_columns() const { return phi4_column() + 1; }

  // Primaries of one configuration (V values) into out[0 .. n_columns()).
  // Local.
  void compute(const double* config, double* out) const;
  // Primaries of n configurations (row-major [n, V]) as a row-major
  // [n, n_columns()] matrix; throws std::invalid_argument if
  // configs.size() != n V. Local.
  std::vector<double> compute(const std::vector<double>& configs, int64_t n) const;

 private:
  std::vector<int64_t> shape_;
  int64_t volume_ = 1;
  std::vector<std::vector<int64_t>> forward_;  // forward_[mu][x]: the site x + mu
  std::vector<double> cos_p1_, sin_p1_;        // cos, sin of p1 t0, t0 = 0..L0-1
};

// Derived observables, functions of ensemble means (all Local):

// Binder cumulant U4 = 1 - <M^4> / (3 <M^2>^2).
double binder_cumulant(double m2, double m4);
// Ising energy E = (1/d) sum_mu G(mu) from the d values G(mu) = <link(mu)>/V.
double ising_energy(const std::vector<double>& g);
// m_eff(t) = arccosh[(C(t-1) + C(t+1)) / (2 C(t))]; NaN where that argument
// is < 1 or not finite.
double effective_mass(double c_before, double c, double c_after);
// xi2 = sqrt((G~(0)/G~(p1) - 1) / (4 sin^2(pi/L0))); NaN where the root's
// argument is negative or not finite.
double second_moment_correlation_length(double g_zero, double g_p1, int64_t extent0);

}  // namespace flowlat
