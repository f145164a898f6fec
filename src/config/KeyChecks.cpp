#include "config/KeyChecks.hpp"

#include <algorithm>
#include <limits>

namespace flowlat {
namespace {

std::string got(double value) { return " (got " + show_value(value) + ")"; }

}  // namespace

KeyCheck<double> positive() {
  return {"> 0", [](const double& value, const Config&) {
            return std::isfinite(value) && value > 0 ? std::string() : "must be > 0" + got(value);
          }};
}

KeyCheck<double> non_negative() {
  return {">= 0", [](const double& value, const Config&) {
            return std::isfinite(value) && value >= 0 ? std::string() : "must be >= 0" + got(value);
          }};
}

KeyCheck<double> real_in_range(double low, double high) {
  const std::string range = show_value(low) + " to " + show_value(high);
  return {range, [low, high](const double& value, const Config&) {
            return std::isfinite(value) && value >= low && value <= high
                       ? std::string()
                       : "must be in [" + show_value(low) + ", " + show_value(high) + "]" + got(value);
          }};
}

KeyCheck<double> real_below(double low, double high) {
  const std::string range = show_value(low) + " to < " + show_value(high);
  return {range, [low, high](const double& value, const Config&) {
            return std::isfinite(value) && value >= low && value < high
                       ? std::string()
                       : "must be in [" + show_value(low) + ", " + show_value(high) + ")" + got(value);
          }};
}

KeyCheck<double> representable(KeyCheck<double> check) {
  const double largest = std::numeric_limits<float>::max();
  check.allowed += (check.allowed.empty() ? "" : ", ") + std::string("finite in float32");
  auto inner = check.violation;
  check.violation = [inner, largest](const double& value, const Config& config) {
    const std::string violation = inner ? inner(value, config) : std::string();
    if (!violation.empty() || config.run.precision != Precision::Float32 || std::abs(value) <= largest) {
      return violation;
    }
    return "must be at most " + show_value(largest) + " in magnitude with run.precision: float32" + got(value);
  };
  return check;
}

KeyCheck<std::string> not_empty() {
  return {"not empty", [](const std::string& value, const Config&) {
            return value.empty() ? std::string("must not be empty") : std::string();
          }};
}

KeyCheck<std::string> one_of(const std::vector<std::string>& names) {
  return {join_names(names), [names](const std::string& value, const Config&) {
            if (std::find(names.begin(), names.end(), value) != names.end()) return std::string();
            return "must be " + describe_choices(names) + " (got '" + value + "')";
          }};
}

KeyCheck<std::vector<int64_t>> each_at_least(int64_t minimum) {
  return {"each >= " + show_value(minimum), [minimum](const std::vector<int64_t>& values, const Config&) {
            for (int64_t v : values) {
              if (v < minimum) return "every entry must be >= " + show_value(minimum) + got(static_cast<double>(v));
            }
            return std::string();
          }};
}

KeyCheck<std::vector<int64_t>> lattice_extents() {
  return {"1 to 3 extents, each even and >= 2, at most 2^30 sites", [](const std::vector<int64_t>& shape,
                                                                        const Config&) {
            if (shape.empty() || shape.size() > 3) {
              return "must have 1, 2 or 3 extents (got " + std::to_string(shape.size()) + ")";
            }
            // The volume is multiplied up against the limit, so extents whose
            // product overflows 64 bits are refused here, not inside LibTorch.
            constexpr int64_t kMaxVolume = int64_t{1} << 30;
            int64_t volume = 1;
            for (int64_t extent : shape) {
              if (extent < 2 || extent % 2 != 0) {
                return "every extent must be even and >= 2 (checkerboard masks) (got " + std::to_string(extent) +
                       ")";
              }
              if (extent > kMaxVolume / volume) {
                std::string extents;
                for (int64_t e : shape) extents += (extents.empty() ? "" : ", ") + std::to_string(e);
                return "the volume must be at most 2^30 = " + std::to_string(kMaxVolume) +
                       " sites (one configuration of more is beyond memory) (got [" + extents + "])";
              }
              volume *= extent;
            }
            return std::string();
          }};
}

KeyCheck<int64_t> kernel_size() {
  return {"odd, <= smallest extent + 1", [](const int64_t& size, const Config& config) {
            int64_t smallest = 0;
            for (int64_t extent : config.lattice.shape) smallest = smallest == 0 ? extent : std::min(smallest, extent);
            if (size >= 1 && size % 2 == 1 && size <= smallest + 1) return std::string();
            return "must be odd, >= 1 and <= smallest extent + 1 (circular padding) (got " + std::to_string(size) +
                   ")";
          }};
}

KeyCheck<double> mass_squared() {
  return {"finite; > 0 when lambda = 0", [](const double& m2, const Config& config) {
            if (!std::isfinite(m2)) return std::string("must be finite");
            if (config.action.lambda == 0 && m2 <= 0) {
              return "must be > 0 when lambda = 0 (free field needs a positive mass)" + got(m2);
            }
            return std::string();
          }};
}

KeyCheck<double> quartic_coupling() {
  return {">= 0", [](const double& lambda, const Config&) {
            return std::isfinite(lambda) && lambda >= 0
                       ? std::string()
                       : "must be >= 0 (the action is unbounded below otherwise)" + got(lambda);
          }};
}

KeyCheck<int64_t> tuning_budget() {
  return {">= 80; <= hmc.n_thermalization with hmc.tune: auto", [](const int64_t& trajectories, const Config& config) {
            // 2 blocks of 10 thermalise, 1 measures xi2, 4 adapt the step, 1 measures the acceptance.
            if (trajectories < 80) {
              return "must be >= 80 (the tuning thermalises, measures xi2, adapts the step size in at least 4 "
                     "blocks of 10 and measures the acceptance) (got " + std::to_string(trajectories) + ")";
            }
            if (config.hmc.tune == HmcTuning::Auto && trajectories > config.hmc.n_thermalization) {
              return "must be <= hmc.n_thermalization = " + std::to_string(config.hmc.n_thermalization) +
                     " with hmc.tune: auto: the tuning is part of the thermalisation (got " +
                     std::to_string(trajectories) + ")";
            }
            return std::string();
          }};
}

KeyCheck<int64_t> even_node_count() {
  return {"even, >= 2", [](const int64_t& nodes, const Config&) {
            if (nodes >= 2 && nodes % 2 == 0) return std::string();
            return "must be even and >= 2 (the quadrature error is estimated from nodes/2 more) (got " +
                   std::to_string(nodes) + ")";
          }};
}

KeyCheck<int64_t> warmup_budget() {
  return {">= 0, < train.steps", [](const int64_t& steps, const Config& config) {
            if (steps < 0) return "must be >= 0 (got " + std::to_string(steps) + ")";
            if (steps > 0 && steps >= config.train.steps) {
              return "must be < train.steps = " + std::to_string(config.train.steps) +
                     ": the warm-up would take the whole run (got " + std::to_string(steps) + ")";
            }
            return std::string();
          }};
}

KeyCheck<double> final_rate() {
  return {">= 0; <= train.lr with the cosine schedule", [](const double& rate, const Config& config) {
            if (!std::isfinite(rate) || rate < 0) return "must be >= 0" + got(rate);
            if (config.train.lr_schedule == LrSchedule::Cosine && rate > config.train.lr) {
              return "must be <= train.lr = " + show_value(config.train.lr) +
                     " with the cosine schedule (the rate would rise towards the end)" + got(rate);
            }
            return std::string();
          }};
}

KeyCheck<std::vector<CouplingKind>> layer_kinds() {
  return {"1 to flow.n_layers entries", [](const std::vector<CouplingKind>& kinds, const Config& config) {
            if (kinds.empty()) return std::string("must name at least one transformation");
            const auto layers = static_cast<size_t>(std::max<int64_t>(config.flow.n_layers, 1));
            if (kinds.size() > layers) {
              return "has " + std::to_string(kinds.size()) + " entries, more than the flow.n_layers = " +
                     std::to_string(config.flow.n_layers) + " layers it repeats over";
            }
            return std::string();
          }};
}

KeyCheck<int64_t> coupling_layers() {
  return {">= 0; >= 1 without a Fourier or ODE layer", [](const int64_t& layers, const Config& config) {
            if (layers < 0) return "must be >= 0 (got " + std::to_string(layers) + ")";
            if (layers == 0 && config.flow.fourier_layer == FourierLayerKind::None &&
                config.flow.ode_layer == OdeLayerKind::None) {
              return std::string(
                  "must be >= 1 unless flow.fourier_layer or flow.ode_layer is set: a flow without layers has "
                  "nothing to train (got 0)");
            }
            return std::string();
          }};
}

}  // namespace flowlat
