#include "analysis/CostReport.hpp"

#include <cstdarg>
#include <cstdio>

namespace flowlat {
namespace {

const ObservableCost* find_cost(const std::vector<ObservableCost>& costs, const std::string& key) {
  for (const ObservableCost& c : costs) {
    if (c.key == key) return &c;
  }
  return nullptr;
}

std::string line(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string line(const char* format, ...) {
  char text[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(text, sizeof text, format, args);
  va_end(args);
  return text;
}

}  // namespace

std::string cost_table(const CostComparison& c) {
  const std::vector<ObservableCost> mine = observable_costs(c.analysis, c.sampler);
  std::string text = line("\ncost per effectively independent configuration (%s: %.4g s and %.4g %s evaluations per row",
                          c.analysis.source.c_str(), c.sampler.seconds_per_row, c.sampler.evaluations_per_row,
                          c.sampler.evaluation_kind.c_str());
  text += c.sampler.setup_seconds > 0 ? line("; training %.1f s)\n", c.sampler.setup_seconds) : ")\n";
  text += line("%-22s %9s %12s %12s %16s", "observable", "2 tau_int", "seconds", "evaluations", "s (train/1e6)");
  const bool versus = c.other_analysis && c.other_sampler;
  std::vector<ObservableCost> theirs;
  if (versus) {
    theirs = observable_costs(*c.other_analysis, *c.other_sampler);
    text += line(" %14s %10s %16s", "other seconds", "ratio", "break-even rows");
  }
  text += "\n";
  for (const ObservableCost& cost : mine) {
    text += line("%-22s %9.3f %12.4g %12.4g %16.4g", cost.key.c_str(), cost.two_tau_int, cost.seconds_per_independent,
                 cost.evaluations_per_independent, amortised_seconds(cost, c.sampler, kAmortisationRows));
    if (const ObservableCost* other = versus ? find_cost(theirs, cost.key) : nullptr) {
      const auto rows = break_even_rows(cost, c.sampler, *other);
      text += line(" %14.4g %10.3g %16s", other->seconds_per_independent,
                   other->seconds_per_independent / amortised_seconds(cost, c.sampler, kAmortisationRows),
                   rows ? line("%.4g", *rows).c_str() : "never");
    }
    text += "\n";
  }
  if (versus) {
    text += "ratio: the other file's seconds per independent configuration over this one's, training amortised "
            "over 1e6 rows\n";
  }
  return text;
}

nlohmann::json cost_json(const CostComparison& c) {
  nlohmann::json json;
  json["sampler"] = {{"seconds_per_row", c.sampler.seconds_per_row},
                     {"evaluations_per_row", c.sampler.evaluations_per_row},
                     {"evaluation_kind", c.sampler.evaluation_kind},
                     {"setup_seconds", c.sampler.setup_seconds},
                     {"amortisation_rows", kAmortisationRows}};
  const std::vector<ObservableCost> mine = observable_costs(c.analysis, c.sampler);
  std::vector<ObservableCost> theirs;
  if (c.other_analysis && c.other_sampler) theirs = observable_costs(*c.other_analysis, *c.other_sampler);
  for (const ObservableCost& cost : mine) {
    nlohmann::json entry = {{"two_tau_int", cost.two_tau_int},
                            {"seconds_per_independent", cost.seconds_per_independent},
                            {"evaluations_per_independent", cost.evaluations_per_independent},
                            {"seconds_per_independent_amortised", amortised_seconds(cost, c.sampler, kAmortisationRows)}};
    if (const ObservableCost* other = find_cost(theirs, cost.key)) {
      const auto rows = break_even_rows(cost, c.sampler, *other);
      entry["versus"] = {{"seconds_per_independent", other->seconds_per_independent},
                         {"evaluations_per_independent", other->evaluations_per_independent},
                         {"two_tau_int", other->two_tau_int},
                         {"break_even_rows", rows ? nlohmann::json(*rows) : nlohmann::json(nullptr)}};
    }
    json["observables"][cost.key] = entry;
  }
  if (c.other_analysis) json["versus_file"] = c.other_analysis->path;
  return json;
}

}  // namespace flowlat
