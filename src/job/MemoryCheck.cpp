#include "job/MemoryCheck.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "config/ConfigError.hpp"
#include "io/ByteCount.hpp"
#include "parallel/CollectiveError.hpp"

namespace flowlat {
namespace {

constexpr double kLibraries = 100e6;  // LibTorch, MPI and HDF5 loaded: ~185 MB measured

double sites(const Config& config) {
  double volume = 1;
  for (const int64_t extent : config.lattice.shape) volume *= static_cast<double>(extent);
  return volume;
}

double value_bytes(const Config& config) { return config.run.precision == Precision::Float32 ? 4 : 8; }

bool uses_splines(const Config& config) {
  return std::find(config.flow.coupling.begin(), config.flow.coupling.end(), CouplingKind::Spline) !=
         config.flow.coupling.end();
}

// Network parameters: every coupling's convolutions, 1 -> hidden... -> outputs.
double parameters(const Config& config) {
  double kernel = 1;
  for (size_t d = 0; d < config.lattice.shape.size(); ++d) kernel *= static_cast<double>(config.flow.kernel_size);
  const double outputs = uses_splines(config) ? 3.0 * static_cast<double>(config.flow.spline_bins) + 1 : 2;
  double per_layer = 0, in = 1;
  for (const int64_t hidden : config.flow.hidden_channels) {
    per_layer += (in * static_cast<double>(hidden) + static_cast<double>(hidden)) * kernel;
    in = static_cast<double>(hidden);
  }
  per_layer += (in * outputs + outputs) * kernel;
  return static_cast<double>(config.flow.n_layers) * per_layer;
}

double hidden_sum(const Config& config) {
  double sum = 0;
  for (const int64_t hidden : config.flow.hidden_channels) sum += static_cast<double>(hidden);
  return sum;
}

double hidden_max(const Config& config) {
  int64_t largest = 0;
  for (const int64_t hidden : config.flow.hidden_channels) largest = std::max(largest, hidden);
  return static_cast<double>(largest);
}

std::string shape_text(const Config& config) {
  std::string text;
  for (const int64_t extent : config.lattice.shape) text += (text.empty() ? "" : ", ") + std::to_string(extent);
  return "[" + text + "]";
}

// What the estimate is made of and which keys lower it, for the message.
std::string composition(const Config& config, MemoryUse use, int ranks) {
  const std::string lattice = "lattice.shape " + shape_text(config) + " (" + std::to_string(
                                  static_cast<long long>(sites(config))) + " sites)";
  switch (use) {
    case MemoryUse::Train:
      return lattice + " x train.batch_size " + std::to_string(config.train.batch_size) + " over " +
             std::to_string(ranks) + " rank(s), with flow.n_layers " + std::to_string(config.flow.n_layers) +
             " and flow.hidden_channels; lower train.batch_size or lattice.shape, or use more nodes";
    case MemoryUse::Sample:
      return lattice + " x sample.batch_size " + std::to_string(config.sample.batch_size) + " per rank" +
             (config.sample.anneal_steps > 0 ? ", annealed (sample.anneal_steps " +
                                                   std::to_string(config.sample.anneal_steps) +
                                                   ": gradients through the flow)"
                                             : "") +
             "; lower sample.batch_size or lattice.shape";
    case MemoryUse::Hmc:
      return lattice + " x hmc.n_chains " + std::to_string(config.hmc.n_chains) +
             " per rank; lower hmc.n_chains or lattice.shape";
  }
  return lattice;
}

// A number read from `path` ("max" and unreadable files give infinity).
double number_in(const std::string& path) {
  std::ifstream in(path);
  double value = 0;
  if (!(in >> value)) return INFINITY;
  return value;
}

}  // namespace

double rank_memory_bytes(const Config& config, MemoryUse use, int ranks) {
  const double volume = sites(config), bytes = value_bytes(config);
  const auto share = [ranks](int64_t total) {
    return std::ceil(static_cast<double>(total) / static_cast<double>(std::max(1, ranks)));
  };
  const double layers = static_cast<double>(config.flow.n_layers);
  const double spline_values = uses_splines(config) ? 3.0 * static_cast<double>(config.flow.spline_bins) : 0;
  // The ODE layer's velocity: its features (phase, sin, cos: 3 F) and
  // mixtures with their spectra (about 3 C), per site, sample and evaluation.
  const bool ode = config.flow.ode_layer != OdeLayerKind::None;
  const double ode_values = ode ? 3.0 * static_cast<double>(config.flow.ode_frequencies + config.flow.ode_channels) : 0;
  const double ode_evaluations = ode ? 4.0 * static_cast<double>(config.flow.ode_pieces * config.flow.ode_substeps) : 0;
  // Kept for a backward pass, per site and sample: each coupling's hidden
  // activations, its outputs and the field; every velocity evaluation of
  // the ODE layer.
  const double backward_per_site =
      layers * (hidden_sum(config) + 6 + spline_values) + ode_evaluations * ode_values;
  switch (use) {
    case MemoryUse::Train:
      return kLibraries + 4 * parameters(config) * bytes +
             share(config.train.batch_size) * volume * backward_per_site * bytes;
    case MemoryUse::Sample: {
      const double batch = static_cast<double>(config.sample.batch_size);
      if (config.sample.anneal_steps > 0) {
        // Annealing moves the latent fields by gradients through the flow:
        // a backward pass per batch, plus the latent field, its momentum
        // and force and the field at the start of the move.
        return kLibraries + 2 * parameters(config) * bytes + batch * volume * (backward_per_site + 4) * bytes;
      }
      // No backward pass: one layer's activations at a time.
      const double per_site = std::max(hidden_max(config) + 8 + spline_values, ode_values);
      return kLibraries + parameters(config) * bytes + batch * volume * per_site * bytes;
    }
    case MemoryUse::Hmc:
      // hmc.n_chains per rank: field, momentum, force and the saved field, in float64.
      return kLibraries + static_cast<double>(config.hmc.n_chains) * volume * 8 * 8;
  }
  return kLibraries;
}

double available_memory_bytes() {
  double available = INFINITY;
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    double kilobytes = 0;
    if (fields >> kilobytes) available = kilobytes * 1024;
  }
  // A cgroup v2 limit (SLURM's ConstrainRAMSpace) below the node's memory.
  const double limit = number_in("/sys/fs/cgroup/memory.max"), used = number_in("/sys/fs/cgroup/memory.current");
  if (std::isfinite(limit) && std::isfinite(used)) available = std::min(available, limit - used);
  return available;
}

void check_memory(const Config& config, MemoryUse use, bool on_cpu, const Communicator& comm) {
  const NodeLayout node = NodeLayout::of(comm);
  run_collectively(comm, [&] {
    if (!on_cpu || node.local_rank != 0) return;
    const double per_rank = rank_memory_bytes(config, use, comm.size());
    const double needed = per_rank * node.local_size, available = available_memory_bytes();
    if (needed <= available) return;
    throw ConfigError(config.source_file + ": the run needs at least " + byte_count_text(needed) +
                      " of memory on this node (" + std::to_string(node.local_size) + " rank(s) x " +
                      byte_count_text(per_rank) + ": " + composition(config, use, comm.size()) + "), but " +
                      byte_count_text(available) + " are available; nothing was created");
  });
}

}  // namespace flowlat
