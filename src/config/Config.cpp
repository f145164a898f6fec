#include "config/Config.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/ConfigError.hpp"
#include "config/ConfigSchema.hpp"

namespace flowlat {
namespace {

// Typed, located access to the YAML tree. Every message names the origin
// (file:line, or the --set override) and the full key.
class Reader {
 public:
  Reader(YAML::Node root, std::string origin, std::set<std::string> overridden)
      : root_(std::move(root)), origin_(std::move(origin)), overridden_(std::move(overridden)) {}

  YAML::Node node(const std::string& path) const {
    const auto dot = path.find('.');
    const YAML::Node section = root_[path.substr(0, dot)];
    if (!section) return YAML::Node(YAML::NodeType::Undefined);
    return section[path.substr(dot + 1)];
  }

  std::string where(const std::string& path) const {
    if (overridden_.count(path)) return "--set " + path;
    // yaml-cpp nodes are references: never assign to one, pick a copy.
    const YAML::Node key_node = node(path);
    const YAML::Node section = root_[path.substr(0, path.find('.'))];
    const YAML::Node located = key_node ? key_node : section;
    if (located && located.Mark().line >= 0) return origin_ + ":" + std::to_string(located.Mark().line + 1);
    return origin_;
  }

  [[noreturn]] void fail(const std::string& path, const std::string& message) const {
    throw ConfigError(where(path) + ": " + path + ": " + message);
  }

  // The node at `path` if present (type-checked), else nullptr-equivalent.
  YAML::Node present(const std::string& path) const {
    const KeySpec* spec = find_key(path);
    YAML::Node n = node(path);
    if (!n || n.IsNull()) {
      if (spec->requirement == Requirement::Required) fail(path, "missing required key");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    const bool list = spec->kind == ValueKind::IntegerList;
    if (list ? !n.IsSequence() : !n.IsScalar()) fail(path, wrong_type(spec->kind, n));
    return n;
  }

  int64_t integer(const std::string& path, int64_t fallback) const {
    const YAML::Node n = present(path);
    return n ? scalar<int64_t>(path, n, ValueKind::Integer) : fallback;
  }
  double real(const std::string& path, double fallback) const {
    const YAML::Node n = present(path);
    return n ? scalar<double>(path, n, ValueKind::Real) : fallback;
  }
  bool boolean(const std::string& path, bool fallback) const {
    const YAML::Node n = present(path);
    return n ? scalar<bool>(path, n, ValueKind::Boolean) : fallback;
  }
  std::string string(const std::string& path, const std::string& fallback) const {
    const YAML::Node n = present(path);
    return n ? n.Scalar() : fallback;
  }
  std::vector<int64_t> integers(const std::string& path, std::vector<int64_t> fallback) const {
    const YAML::Node n = present(path);
    if (!n) return fallback;
    std::vector<int64_t> values;
    for (const auto& item : n) {
      if (!item.IsScalar()) fail(path, wrong_type(ValueKind::IntegerList, n));
      values.push_back(scalar<int64_t>(path, item, ValueKind::IntegerList));
    }
    return values;
  }

 private:
  template <typename T>
  T scalar(const std::string& path, const YAML::Node& n, ValueKind kind) const {
    try {
      return n.as<T>();
    } catch (const YAML::Exception&) {
      fail(path, wrong_type(kind, n));
    }
  }
  static std::string wrong_type(ValueKind kind, const YAML::Node& n) {
    std::ostringstream text;
    text << "must be " << to_string(kind) << " (got ";
    if (n.IsScalar()) {
      text << "'" << n.Scalar() << "'";
    } else {
      text << (n.IsSequence() ? "a list" : "a mapping");
    }
    text << ")";
    return text.str();
  }

  YAML::Node root_;
  std::string origin_;
  std::set<std::string> overridden_;
};

void require(const Reader& in, bool ok, const std::string& path, const std::string& message) {
  if (!ok) in.fail(path, message);
}

template <typename T>
std::string got(const T& value) {
  std::ostringstream text;
  text << " (got " << value << ")";
  return text.str();
}

// Every key in the file must be in the schema; the message suggests the
// nearest valid one.
void reject_unknown_keys(const YAML::Node& root, const std::string& origin) {
  auto fail = [&](const YAML::Node& key, const std::string& path) {
    std::ostringstream text;
    text << origin << ":" << key.Mark().line + 1 << ": unknown key '" << path << "'";
    const std::string nearest = nearest_key(path);
    if (!nearest.empty()) text << " (did you mean '" << nearest << "'?)";
    throw ConfigError(text.str());
  };
  static const std::set<std::string> sections{"lattice", "action", "flow", "train", "run", "sample", "hmc"};
  for (const auto& entry : root) {
    const std::string section = entry.first.Scalar();
    if (!sections.count(section)) fail(entry.first, section);
    if (entry.second.IsNull()) continue;
    if (!entry.second.IsMap()) {
      throw ConfigError(origin + ":" + std::to_string(entry.first.Mark().line + 1) + ": " +
                        section + ": must be a mapping of keys");
    }
    for (const auto& key : entry.second) {
      const std::string path = section + "." + key.first.Scalar();
      if (!find_key(path)) fail(key.first, path);
    }
  }
}

// "train.lr=1e-3" -> root[train][lr] = 1e-3 (value parsed as YAML).
std::string apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError("--set " + assignment + ": expected key.path=value");
  }
  const std::string path = assignment.substr(0, eq);
  if (!find_key(path)) {
    throw ConfigError("--set " + assignment + ": unknown key '" + path + "' (did you mean '" +
                      nearest_key(path) + "'?)");
  }
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set " + assignment + ": value is not valid YAML: " + e.msg);
  }
  const auto dot = path.find('.');
  const std::string section = path.substr(0, dot);
  if (!root[section] || root[section].IsNull()) root[section] = YAML::Node(YAML::NodeType::Map);
  root[section][path.substr(dot + 1)] = value;
  return path;
}

