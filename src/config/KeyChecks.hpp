#pragma once
// The checks a key's value must pass (the `check` column of the section
// tables): what is allowed, as text for `flowlat keys`, and the message
// for a value that is not. A check sees the whole parsed configuration, so
// it may depend on other keys (flow.kernel_size on lattice.shape). Internal
// to src/config.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "config/Config.hpp"
#include "config/ValueCodec.hpp"

namespace flowlat {

template <typename T>
struct KeyCheck {
  std::string allowed;  // ">= 1"; empty: any value of the type
  // "must be >= 1 (got 0)" for a value that is not allowed, else "".
  std::function<std::string(const T& value, const Config& config)> violation;
};

template <typename T>
KeyCheck<T> any_value() {
  return {};
}

template <typename T>
KeyCheck<T> at_least(T minimum) {
  const std::string bound = show_value(minimum);
  return {">= " + bound, [minimum, bound](const T& value, const Config&) {
            return value >= minimum ? std::string() : "must be >= " + bound + " (got " + show_value(value) + ")";
          }};
}

template <typename T>
KeyCheck<T> in_range(T low, T high) {
  const std::string range = show_value(low) + " to " + show_value(high);
  return {range, [low, high](const T& value, const Config&) {
            return value >= low && value <= high
                       ? std::string()
                       : "must be in [" + show_value(low) + ", " + show_value(high) + "] (got " + show_value(value) +
                             ")";
          }};
}

// Finite and > 0.
KeyCheck<double> positive();
// Finite and >= 0.
KeyCheck<double> non_negative();
// Finite and in [low, high].
KeyCheck<double> real_in_range(double low, double high);
// Finite and in [low, high): "0 to < 1", not a rounded-up upper bound.
KeyCheck<double> real_below(double low, double high);
// `check`, and, with run.precision: float32, a magnitude float32 can hold
// (the value enters float32 tensors: a larger one fails inside LibTorch).
KeyCheck<double> representable(KeyCheck<double> check);
KeyCheck<std::string> not_empty();
KeyCheck<std::string> one_of(const std::vector<std::string>& names);
KeyCheck<std::vector<int64_t>> each_at_least(int64_t minimum);

// Domain checks of single keys.
KeyCheck<std::vector<int64_t>> lattice_extents();  // 1 to 3 extents, each even and >= 2
KeyCheck<int64_t> kernel_size();                   // odd, <= smallest extent + 1
KeyCheck<double> mass_squared();                   // finite; > 0 when lambda = 0
KeyCheck<double> quartic_coupling();               // finite, >= 0
KeyCheck<int64_t> coupling_layers();               // >= 0, >= 1 without a Fourier or ODE layer
KeyCheck<int64_t> tuning_budget();                 // >= 80, <= hmc.n_thermalization when tuning
KeyCheck<int64_t> even_node_count();               // even, >= 2 (ti.nodes/2 estimate the quadrature error)
KeyCheck<int64_t> warmup_budget();                 // >= 0, < train.steps
KeyCheck<double> final_rate();                     // >= 0, <= train.lr with the cosine schedule
KeyCheck<std::vector<CouplingKind>> layer_kinds(); // 1 to flow.n_layers entries

}  // namespace flowlat
