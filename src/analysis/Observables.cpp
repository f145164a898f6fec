#include "analysis/Observables.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace flowlat {
namespace {

constexpr double kPi = 3.14159265358979323846;

void validate_shape(const std::vector<int64_t>& shape) {
  if (shape.empty() || shape.size() > 3) {
    throw std::invalid_argument("Observables: lattice of " + std::to_string(shape.size()) +
                                " dimensions; 1 to 3 are supported");
  }
  for (int64_t extent : shape) {
    if (extent < 1) {
      throw std::invalid_argument("Observables: lattice extent " + std::to_string(extent) +
                                  " is not >= 1");
    }
  }
}

}  // namespace

Observables::Observables(std::vector<int64_t> lattice_shape) : shape_(std::move(lattice_shape)) {
  validate_shape(shape_);
  for (int64_t extent : shape_) volume_ *= extent;
  // Row-major: axis mu has stride prod_{nu > mu} L_nu.
  int64_t stride = volume_;
  for (int mu = 0; mu < dims(); ++mu) {
    const int64_t extent = shape_[mu];
    stride /= extent;
    std::vector<int64_t> forward(volume_);
    for (int64_t x = 0; x < volume_; ++x) {
      const int64_t coordinate = (x / stride) % extent;
      forward[x] = coordinate + 1 < extent ? x + stride : x - (extent - 1) * stride;
    }
    forward_.push_back(std::move(forward));
  }
  for (int64_t t = 0; t < extent0(); ++t) {
    cos_p1_.push_back(std::cos(2.0 * kPi * t / extent0()));
    sin_p1_.push_back(std::sin(2.0 * kPi * t / extent0()));
  }
}

void Observables::compute(const double* config, double* out) const {
  const int64_t l0 = extent0();
  const int64_t slice_volume = volume_ / l0;  // axis 0 is the slowest index
  std::vector<double> sigma(l0, 0.0);
  for (int64_t t0 = 0; t0 < l0; ++t0) {
    double sum = 0;
    for (int64_t x = t0 * slice_volume; x < (t0 + 1) * slice_volume; ++x) sum += config[x];
    sigma[t0] = sum;
  }
  double m = 0, re = 0, im = 0;
  for (int64_t t0 = 0; t0 < l0; ++t0) {
    m += sigma[t0];
    re += sigma[t0] * cos_p1_[t0];
    im += sigma[t0] * sin_p1_[t0];
  }
  out[kM] = m;
  out[kAbsM] = std::abs(m);
  out[kM2] = m * m;
  out[kM4] = m * m * m * m;
  out[kMomentumP1] = (re * re + im * im) / volume_;
  for (int mu = 0; mu < dims(); ++mu) {
    const std::vector<int64_t>& forward = forward_[mu];
    double link = 0;
    for (int64_t x = 0; x < volume_; ++x) link += config[x] * config[forward[x]];
    out[link_column(mu)] = link;
  }
  for (int64_t t = 0; t < l0; ++t) {
    double sum = 0;
    for (int64_t t0 = 0; t0 < l0; ++t0) sum += sigma[t0] * sigma[(t0 + t) % l0];
    out[correlator_column(t)] = sum / volume_;
  }
  double phi2 = 0, phi4 = 0;
  for (int64_t x = 0; x < volume_; ++x) {
    const double square = config[x] * config[x];
    phi2 += square;
    phi4 += square * square;
  }
  out[phi2_column()] = phi2;
  out[phi4_column()] = phi4;
}

std::vector<double> Observables::compute(const std::vector<double>& configs, int64_t n) const {
  if (n < 0 || static_cast<int64_t>(configs.size()) != n * volume_) {
    throw std::invalid_argument("Observables::compute: " + std::to_string(configs.size()) +
                                " values are not " + std::to_string(n) + " configurations of " +
                                std::to_string(volume_) + " sites");
  }
  const int64_t columns = n_columns();
  std::vector<double> out(static_cast<size_t>(n * columns));
  for (int64_t i = 0; i < n; ++i) compute(configs.data() + i * volume_, out.data() + i * columns);
  return out;
}

double binder_cumulant(double m2, double m4) { return 1.0 - m4 / (3.0 * m2 * m2); }

double ising_energy(const std::vector<double>& g) {
  double sum = 0;
  for (double value : g) sum += value;
  return g.empty() ? std::numeric_limits<double>::quiet_NaN() : sum / g.size();
}

double effective_mass(double c_before, double c, double c_after) {
  const double argument = (c_before + c_after) / (2.0 * c);
  if (!std::isfinite(argument) || argument < 1.0) return std::numeric_limits<double>::quiet_NaN();
  return std::acosh(argument);
}

double second_moment_correlation_length(double g_zero, double g_p1, int64_t extent0) {
  const double s = std::sin(kPi / extent0);
  const double argument = (g_zero / g_p1 - 1.0) / (4.0 * s * s);
  if (!std::isfinite(argument) || argument < 0) return std::numeric_limits<double>::quiet_NaN();
  return std::sqrt(argument);
}

}  // namespace flowlat