DeviceKind parse_device(const Reader& in) {
  const std::string text = in.string("run.device", "auto");
  if (text == "cpu") return DeviceKind::Cpu;
  if (text == "cuda") return DeviceKind::Cuda;
  if (text == "auto") return DeviceKind::Auto;
  in.fail("run.device", "must be one of cpu, cuda, auto (got '" + text + "')");
}

Precision parse_precision(const Reader& in) {
  const std::string text = in.string("run.precision", "float32");
  if (text == "float32") return Precision::Float32;
  if (text == "float64") return Precision::Float64;
  in.fail("run.precision", "must be float32 or float64 (got '" + text + "')");
}

void read_lattice_and_action(const Reader& in, Config& c) {
  c.lattice.shape = in.integers("lattice.shape", {});
  const auto d = c.lattice.shape.size();
  require(in, d >= 1 && d <= 3, "lattice.shape", "must have 1, 2 or 3 extents" + got(d));
  for (int64_t extent : c.lattice.shape) {
    require(in, extent >= 2 && extent % 2 == 0, "lattice.shape",
            "every extent must be even and >= 2 (checkerboard masks)" + got(extent));
  }
  c.action.kind = in.string("action.kind", "");
  require(in, c.action.kind == "phi4", "action.kind", "must be phi4 (got '" + c.action.kind + "')");
  c.action.m2 = in.real("action.m2", 0.0);
  c.action.lambda = in.real("action.lambda", 0.0);
  require(in, std::isfinite(c.action.m2), "action.m2", "must be finite");
  require(in, std::isfinite(c.action.lambda) && c.action.lambda >= 0, "action.lambda",
          "must be >= 0 (the action is unbounded below otherwise)" + got(c.action.lambda));
  require(in, c.action.lambda > 0 || c.action.m2 > 0, "action.m2",
          "must be > 0 when lambda = 0 (free field needs a positive mass)" + got(c.action.m2));
}

