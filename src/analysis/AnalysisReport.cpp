#include "analysis/AnalysisReport.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "io/AtomicFile.hpp"
#include "config/ConfigError.hpp"
#include "io/H5Dataset.hpp"
#include "io/H5File.hpp"

namespace flowlat {
namespace {

constexpr const char* kCorrelatorDefinition =
    "C(t) = (1/V) sum_{x,y: y_0 - x_0 = t} <phi(x) phi(y)>, t along axis 0; not connected "
    "(<M> = 0 by symmetry)";
constexpr const char* kEffectiveMassDefinition =
    "m_eff(t) = arccosh[(C(t-1) + C(t+1)) / (2 C(t))], null where the argument < 1";
constexpr const char* kStoredColumns =
    "reweighted_value reweighted_error chain_value chain_error tau_int tau_int_error";

std::string format(const char* pattern, double a, double b = 0) {
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, pattern, a, b);
  return buffer;
}

// `text` right-aligned in `width` columns. Local.
std::string right(const std::string& text, size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}

// "value +/- error" in 27 columns, rounded so that the error keeps two
// significant digits; "-" where the value does not apply, "?" for an
// undefined error.
std::string value_error(double value, double error) {
  if (std::isnan(value)) return right("-", 27);
  if (std::isnan(error)) return format("%13.7g +/- ?        ", value);
  if (!(error > 0) || !std::isfinite(error) || std::abs(value) >= 1e7) {
    return format("%13.7g +/- %-9.2g", value, error);
  }
  const int decimals = std::max(0, std::min(9, 1 - static_cast<int>(std::floor(std::log10(error)))));
  char buffer[128];
  std::snprintf(buffer, sizeof buffer, "%13.*f +/- %-9.*f", decimals, value, decimals, error);
  return buffer;
}

// "tau_int +/- error" in 18 columns and 2 tau_int in 9, after two spaces.
std::string tau_columns(const ChainEstimate& chain) {
  if (std::isnan(chain.tau_int)) return right("-", 18) + "  " + right("-", 9);
  return format("%7.3f +/- %-6.3f", chain.tau_int, chain.tau_int_error) +
         format("  %9.3f", 2.0 * chain.tau_int);
}

std::string row(const std::string& label, const ObservableEstimate& e) {
  char name[64];
  std::snprintf(name, sizeof name, "%-27s", label.c_str());
  return std::string(name) + "  " + value_error(e.reweighted.value, e.reweighted.error) + "  " +
         value_error(e.chain.value, e.chain.error) + "  " + tau_columns(e.chain) + "\n";
}

std::string header_line(const std::string& first) {
  char line[256];
  std::snprintf(line, sizeof line, "%-27s  %27s  %27s  %18s  %9s\n", first.c_str(), "reweighted (a)",
                "chain (b)", "tau_int", "2 tau_int");
  return std::string(line) + std::string(27, '-') + "  " + std::string(27, '-') + "  " + std::string(27, '-') +
         "  " + std::string(18, '-') + "  " + std::string(9, '-') + "\n";
}

std::string summary(const EnsembleAnalysis& a) {
  std::ostringstream out;
  std::string shape;
  for (int64_t extent : a.lattice_shape) shape += (shape.empty() ? "" : "x") + std::to_string(extent);
  out << "flowlat analyze: " << a.path << "\n"
      << "source " << a.source << ", lattice " << shape << ", N = " << a.n << ", ESS = "
      << format("%.4g", a.ess) << " (" << a.ess_origin << "), acceptance = "
      << (a.accept_rate ? format("%.4g", *a.accept_rate) : std::string("n/a"));
  if (a.n_chains > 1) out << ", " << a.n_chains << " chains";
  if (!std::isnan(a.weight_tail_shape)) out << ", weight tail Pareto k = " << format("%.2f", a.weight_tail_shape);
  out << "\n(a) self-normalised importance reweighting over all N proposals, blocked jackknife with "
      << a.n_blocks << " blocks\n"
      << "(b) the stored Markov chain O(configs[state[i]]), Gamma method; 2 tau_int = cost per "
         "effectively independent configuration\n\n";
  return out.str();
}

nlohmann::json chain_json(const ChainEstimate& c) {
  return {{"value", c.value},
          {"error", c.error},
          {"tau_int", c.tau_int},
          {"tau_int_error", c.tau_int_error},
          {"two_tau_int", 2.0 * c.tau_int}};
}

// The per-t estimates as one object of arrays.
nlohmann::json series_json(const std::vector<ObservableEstimate>& series, int first_t, const char* definition,
                           bool has_chain) {
  nlohmann::json t = nlohmann::json::array(), rv = t, re = t, rk = t, cv = t, ce = t, tau = t, tau_e = t, two = t;
  for (size_t i = 0; i < series.size(); ++i) {
    const ObservableEstimate& e = series[i];
    t.push_back(first_t + static_cast<int>(i));
    rv.push_back(e.reweighted.value);
    re.push_back(e.reweighted.error);
    rk.push_back(e.reweighted.tail_shape);
    cv.push_back(e.chain.value);
    ce.push_back(e.chain.error);
    tau.push_back(e.chain.tau_int);
    tau_e.push_back(e.chain.tau_int_error);
    two.push_back(2.0 * e.chain.tau_int);
  }
  nlohmann::json chain = nullptr;
  if (has_chain) {
    chain = {{"value", cv}, {"error", ce}, {"tau_int", tau}, {"tau_int_error", tau_e}, {"two_tau_int", two}};
  }
  return {{"definition", definition}, {"t", t}, {"reweighted", {{"value", rv}, {"error", re}, {"tail_shape", rk}}},
          {"chain", chain}};
}

std::vector<double> stored_row(const ObservableEstimate& e) {
  return {e.reweighted.value, e.reweighted.error, e.chain.value,
          e.chain.error,      e.chain.tau_int,    e.chain.tau_int_error};
}

void write_matrix(const H5File& file, const std::string& path, const std::vector<ObservableEstimate>& rows,
                  int64_t t_first) {
  if (rows.empty()) return;
  std::vector<double> values;
  for (const ObservableEstimate& e : rows) {
    const std::vector<double> r = stored_row(e);
    values.insert(values.end(), r.begin(), r.end());
  }
  const int64_t n = static_cast<int64_t>(rows.size());
  H5Dataset dataset = H5Dataset::create(file, path, ElementType::Float64, {n, 6}, RowCapacity::Fixed);
  dataset.write_rows(0, n, values.data());
  dataset.attributes().write_int64("t_first", t_first);
}

void write_group(const H5File& file, const EnsembleAnalysis& a, const std::string& json_text) {
  file.create_group("/analysis");
  const H5Attributes attributes = file.attributes("/analysis");
  attributes.write_string("created_by", "flowlat analyze");
  attributes.write_string("columns", kStoredColumns);
  attributes.write_int64("n", a.n);
  attributes.write_int64("n_blocks", a.n_blocks);
  attributes.write_double("ess", a.ess);
  attributes.write_string("ess_origin", a.ess_origin);
  std::string notes;
  for (const std::string& note : a.notes) notes += note + "\n";
  attributes.write_string("notes", notes);
  if (json_text.size() < 60000) attributes.write_string("json", json_text);
  for (const ScalarObservable& s : a.scalars) {
    const std::vector<double> r = stored_row(s.estimate);
    H5Dataset dataset =
        H5Dataset::create(file, "/analysis/" + s.key, ElementType::Float64, {6}, RowCapacity::Fixed);
    dataset.write_rows(0, 6, r.data());
    dataset.attributes().write_string("label", s.label);
  }
  write_matrix(file, "/analysis/correlator", a.correlator, 0);
  write_matrix(file, "/analysis/effective_mass", a.effective_mass, 1);
}

double volume_of(const EnsembleAnalysis& a) {
  double volume = 1;
  for (int64_t extent : a.lattice_shape) volume *= static_cast<double>(extent);
  return volume;
}

std::string coupling_shift_text(const CouplingShift& shift, const EnsembleAnalysis& a) {
  char text[512];
  const double volume = volume_of(a);
  std::snprintf(text, sizeof text,
                "\nreweighted from m2 = %g, lambda = %g to m2 = %g, lambda = %g (ESS of the combined weights "
                "%.4g, Pareto k %.2f):\n",
                shift.from.m2, shift.from.lambda, shift.to.m2, shift.to.lambda, shift.ess,
                shift.delta_log_z.tail_shape);
  return std::string(text) + "  log Z(to) - log Z(from)      " +
         value_error(shift.delta_log_z.value, shift.delta_log_z.error) + "\n" +
         "  f(to) - f(from) = -that / V  " +
         value_error(-shift.delta_log_z.value / volume, shift.delta_log_z.error / volume) + "\n";
}

nlohmann::json coupling_shift_json(const CouplingShift& shift, const EnsembleAnalysis& a) {
  const double volume = volume_of(a);
  return {{"from", {{"m2", shift.from.m2}, {"lambda", shift.from.lambda}}},
          {"to", {{"m2", shift.to.m2}, {"lambda", shift.to.lambda}}},
          {"delta_log_z",
           {{"value", shift.delta_log_z.value},
            {"error", shift.delta_log_z.error},
            {"tail_shape", shift.delta_log_z.tail_shape}}},
          {"delta_free_energy_density",
           {{"value", -shift.delta_log_z.value / volume}, {"error", shift.delta_log_z.error / volume}}},
          {"ess", shift.ess}};
}

}  // namespace

