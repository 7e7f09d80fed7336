// SPDX-License-Identifier: Apache-2.0
#include "tools/planner/plan_spec.hpp"

#include "models/scenario/did_you_mean.hpp"
#include "sim/time.hpp"
#include "tools/sweep/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace fleetsim::planner {

using nlohmann::json;

namespace {

// Far above any search that finishes in a working day, low enough that a typo is a message.
constexpr int64_t kMaxSeeds = 1000;
constexpr int64_t kMaxPoints = 1'000'000;

std::string number_text(double v) {
  // Shortest form that reads back as the same double (fmt's default for doubles).
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

OverSeeds read_over_seeds(const Reader& parent) {
  OverSeeds o;
  const auto r = parent.opt("over_seeds");
  if (!r) return o;
  const std::string text = r->string();
  if (text == "mean") return o;
  if (text == "median") return OverSeeds{true, 50};
  if (text.size() >= 2 && text[0] == 'p') {
    try {
      size_t used = 0;
      const double p = std::stod(text.substr(1), &used);
      if (used == text.size() - 1 && p >= 0 && p <= 100) return OverSeeds{true, p};
    } catch (const std::exception&) {
    }
  }
  r->expected("\"mean\", \"median\" or a percentile such as \"p90\"");
  return o;
}

// A metric pointer as written by the user; a missing leading '/' is an error, not a guess.
std::string read_metric(const Reader& r) {
  std::string m = r.non_empty_string();
  if (!m.empty() && m.front() != '/') r.expected("a JSON pointer into summary.json such as \"/cost/total_usd\"");
  return m;
}

size_t variant_index(const Reader& r, const std::vector<Variant>& variants) {
  const std::string name = r.string();
  for (size_t i = 0; i < variants.size(); ++i)
    if (variants[i].name == name) return i;
  std::vector<std::string> names;
  for (const auto& v : variants) names.push_back(v.name);
  const auto near = closest(name, names);
  r.error(fmt::format("no variant named \"{}\"{}", name,
                      near ? fmt::format(" (did you mean \"{}\"?)", *near) : fmt::format(" (variants: {})", fmt::join(names, ", "))));
  return 0;
}

Objective read_objective(const Reader& r, const std::vector<Variant>& variants) {
  Objective o;
  r.reject_unknown_keys({"minimize", "maximize", "over_seeds", "variant"});
  const bool has_min = r.has("minimize"), has_max = r.has("maximize");
  if (has_min == has_max) {
    r.error("expected exactly one of \"minimize\" and \"maximize\", each a JSON pointer into summary.json");
    return o;
  }
  o.minimize = has_min;
  o.metric = read_metric(r.at(has_min ? "minimize" : "maximize"));
  o.over = read_over_seeds(r);
  if (const auto v = r.opt("variant")) o.variant = variant_index(*v, variants);
  return o;
}

Variable read_variable(const Reader& r) {
  Variable v;
  r.reject_unknown_keys({"name", "pointer", "integer", "continuous", "set", "date", "step", "unit", "monotone"});
  v.name = r.at("name").non_empty_string();
  v.pointer = r.at("pointer").non_empty_string();
  if (!v.pointer.empty() && v.pointer.front() != '/')
    r.at("pointer").expected("a JSON pointer into the scenario such as \"/inference/services/0/regions/0/replicas\"");
  int kinds = 0;
  for (const char* k : {"integer", "continuous", "set", "date"}) kinds += r.has(k) ? 1 : 0;
  if (kinds != 1) {
    r.error("expected exactly one of \"integer\": [min, max], \"continuous\": [min, max], \"set\": [values] and "
            "\"date\": [first, last]");
    return v;
  }
  auto range = [&](const char* key, auto read) {
    const Reader a = r.at(key);
    if (!a.is_array() || a.size() != 2) {
      a.expected("[min, max]");
      return;
    }
    const size_t errors_before = r.diagnostics().size();
    read(a.at(size_t{0}), a.at(size_t{1}));
    if (r.diagnostics().size() != errors_before) return;  // a bound that did not read has its own error
    auto text = [&](double x) {
      return v.kind == VariableKind::Date ? format_utc_ns(static_cast<int64_t>(x) * 1'000'000'000) : number_text(x);
    };
    if (v.min > v.max) a.error(fmt::format("min {} is above max {}", text(v.min), text(v.max)));
  };
  if (r.has("integer")) {
    v.kind = VariableKind::Integer;
    range("integer", [&](const Reader& lo, const Reader& hi) {
      v.min = static_cast<double>(lo.integer(-kMaxPoints * 1000, kMaxPoints * 1000));
      v.max = static_cast<double>(hi.integer(-kMaxPoints * 1000, kMaxPoints * 1000));
    });
    if (const auto s = r.opt("step")) v.step = static_cast<double>(s->integer(1, kMaxPoints));
  } else if (r.has("continuous")) {
    v.kind = VariableKind::Continuous;
    range("continuous", [&](const Reader& lo, const Reader& hi) {
      v.min = lo.number();
      v.max = hi.number();
    });
    if (const auto u = r.opt("unit")) v.unit = u->non_empty_string();
  } else if (r.has("set")) {
    v.kind = VariableKind::Set;
    const Reader s = r.at("set");
    if (!s.is_array() || s.size() == 0) s.expected("a non-empty array of the values to choose from");
    else
      for (const Reader& item : s.items()) v.values.push_back(item.json());
  } else {
    v.kind = VariableKind::Date;
    v.step = 86400;
    range("date", [&](const Reader& lo, const Reader& hi) {
      v.min = static_cast<double>(lo.utc_ns() / 1'000'000'000);
      v.max = static_cast<double>(hi.utc_ns() / 1'000'000'000);
    });
    // Whole seconds: a duration's seconds() is ns * 1e-9, which for "91d" is a hair above 7,862,400, so
    // a range of exactly two steps would hold only two dates.
    if (const auto s = r.opt("step")) v.step = std::max(1.0, std::round(s->positive_duration().seconds()));
  }
  if (r.has("step") && v.kind != VariableKind::Integer && v.kind != VariableKind::Date)
    r.at("step").error("\"step\" applies to \"integer\" and \"date\" variables only");
  if (r.has("unit") && v.kind != VariableKind::Continuous)
    r.at("unit").error("\"unit\" applies to \"continuous\" variables only");
  if (const auto m = r.opt("monotone")) {
    const int direction = m->choice<int>({{"helps", 1}, {"hurts", -1}, {"none", 0}});
    v.monotone = direction != 0;
    v.larger_hurts = direction < 0;
    if (v.monotone && v.kind != VariableKind::Integer && v.kind != VariableKind::Date)
      m->error(fmt::format("\"monotone\": \"{}\" applies to \"integer\" and \"date\" variables (a range the search "
                           "can bisect)",
                           m->string()));
  }
  if ((v.kind == VariableKind::Integer || v.kind == VariableKind::Date) && v.max >= v.min &&
      (v.max - v.min) / v.step + 1 > static_cast<double>(kMaxPoints))
    r.error(fmt::format("the range holds more than {} values; use a larger \"step\"", kMaxPoints));
  return v;
}

Constraint read_constraint(const Reader& r, const std::vector<Variant>& variants) {
  Constraint c;
  r.reject_unknown_keys({"metric", "at_least", "at_most", "over_seeds", "variants"});
  c.metric = read_metric(r.at("metric"));
  const bool least = r.has("at_least"), most = r.has("at_most");
  if (least == most) r.error("expected exactly one of \"at_least\" and \"at_most\", a number");
  else {
    c.at_least = least;
    c.bound = r.at(least ? "at_least" : "at_most").number();
  }
  c.over = read_over_seeds(r);
  if (const auto vs = r.opt("variants")) {
    if (!vs->is_array() || vs->size() == 0) vs->expected("a non-empty array of variant names");
    for (const Reader& v : vs->items()) c.variants.push_back(variant_index(v, variants));
  }
  if (c.variants.empty())
    for (size_t i = 0; i < variants.size(); ++i) c.variants.push_back(i);
  return c;
}

}  // namespace

size_t Variable::points() const {
  switch (kind) {
    case VariableKind::Integer:
    case VariableKind::Date:
      // The last value counts when the range is a whole number of steps, to rounding.
      return max < min ? 0 : static_cast<size_t>(std::floor((max - min) / step * (1 + 1e-12))) + 1;
    case VariableKind::Set: return values.size();
    case VariableKind::Continuous: return 0;
  }
  return 0;
}

json Variable::point(size_t i) const {
  switch (kind) {
    case VariableKind::Integer: return static_cast<int64_t>(min + static_cast<double>(i) * step);
    case VariableKind::Date:
      return format_utc_ns(static_cast<int64_t>(min + static_cast<double>(i) * step) * 1'000'000'000);
    case VariableKind::Set: return values.at(i);
    case VariableKind::Continuous: return at_fraction(0.5);
  }
  return nullptr;
}

json Variable::at_fraction(double x) const {
  const double v = min + std::clamp(x, 0.0, 1.0) * (max - min);
  // Six significant digits: a planner's interval or price mix needs no more, and candidates.csv and
  // the --set lines stay readable. Evaluations are cached by this text, so the search never asks
  // twice for what would be the same scenario.
  const double rounded = std::stod(fmt::format("{:.6g}", v));
  if (unit.empty()) return rounded;
  return fmt::format("{} {}", number_text(rounded), unit);
}

std::string Variable::text(const json& value) { return value.dump(); }

std::string OverSeeds::label() const { return percentile ? fmt::format("p{}", number_text(p)) : "mean"; }

std::string Constraint::describe() const {
  return fmt::format("{} {} {} {}", over.label(), metric, at_least ? ">=" : "<=", number_text(bound));
}

std::vector<std::string> PlanSpec::metrics() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& m) {
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  };
  add(objective.metric);
  if (second) add(second->metric);
  for (const auto& c : constraints) add(c.metric);
  return out;
}

PlanSpec read_plan(const Reader& r) {
  PlanSpec spec;
  spec.pointer = r.pointer();
  if (!r.is_object()) {
    r.expected("a plan: an object with \"variables\", \"constraints\" and \"objective\"");
    return spec;
  }
  r.reject_unknown_keys({"seeds", "variables", "variants", "constraints", "objective", "second_objective",
                         "max_evaluations", "continuous_budget", "monotone_search", "probes"});
  if (const auto s = r.opt("seeds")) {
    if (s->is_object()) {
      s->reject_unknown_keys({"min", "max"});
      spec.seeds_min = static_cast<size_t>(s->at("min").integer(1, kMaxSeeds));
      spec.seeds_max = static_cast<size_t>(s->at("max").integer(1, kMaxSeeds));
      if (spec.seeds_max < spec.seeds_min) s->error("\"max\" is below \"min\"");
    } else {
      spec.seeds_min = spec.seeds_max = static_cast<size_t>(s->integer(1, kMaxSeeds));
    }
  }
  spec.max_evaluations = static_cast<size_t>(r.integer_or("max_evaluations", 1, 1'000'000, 200));
  spec.continuous_budget = static_cast<size_t>(r.integer_or("continuous_budget", 2, 100'000, 40));
  spec.probes = static_cast<size_t>(r.integer_or("probes", 1, 64, 1));
  if (const auto vs = r.opt("variants")) {
    if (!vs->is_array() || vs->size() == 0) vs->expected("a non-empty array of {\"name\", \"set\"}");
    std::set<std::string> names;
    for (const Reader& v : vs->items()) {
      v.reject_unknown_keys({"name", "set"});
      Variant variant;
      variant.name = v.at("name").non_empty_string();
      if (!names.insert(variant.name).second) v.at("name").error(fmt::format("a second variant named \"{}\"", variant.name));
      if (const auto set = v.opt("set")) {
        if (!set->is_object()) set->expected("an object of JSON pointer -> value");
        else
          for (const auto& [pointer, value] : set->json().items()) {
            if (pointer.empty() || pointer.front() != '/')
              set->error(fmt::format("\"{}\" is not a JSON pointer (it starts with '/')", pointer));
            variant.overrides.push_back(Override{pointer, value.dump()});
          }
      }
      spec.variants.push_back(std::move(variant));
    }
  }
  if (spec.variants.empty()) spec.variants.push_back(Variant{"base", {}});

  const Reader vars = r.at("variables");
  if (vars.valid() && (!vars.is_array() || vars.size() == 0)) vars.expected("a non-empty array of decision variables");
  std::set<std::string> var_names;
  for (const Reader& v : vars.items()) {
    spec.variables.push_back(read_variable(v));
    if (!spec.variables.back().name.empty() && !var_names.insert(spec.variables.back().name).second)
      v.at("name").error(fmt::format("a second variable named \"{}\"", spec.variables.back().name));
  }
  if (const auto cs = r.opt("constraints")) {
    if (!cs->is_array()) cs->expected("an array of constraints");
    for (const Reader& c : cs->items()) spec.constraints.push_back(read_constraint(c, spec.variants));
  }
  spec.objective = read_objective(r.at("objective"), spec.variants);
  // The frontier walk is exact but its cost grows with the product of the outer variables' points
  // (search.hpp); with more than two monotone variables the default is the coordinate search.
  const auto monotone_count = std::count_if(spec.variables.begin(), spec.variables.end(), [](const Variable& v) { return v.monotone; });
  spec.monotone_search = monotone_count <= 2 ? MonotoneSearch::Frontier : MonotoneSearch::Coordinate;
  if (const auto m = r.opt("monotone_search"))
    spec.monotone_search = m->choice<MonotoneSearch>({{"coordinate", MonotoneSearch::Coordinate}, {"frontier", MonotoneSearch::Frontier}});
  if (const auto s = r.opt("second_objective")) {
    spec.second = read_objective(*s, spec.variants);
    for (size_t i = 0; i < spec.variables.size(); ++i)
      if (spec.variables[i].kind == VariableKind::Continuous)
        s->error(fmt::format("a Pareto front is searched over discrete variables only; variable \"{}\" is continuous "
                             "(make it \"integer\" with a \"step\", or drop \"second_objective\")",
                             spec.variables[i].name));
  }
  return spec;
}

std::optional<double> metric_value(const json& summary, const std::string& pointer) {
  try {
    const json::json_pointer p(pointer);
    if (!summary.contains(p)) return std::nullopt;
    const json& v = summary.at(p);
    if (!v.is_number()) return std::nullopt;
    return v.get<double>();
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

namespace {

// The first line of a loader error without its "error: FILE: " prefix: what the user needs to see.
std::string first_problem(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  constexpr std::string_view kError = "error: ";
  if (line.starts_with(kError)) line = line.substr(kError.size());
  return line;
}

}  // namespace

void check_plan_against(const PlanSpec& spec, const std::string& scenario_path, const LoadOptions& base,
                        const json& probe_summary, Diagnostics& diags) {
  const Scenario scenario = load_scenario(scenario_path, base);
  for (size_t i = 0; i < spec.variables.size(); ++i) {
    const Variable& v = spec.variables[i];
    const std::string at = fmt::format("{}/variables/{}", spec.pointer, i);
    bool exists = false;
    try {
      exists = scenario.resolved.contains(json::json_pointer(v.pointer));
    } catch (const json::exception&) {
    }
    if (!exists) {
      diags.error(at + "/pointer", fmt::format("the scenario has no value at \"{}\" (a plan varies values the scenario "
                                               "has, defaults included; set it in the scenario first)",
                                               v.pointer));
      continue;
    }
    std::vector<json> probes;
    if (v.kind == VariableKind::Continuous) probes = {v.at_fraction(0), v.at_fraction(1)};
    else if (v.kind == VariableKind::Set) probes = v.values;
    else if (v.points() > 0) probes = {v.point(0), v.point(v.points() - 1)};
    for (const json& value : probes) {
      LoadOptions one = base;
      one.overrides.push_back(Override{v.pointer, Variable::text(value)});
      try {
        (void)load_scenario(scenario_path, one);
      } catch (const std::exception& e) {
        diags.error(at, fmt::format("the value {} cannot be set at {}: {}", value.dump(), v.pointer, first_problem(e.what())));
      }
    }
  }
  for (size_t i = 0; i < spec.variants.size(); ++i) {
    LoadOptions one = base;
    for (const auto& o : spec.variants[i].overrides) one.overrides.push_back(o);
    try {
      (void)load_scenario(scenario_path, one);
    } catch (const std::exception& e) {
      diags.error(fmt::format("{}/variants/{}/set", spec.pointer, i),
                  fmt::format("variant \"{}\" does not load: {}", spec.variants[i].name, first_problem(e.what())));
    }
  }
  std::vector<std::string> leaves;
  for (const auto& m : sweep::numeric_leaves(probe_summary)) leaves.push_back(m.name);
  auto check_metric = [&](const std::string& metric, const std::string& at) {
    if (metric.empty() || metric_value(probe_summary, metric)) return;
    // A figure that is null until something happens (a job's "finished_s") exists from the first
    // event on: a run in which it is still null fails the constraint.
    try {
      if (probe_summary.contains(json::json_pointer(metric)) && probe_summary.at(json::json_pointer(metric)).is_null()) return;
    } catch (const json::exception&) {
    }
    const auto near = closest(metric, leaves);
    diags.error(at, fmt::format("summary.json of this scenario has no number at \"{}\"{}", metric,
                                near ? fmt::format(" (did you mean \"{}\"?)", *near) : ""));
  };
  const std::string o = spec.pointer + "/objective/";
  check_metric(spec.objective.metric, o + (spec.objective.minimize ? "minimize" : "maximize"));
  if (spec.second)
    check_metric(spec.second->metric, spec.pointer + "/second_objective/" + (spec.second->minimize ? "minimize" : "maximize"));
  for (size_t i = 0; i < spec.constraints.size(); ++i)
    check_metric(spec.constraints[i].metric, fmt::format("{}/constraints/{}/metric", spec.pointer, i));
}

}  // namespace fleetsim::planner