void read_flow(const Reader& in, Config& c) {
  FlowConfig& f = c.flow;
  f.n_layers = in.integer("flow.n_layers", f.n_layers);
  require(in, f.n_layers >= 1, "flow.n_layers", "must be >= 1" + got(f.n_layers));
  f.hidden_channels = in.integers("flow.hidden_channels", f.hidden_channels);
  for (int64_t h : f.hidden_channels) {
    require(in, h >= 1, "flow.hidden_channels", "every entry must be >= 1" + got(h));
  }
  f.kernel_size = in.integer("flow.kernel_size", f.kernel_size);
  int64_t smallest = 0;
  for (int64_t extent : c.lattice.shape) smallest = smallest == 0 ? extent : std::min(smallest, extent);
  require(in, f.kernel_size >= 1 && f.kernel_size % 2 == 1 && f.kernel_size <= smallest + 1,
          "flow.kernel_size",
          "must be odd, >= 1 and <= smallest extent + 1 (circular padding)" + got(f.kernel_size));
  f.final_tanh = in.boolean("flow.final_tanh", f.final_tanh);
}

void read_train(const Reader& in, Config& c) {
  TrainConfig& t = c.train;
  auto positive = [&](const std::string& path, int64_t& value) {
    value = in.integer(path, value);
    require(in, value >= 1, path, "must be >= 1" + got(value));
  };
  positive("train.steps", t.steps);
  positive("train.batch_size", t.batch_size);
  t.lr = in.real("train.lr", t.lr);
  require(in, std::isfinite(t.lr) && t.lr > 0, "train.lr", "must be > 0" + got(t.lr));
  const int64_t seed = in.integer("train.seed", static_cast<int64_t>(t.seed));
  require(in, seed >= 0, "train.seed", "must be >= 0" + got(seed));
  t.seed = static_cast<uint64_t>(seed);
  positive("train.log_every", t.log_every);
  positive("train.check_every", t.check_every);
  positive("train.max_skipped_steps", t.max_skipped_steps);
  positive("train.checkpoint_every", t.checkpoint_every);
}

void read_run(const Reader& in, Config& c, const std::string& origin) {
  const std::string stem = std::filesystem::path(origin).stem().string();
  c.run.output_dir = in.string("run.output_dir", "runs/" + (stem.empty() ? "flowlat" : stem));
  require(in, !c.run.output_dir.empty(), "run.output_dir", "must not be empty");
  c.run.device = parse_device(in);
  c.run.precision = parse_precision(in);
  c.run.threads_per_rank = in.integer("run.threads_per_rank", c.run.threads_per_rank);
  require(in, c.run.threads_per_rank >= 1 && c.run.threads_per_rank <= 1024, "run.threads_per_rank",
          "must be in [1, 1024]" + got(c.run.threads_per_rank));
  const std::string resume = in.string("run.resume", "never");
  if (resume == "never") {
    c.run.resume = ResumeMode::Never;
  } else if (resume == "auto") {
    c.run.resume = ResumeMode::Auto;
  } else {
    in.fail("run.resume", "must be never or auto (got '" + resume + "')");
  }
  const std::string walltime = in.string("run.max_walltime", "0");
  try {
    c.run.max_walltime_seconds = parse_walltime(walltime);
  } catch (const std::invalid_argument&) {
    in.fail("run.max_walltime",
            "must be seconds or [D-]HH:MM:SS, >= 0; 0 means no limit (got '" + walltime + "')");
  }
}

