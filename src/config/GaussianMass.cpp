#include "config/GaussianMass.hpp"

#include <algorithm>
#include <cmath>

namespace flowlat {
namespace {

constexpr double kSmallestMass2 = 1e-3;
constexpr int64_t kLargestSum = int64_t{1} << 20;  // momenta summed per iteration

// `shape`, its largest extents halved (kept even) until at most kLargestSum
// sites: beyond ~1000^2 sites the momentum sum is the infinite-volume
// integral to far better than this initial guess needs, and a 30000^2
// lattice summed 500 times took minutes before any key was checked.
std::vector<int64_t> summed_shape(std::vector<int64_t> shape) {
  const auto volume = [&shape] {
    int64_t v = 1;
    for (int64_t extent : shape) v *= extent;
    return v;
  };
  while (volume() > kLargestSum) {
    int64_t& largest = *std::max_element(shape.begin(), shape.end());
    largest = std::max<int64_t>(2, largest / 4 * 2);
  }
  return shape;
}

// <phi^2> of the free field of mass squared `mass2` on the lattice.
double free_phi2(const std::vector<int64_t>& shape, const std::vector<std::vector<double>>& phat2, double mass2) {
  int64_t volume = 1;
  for (int64_t extent : shape) volume *= extent;
  double sum = 0;
  std::vector<int64_t> index(shape.size(), 0);
  for (int64_t site = 0; site < volume; ++site) {
    double p2 = 0;
    for (size_t d = 0; d < shape.size(); ++d) p2 += phat2[d][static_cast<size_t>(index[d])];
    sum += 1.0 / (2.0 * (p2 + mass2));
    for (size_t d = shape.size(); d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return sum / static_cast<double>(volume);
}

}  // namespace

double gaussian_mass2(const std::vector<int64_t>& lattice_shape, double m2, double lambda) {
  if (lambda == 0) return std::max(m2, kSmallestMass2);
  const std::vector<int64_t> shape = summed_shape(lattice_shape);
  std::vector<std::vector<double>> phat2;
  for (int64_t extent : shape) {
    std::vector<double> values;
    for (int64_t k = 0; k < extent; ++k) values.push_back(2.0 - 2.0 * std::cos(2.0 * M_PI * k / extent));
    phat2.push_back(values);
  }
  // Damped fixed-point iteration: the map is decreasing in m^2, so the
  // average of old and new values converges.
  double mass2 = std::max(1.0, m2);
  for (int iteration = 0; iteration < 500; ++iteration) {
    const double next = std::max(m2 + 6.0 * lambda * free_phi2(shape, phat2, mass2), kSmallestMass2);
    if (std::abs(next - mass2) < 1e-12 * std::max(1.0, mass2)) return next;
    mass2 = 0.5 * (mass2 + next);
  }
  return mass2;
}

}  // namespace flowlat