std::string AnalysisReport::table() const {
  const EnsembleAnalysis& a = analysis_;
  std::string out = summary(a) + header_line("observable");
  for (const ScalarObservable& s : a.scalars) out += row(s.label, s.estimate);
  if (!a.correlator.empty()) {
    out += std::string("\n") + kCorrelatorDefinition + "\n" + header_line("C(t)");
    for (size_t t = 0; t < a.correlator.size(); ++t) out += row("t = " + std::to_string(t), a.correlator[t]);
  }
  if (!a.effective_mass.empty()) {
    out += std::string("\nm_eff(t) = arccosh[(C(t-1) + C(t+1)) / (2 C(t))], - where the argument < 1\n") +
           header_line("m_eff(t)");
    for (size_t i = 0; i < a.effective_mass.size(); ++i) {
      out += row("t = " + std::to_string(i + 1), a.effective_mass[i]);
    }
  }
  if (a.coupling_shift) out += coupling_shift_text(*a.coupling_shift, a);
  if (!a.notes.empty()) out += "\n";
  for (const std::string& note : a.notes) out += "note: " + note + "\n";
  return out;
}

nlohmann::json AnalysisReport::json() const {
  const EnsembleAnalysis& a = analysis_;
  int64_t volume = 1;
  for (int64_t extent : a.lattice_shape) volume *= extent;
  nlohmann::json observables = nlohmann::json::object();
  for (const ScalarObservable& s : a.scalars) {
    const bool has_chain = a.has_chain && s.key.rfind("log_z", 0) != 0;
    const Estimate& reweighted = s.estimate.reweighted;
    observables[s.key] = {{"label", s.label},
                          {"reweighted",
                           {{"value", reweighted.value},
                            {"error", reweighted.error},
                            {"tail_shape", reweighted.tail_shape}}},
                          {"chain", has_chain ? chain_json(s.estimate.chain) : nlohmann::json(nullptr)}};
  }
  if (!a.correlator.empty()) {
    observables["correlator"] = series_json(a.correlator, 0, kCorrelatorDefinition, a.has_chain);
    observables["effective_mass"] = series_json(a.effective_mass, 1, kEffectiveMassDefinition, a.has_chain);
  }
  return {{"file", a.path},
          {"source", a.source},
          {"lattice_shape", a.lattice_shape},
          {"volume", volume},
          {"n", a.n},
          {"ess", a.ess},
          {"ess_origin", a.ess_origin},
          {"weight_tail_shape", a.weight_tail_shape},
          {"accept_rate", a.accept_rate ? nlohmann::json(*a.accept_rate) : nlohmann::json(nullptr)},
          {"n_blocks", a.n_blocks},
          {"n_chains", a.n_chains},
          {"estimators",
           {{"reweighted", "self-normalised importance reweighting over all n proposals, blocked jackknife"},
            {"chain", "stored Markov chain O(configs[state[i]]), Gamma method (Wolff)"}}},
          {"observables", observables},
          {"reweighted_to", a.coupling_shift ? coupling_shift_json(*a.coupling_shift, a) : nlohmann::json(nullptr)},
          {"notes", a.notes}};
}

void AnalysisReport::write_json(const std::string& path, OverwritePolicy policy) const {
  write_json_file(path, json(), policy);
}

void write_json_file(const std::string& path, const nlohmann::json& json, OverwritePolicy policy) {
  if (policy == OverwritePolicy::Refuse && std::filesystem::exists(path)) {
    throw ConfigError(path + ": exists already; use --force to overwrite it");
  }
  write_file_atomically(path, json.dump(2) + "\n");
}

void AnalysisReport::store(const std::string& path) const {
  const std::string json_text = json().dump();
  H5File file(path, FileMode::ReadWrite);
  if (file.contains("/analysis") && H5Ldelete(file.id(), "/analysis", H5P_DEFAULT) < 0) {
    throw std::runtime_error(path + ": cannot delete the existing /analysis group");
  }
  write_group(file, analysis_, json_text);
  file.close();
}

}  // namespace flowlat
