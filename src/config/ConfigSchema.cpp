#include "config/ConfigSchema.hpp"

#include <algorithm>
#include <limits>

namespace flowlat {

const std::vector<KeySpec>& config_schema() {
  using V = ValueKind;
  constexpr auto req = Requirement::Required;
  constexpr auto opt = Requirement::Optional;
  static const std::vector<KeySpec> schema = {
      {"lattice.shape", V::IntegerList, req},
      {"action.kind", V::String, req},
      {"action.m2", V::Real, req},
      {"action.lambda", V::Real, req},
      {"flow.n_layers", V::Integer, opt},
      {"flow.hidden_channels", V::IntegerList, opt},
      {"flow.kernel_size", V::Integer, opt},
      {"flow.final_tanh", V::Boolean, opt},
      {"train.steps", V::Integer, opt},
      {"train.batch_size", V::Integer, opt},
      {"train.lr", V::Real, opt},
      {"train.seed", V::Integer, opt},
      {"train.log_every", V::Integer, opt},
      {"train.check_every", V::Integer, opt},
      {"train.max_skipped_steps", V::Integer, opt},
      {"train.checkpoint_every", V::Integer, opt},
      {"run.output_dir", V::String, opt},
      {"run.device", V::String, opt},
      {"run.precision", V::String, opt},
      {"run.threads_per_rank", V::Integer, opt},
      {"run.resume", V::String, opt},
      {"run.max_walltime", V::String, opt},
      {"sample.n_configs", V::Integer, opt},
      {"sample.batch_size", V::Integer, opt},
      {"sample.seed", V::Integer, opt},
      {"sample.mcmc_seed", V::Integer, opt},
      {"sample.store_configs", V::Boolean, opt},
      {"sample.output", V::String, opt},
      {"hmc.n_trajectories", V::Integer, opt},
      {"hmc.n_thermalization", V::Integer, opt},
      {"hmc.step_size", V::Real, opt},
      {"hmc.n_md_steps", V::Integer, opt},
      {"hmc.integrator", V::String, opt},
      {"hmc.n_chains", V::Integer, opt},
      {"hmc.seed", V::Integer, opt},
      {"hmc.output", V::String, opt},
  };
  return schema;
}

const KeySpec* find_key(const std::string& path) {
  for (const auto& spec : config_schema()) {
    if (spec.path == path) return &spec;
  }
  return nullptr;
}

namespace {
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string nearest_key(const std::string& path) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const auto& spec : config_schema()) {
    const size_t d = edit_distance(path, spec.path);
    if (d < best_distance) {
      best_distance = d;
      best = spec.path;
    }
  }
  // Sections are candidates too ("trian" -> "train").
  for (const char* section : {"lattice", "action", "flow", "train", "run", "sample", "hmc"}) {
    const size_t d = edit_distance(path, section);
    if (d < best_distance) {
      best_distance = d;
      best = section;
    }
  }
  return best;
}

const char* to_string(ValueKind kind) {
  switch (kind) {
    case ValueKind::Integer: return "an integer";
    case ValueKind::Real: return "a number";
    case ValueKind::Boolean: return "true or false";
    case ValueKind::String: return "a string";
    case ValueKind::IntegerList: return "a list of integers";
  }
  return "?";
}

}  // namespace flowlat
