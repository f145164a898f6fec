#include "analysis/CouplingShift.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "analysis/Jackknife.hpp"
#include "analysis/WeightTail.hpp"
#include "config/ConfigError.hpp"

namespace flowlat {

CouplingShift shift_couplings(const EnsembleReader& reader, const std::vector<double>& sum_phi2,
                              const std::vector<double>& sum_phi4, const std::vector<double>& log_w,
                              const Phi4Couplings& to, int n_blocks) {
  for (const char* name : {"m2", "lambda"}) {
    if (!reader.has_attribute(name)) {
      throw ConfigError(reader.path() + ": records no coupling " + name + " to reweight from");
    }
  }
  if (reader.has_attribute("action") && reader.attribute_string("action") != "phi4") {
    throw ConfigError(reader.path() + ": reweighting to other couplings needs a phi4 ensemble (action " +
                      reader.attribute_string("action") + ")");
  }
  CouplingShift shift{{reader.attribute_double("m2"), reader.attribute_double("lambda")}, to, {}, 0};
  const double dm2 = to.m2 - shift.from.m2, dlambda = to.lambda - shift.from.lambda;
  std::vector<double> shifted(log_w.size());
  double top = -std::numeric_limits<double>::infinity(), top_w = top;
  for (size_t i = 0; i < log_w.size(); ++i) {
    shifted[i] = log_w[i] - dm2 * sum_phi2[i] - dlambda * sum_phi4[i];
    top = std::max(top, shifted[i]);
    top_w = std::max(top_w, log_w[i]);
  }
  std::vector<double> u(log_w.size()), w(log_w.size());
  long double s1 = 0, s2 = 0;
  for (size_t i = 0; i < log_w.size(); ++i) {
    u[i] = std::exp(shifted[i] - top);
    w[i] = std::exp(log_w[i] - top_w);
    s1 += u[i];
    s2 += static_cast<long double>(u[i]) * u[i];
  }
  const JackknifeResult r = jackknife({u, w}, n_blocks, [top, top_w](const std::vector<double>& m) {
    return top - top_w + std::log(m[0]) - std::log(m[1]);
  });
  shift.delta_log_z = {r.value, r.error, pareto_tail_shape(shifted)};
  shift.ess = static_cast<double>(s1 * s1 / (s2 * static_cast<long double>(u.size())));
  return shift;
}

}  // namespace flowlat
