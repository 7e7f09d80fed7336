// SPDX-License-Identifier: Apache-2.0
// A loaded scenario: plain config structs in SI units, plus what a run must record about its input
// (the document after --set overrides, with every default filled in, and its hash).
//
//   Scenario s = load_scenario("scenarios/quickstart.json");   // load_scenario.hpp
//   fmt::print("{} runs for {}", s.run.name, s.run.horizon);
#pragma once

#include "models/cost/cost_spec.hpp"
#include "models/failures/failure_spec.hpp"
#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "models/inference/inference_spec.hpp"
#include "models/network/topology.hpp"
#include "models/training/training_spec.hpp"
#include "models/scenario/diagnostics.hpp"
#include "sim/time.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace fleetsim {

/// The run itself: what, from when, for how long, how often to sample.
/// The horizon a scenario is read with when its own "horizon" (or "start") could not be read: instants
/// are not checked against it, so one bad horizon gives one error, not one per dated instant.
inline constexpr Duration kUnboundedHorizon = Duration::days(365 * 200);

struct RunSpec {
  std::string name;
  std::string description;
  uint64_t seed = 1;
  int64_t start_unix_ns = 0;   ///< the UTC instant that simulated time 0 stands for
  Duration horizon;            ///< simulate [0, horizon]
  Duration sample_interval;    ///< time-series sampling period
  /// Dated instants (outages, ramps, submissions) must lie before this: the horizon, or the scenario's
  /// own horizon when `--until` cut the run shorter (what lies beyond the cut is never reached; the
  /// CLI says so in a note instead of refusing the scenario).
  Duration instants_until;
};

struct Scenario {
  std::string source;          ///< the file it came from (for messages)
  RunSpec run;
  Catalog catalog;             ///< built-in catalogs with the scenario's overrides applied
  FleetSpec fleet;
  NetworkSpec network;         ///< no clusters when the scenario has no "network"
  NetworkRunOptions network_run;  ///< network.link_failures and network.collective_costing
  FailureSpec failures;
  TrainingSpec training;       ///< no jobs when the scenario has no "training"
  InferenceSpec inference;     ///< no services when the scenario has no "inference"
  CostSpec cost;               ///< enabled only when the scenario has a "cost" section
  nlohmann::json resolved;     ///< the effective document with every default filled in
  uint64_t hash = 0;           ///< FNV-1a 64 of the effective document (compact dump, sorted keys)
  /// Likely mistakes that do not stop a run (render_warnings() prints them), sorted.
  std::vector<Diagnostic> warnings;
};

}  // namespace fleetsim
