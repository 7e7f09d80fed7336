// SPDX-License-Identifier: Apache-2.0
// A plan: the decision a capacity planner asks fleetsim to make. Decision variables are JSON pointers
// into the scenario; constraints and objectives are JSON pointers into summary.json, each taken over
// seeds (a mean or a percentile) and over named variants of the scenario (the same scenario with and
// without a region outage: a plan must hold in both). docs/planning.md describes every key.
//
//   {
//     "seeds": {"min": 2, "max": 8},
//     "variables": [
//       {"name": "replicas", "pointer": "/inference/services/0/regions/0/replicas",
//        "integer": [1, 64], "monotone": "helps"},
//       {"name": "interval", "pointer": "/training/jobs/0/checkpoint/interval", "continuous": [600, 7200]},
//       {"name": "gpu", "pointer": "/inference/services/0/replica/accelerator", "set": ["H100", "GB200"]},
//       {"name": "arrival", "pointer": "/fleet/regions/0/ramp/0/at", "date": ["2026-01-01", "2026-12-01"]}],
//     "variants": [{"name": "normal"}, {"name": "outage", "set": {"/failures/presets": ["us-east-1-2025-10-20"]}}],
//     "constraints": [{"metric": "/inference/services/chat/slo_attainment", "at_least": 0.999,
//                      "over_seeds": "p90", "variants": ["normal", "outage"]}],
//     "objective": {"minimize": "/cost/total_usd"},
//     "second_objective": {"maximize": "/inference/services/chat/slo_attainment"}
//   }
//
// "monotone": "helps" declares that a larger value never makes a constraint worse and never makes the
// objective better (more replicas never hurt latency, and they cost more): the search then bisects for
// the smallest feasible value instead of trying every one (search.hpp). "monotone": "hurts" is the
// mirror (a later arrival never finishes a run sooner, and it costs less): the largest feasible value.
#pragma once

#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "models/scenario/reader.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace fleetsim::planner {

enum class VariableKind { Integer, Continuous, Set, Date };

struct Variable {
  std::string name;
  std::string pointer;          ///< where the value goes in the scenario
  VariableKind kind = VariableKind::Integer;
  double min = 0, max = 0;      ///< Integer, Continuous; Date: seconds since 1970
  double step = 1;              ///< Integer: 1 unless given; Date: a day unless given
  std::vector<nlohmann::json> values;  ///< Set: the choices, in the order given
  std::string unit;             ///< Continuous: written after the number ("s" -> "1200 s"); empty: SI number
  bool monotone = false;        ///< "monotone": "helps" or "hurts" (Integer and Date only)
  bool larger_hurts = false;    ///< "hurts": the smaller values are the ones that help the constraints

  /// Integer and Date: how many values the range holds; Set: how many choices; Continuous: 0.
  size_t points() const;
  /// Integer, Date and Set: the i-th value in the form written into the scenario.
  nlohmann::json point(size_t i) const;
  /// Continuous: the value at x in [0, 1] of the range, in the form written into the scenario.
  nlohmann::json at_fraction(double x) const;
  /// The value as text for a --set override and for candidates.csv.
  static std::string text(const nlohmann::json& value);
};

/// How the values of one metric over seeds become one figure.
struct OverSeeds {
  bool percentile = false;
  double p = 50;                ///< percentile, 0..100
  std::string label() const;    ///< "mean" or "p90"
};

struct Constraint {
  std::string metric;           ///< JSON pointer into summary.json
  bool at_least = true;         ///< at_least: value >= bound; otherwise at_most: value <= bound
  double bound = 0;
  OverSeeds over;
  std::vector<size_t> variants; ///< indices into PlanSpec::variants; every variant when none is named
  std::string describe() const; ///< "mean /a/b >= 0.999"
};

struct Objective {
  std::string metric;
  bool minimize = true;
  OverSeeds over;
  size_t variant = 0;           ///< the variant whose runs give the objective (default: the first)
};

struct Variant {
  std::string name;
  std::vector<Override> overrides;  ///< "set": pointer -> value, applied after the scenario's own --set
};

/// How the search treats several monotone variables (search.hpp).
enum class MonotoneSearch {
  Coordinate,  ///< bisect one variable after the other: a minimal feasible point, in few evaluations
  Frontier,    ///< walk the whole boundary of the feasible set: the cheapest feasible point, exactly
};

struct PlanSpec {
  std::vector<Variable> variables;
  std::vector<Variant> variants;    ///< at least one (a plan without "variants" has one, "base")
  std::vector<Constraint> constraints;
  Objective objective;
  std::optional<Objective> second;  ///< a Pareto front of objective against second
  size_t seeds_min = 1, seeds_max = 1;
  size_t max_evaluations = 200;     ///< candidates (a candidate runs every variant and seed it needs)
  size_t continuous_budget = 40;    ///< evaluations per continuous search (NLopt maxeval)
  /// "probes": candidates each bisection step tries at once, run in one batch over the threads (a
  /// (probes + 1)-section: fewer steps, more runs). Part of the plan, not of -j, so that the search
  /// takes the same path whatever the threads.
  size_t probes = 1;
  /// "monotone_search"; default: Frontier with at most two monotone variables, Coordinate with more.
  MonotoneSearch monotone_search = MonotoneSearch::Frontier;

  std::string pointer;              ///< where the plan was read: "" (a plan file) or "/plan"

  /// Every metric the plan reads, without repeats: objectives first, then constraints.
  std::vector<std::string> metrics() const;
};

/// Reads a plan through `plan`: the root of a plan file, or a scenario's "plan" block. Every problem is
/// recorded in the reader's diagnostics with its JSON pointer.
PlanSpec read_plan(const Reader& plan);

/// Checks the plan against the scenario (after --set): every variable's pointer names a value the
/// scenario has, each variable's extreme values load, and every metric is a number in the summary of
/// a probe run. Problems go to `diags` at the plan's pointers; nothing is simulated beyond the probe.
void check_plan_against(const PlanSpec& spec, const std::string& scenario_path,
                        const LoadOptions& base, const nlohmann::json& probe_summary, Diagnostics& diags);

/// The value of a metric in one summary; nullopt when the pointer names nothing or a non-number.
std::optional<double> metric_value(const nlohmann::json& summary, const std::string& pointer);

}  // namespace fleetsim::planner