void read_sample(const Reader& in, Config& c) {
  SampleConfig& s = c.sample;
  s.n_configs = in.integer("sample.n_configs", s.n_configs);
  require(in, s.n_configs >= 1, "sample.n_configs", "must be >= 1" + got(s.n_configs));
  s.batch_size = in.integer("sample.batch_size", s.batch_size);
  require(in, s.batch_size >= 1, "sample.batch_size", "must be >= 1" + got(s.batch_size));
  for (auto [path, target] : {std::pair{"sample.seed", &s.seed}, std::pair{"sample.mcmc_seed", &s.mcmc_seed}}) {
    const int64_t seed = in.integer(path, static_cast<int64_t>(*target));
    require(in, seed >= 0, path, "must be >= 0" + got(seed));
    *target = static_cast<uint64_t>(seed);
  }
  s.store_configs = in.boolean("sample.store_configs", s.store_configs);
  s.output = in.string("sample.output", s.output);
  require(in, !s.output.empty(), "sample.output", "must not be empty");
}

void read_hmc(const Reader& in, Config& c) {
  HmcConfig& h = c.hmc;
  auto at_least = [&](const std::string& path, int64_t& value, int64_t minimum) {
    value = in.integer(path, value);
    require(in, value >= minimum, path, "must be >= " + std::to_string(minimum) + got(value));
  };
  at_least("hmc.n_trajectories", h.n_trajectories, 1);
  at_least("hmc.n_thermalization", h.n_thermalization, 0);
  at_least("hmc.n_md_steps", h.n_md_steps, 1);
  at_least("hmc.n_chains", h.n_chains, 1);
  h.step_size = in.real("hmc.step_size", h.step_size);
  require(in, std::isfinite(h.step_size) && h.step_size > 0, "hmc.step_size", "must be > 0" + got(h.step_size));
  h.integrator = in.string("hmc.integrator", h.integrator);
  require(in, h.integrator == "leapfrog" || h.integrator == "omelyan", "hmc.integrator",
          "must be leapfrog or omelyan (got '" + h.integrator + "')");
  const int64_t seed = in.integer("hmc.seed", static_cast<int64_t>(h.seed));
  require(in, seed >= 0, "hmc.seed", "must be >= 0" + got(seed));
  h.seed = static_cast<uint64_t>(seed);
  h.output = in.string("hmc.output", h.output);
  require(in, !h.output.empty(), "hmc.output", "must not be empty");
}

}  // namespace

double parse_walltime(const std::string& text) {
  // Accepted: "3600", "90.5", "45:00", "12:00:00", "1-12:00:00".
  if (text.empty()) throw std::invalid_argument("empty wall time");
  std::string rest = text;
  double days = 0;
  if (const auto dash = rest.find('-'); dash != std::string::npos) {
    if (dash == 0) throw std::invalid_argument("negative wall time");
    days = std::stod(rest.substr(0, dash));
    rest = rest.substr(dash + 1);
  }
  std::vector<double> fields;
  std::stringstream parts(rest);
  for (std::string field; std::getline(parts, field, ':');) {
    size_t used = 0;
    const double value = std::stod(field, &used);
    if (used != field.size() || !std::isfinite(value) || value < 0) throw std::invalid_argument(text);
    fields.push_back(value);
  }
  if (fields.empty() || fields.size() > 3 || (days > 0 && fields.size() != 3)) throw std::invalid_argument(text);
  double seconds = 0;
  for (double f : fields) seconds = seconds * 60 + f;
  return seconds + days * 86400;
}

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(origin + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError(origin + ": top level must be a mapping of sections");
  reject_unknown_keys(root, origin);

  std::set<std::string> overridden;
  for (const auto& assignment : overrides) overridden.insert(apply_override(root, assignment));

  const Reader in(root, origin, overridden);
  Config c;
  c.source_file = origin;
  read_lattice_and_action(in, c);
  read_flow(in, c);
  read_train(in, c);
  read_run(in, c, origin);
  read_sample(in, c);
  read_hmc(in, c);
  return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream file(path);
  if (!file) throw ConfigError(path + ": cannot open configuration file");
  std::stringstream text;
  text << file.rdbuf();
  return parse_config(text.str(), path, overrides);
}

const char* to_string(DeviceKind kind) {
  switch (kind) {
    case DeviceKind::Cpu: return "cpu";
    case DeviceKind::Cuda: return "cuda";
    case DeviceKind::Auto: return "auto";
  }
  return "?";
}

