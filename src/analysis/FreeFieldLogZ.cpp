#include "analysis/FreeFieldLogZ.hpp"

#include <cmath>
#include <stdexcept>

namespace flowlat {

double free_field_log_z(const std::vector<int64_t>& shape, double m2) {
  if (!(m2 > 0)) throw std::invalid_argument("free_field_log_z: needs m2 > 0 (the zero mode is unbounded)");
  int64_t volume = 1;
  for (int64_t extent : shape) volume *= extent;
  double sum_log = 0.0;
  for (int64_t site = 0; site < volume; ++site) {
    double phat2 = m2;
    int64_t rest = site;
    for (int64_t extent : shape) {
      const int64_t n = rest % extent;
      rest /= extent;
      phat2 += 2.0 - 2.0 * std::cos(2.0 * M_PI * static_cast<double>(n) / static_cast<double>(extent));
    }
    sum_log += std::log(phat2);
  }
  return 0.5 * static_cast<double>(volume) * std::log(M_PI) - 0.5 * sum_log;
}

}  // namespace flowlat