const char* to_string(ResumeMode mode) { return mode == ResumeMode::Auto ? "auto" : "never"; }

const char* to_string(Precision precision) {
  return precision == Precision::Float32 ? "float32" : "float64";
}

std::string Config::resolved_yaml() const {
  YAML::Emitter out;
  out.SetDoublePrecision(17);
  auto list = [&](const std::vector<int64_t>& values) {
    out << YAML::Flow << YAML::BeginSeq;
    for (int64_t v : values) out << v;
    out << YAML::EndSeq;
  };
  out << YAML::BeginMap;
  out << YAML::Key << "lattice" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "shape" << YAML::Value;
  list(lattice.shape);
  out << YAML::EndMap;
  out << YAML::Key << "action" << YAML::Value << YAML::BeginMap << YAML::Key << "kind" << YAML::Value
      << action.kind << YAML::Key << "m2" << YAML::Value << action.m2 << YAML::Key << "lambda"
      << YAML::Value << action.lambda << YAML::EndMap;
  out << YAML::Key << "flow" << YAML::Value << YAML::BeginMap << YAML::Key << "n_layers" << YAML::Value
      << flow.n_layers << YAML::Key << "hidden_channels" << YAML::Value;
  list(flow.hidden_channels);
  out << YAML::Key << "kernel_size" << YAML::Value << flow.kernel_size << YAML::Key << "final_tanh"
      << YAML::Value << flow.final_tanh << YAML::EndMap;
  out << YAML::Key << "train" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "steps" << YAML::Value << train.steps;
  out << YAML::Key << "batch_size" << YAML::Value << train.batch_size;
  out << YAML::Key << "lr" << YAML::Value << train.lr;
  out << YAML::Key << "seed" << YAML::Value << train.seed;
  out << YAML::Key << "log_every" << YAML::Value << train.log_every;
  out << YAML::Key << "check_every" << YAML::Value << train.check_every;
  out << YAML::Key << "max_skipped_steps" << YAML::Value << train.max_skipped_steps;
  out << YAML::Key << "checkpoint_every" << YAML::Value << train.checkpoint_every;
  out << YAML::EndMap;
  out << YAML::Key << "run" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "output_dir" << YAML::Value << run.output_dir;
  out << YAML::Key << "device" << YAML::Value << to_string(run.device);
  out << YAML::Key << "precision" << YAML::Value << to_string(run.precision);
  out << YAML::Key << "threads_per_rank" << YAML::Value << run.threads_per_rank;
  out << YAML::Key << "resume" << YAML::Value << to_string(run.resume);
  out << YAML::Key << "max_walltime" << YAML::Value << run.max_walltime_seconds;
  out << YAML::EndMap;
  out << YAML::Key << "sample" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "n_configs" << YAML::Value << sample.n_configs;
  out << YAML::Key << "batch_size" << YAML::Value << sample.batch_size;
  out << YAML::Key << "seed" << YAML::Value << sample.seed;
  out << YAML::Key << "mcmc_seed" << YAML::Value << sample.mcmc_seed;
  out << YAML::Key << "store_configs" << YAML::Value << sample.store_configs;
  out << YAML::Key << "output" << YAML::Value << sample.output;
  out << YAML::EndMap;
  out << YAML::Key << "hmc" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "n_trajectories" << YAML::Value << hmc.n_trajectories;
  out << YAML::Key << "n_thermalization" << YAML::Value << hmc.n_thermalization;
  out << YAML::Key << "step_size" << YAML::Value << hmc.step_size;
  out << YAML::Key << "n_md_steps" << YAML::Value << hmc.n_md_steps;
  out << YAML::Key << "integrator" << YAML::Value << hmc.integrator;
  out << YAML::Key << "n_chains" << YAML::Value << hmc.n_chains;
  out << YAML::Key << "seed" << YAML::Value << hmc.seed;
  out << YAML::Key << "output" << YAML::Value << hmc.output;
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace flowlat
