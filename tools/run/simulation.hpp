// SPDX-License-Identifier: Apache-2.0
// One simulation run from a loaded scenario to finished outputs: engine, streams, recorder, world,
// progress and interruption. The CLI's `run` is this plus argument handling; tests call it directly.
//
//   SimulationOptions opt;
//   opt.directory = "out/quickstart";            // must exist; empty: keep outputs in memory
//   SimulationResult r = simulate(scenario, opt);
#pragma once

#include "tools/run/event_level.hpp"
#include "models/scenario/scenario.hpp"
#include "tools/run/trace_translator.hpp"
#include "sim/progress.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fleetsim {

/// The runaway guard's default: events per simulated second. The busiest golden run (a request-level
/// chat service, tests/golden/inference-chat-failover) averages about 220 per simulated second, so the
/// guard leaves five orders of magnitude; 10^8 events take about a minute of wall time at 1.3 M/s.
inline constexpr uint64_t kDefaultMaxEventRate = 100'000'000;

struct SimulationOptions {
  std::filesystem::path directory;       ///< where outputs go (must exist); empty: in memory only
  ProgressMode progress = ProgressMode::Never;
  const std::atomic<bool>* interrupt = nullptr;  ///< set (by a SIGINT handler) to stop at the next check
  std::string command_line;              ///< for manifest.json
  /// trace.json: what it shows (None: no file) and the window of simulated time it covers.
  TraceLevel trace_level = TraceLevel::None;
  SimTime trace_from = SimTime::zero();
  SimTime trace_to = SimTime::max();
  /// events.jsonl: which kinds get a line (tools/run/event_level.hpp; None: no file).
  EventLevel event_level = EventLevel::All;
  /// Which <table>.csv files to write: nullopt all, else the tables named (empty: none). Unwritten
  /// tables are still published to listeners (the trace), so nothing else changes.
  std::optional<std::vector<std::string>> tables;
  /// Limits (`fleetsim run --max-events/--max-wall`): the run stops after exactly this many events, or
  /// at the first check after this much wall time (checked every 65,536 events), and writes its
  /// outputs with "complete": false and stop_reason "max_events" / "max_wall". 0: no limit.
  uint64_t max_events = 0;
  /// With no directory: keep only the summary, not every row and event (RecorderOptions::summary_only).
  bool summary_only = false;
  double max_wall_s = 0;
  /// The runaway guard (docs/robustness.md): more than this many events within one simulated second
  /// stops the run like a limit, stop_reason "event_rate". 0: no guard.
  uint64_t max_event_rate = kDefaultMaxEventRate;
  /// Files the caller writes into the directory itself (report.html): listed with the run's own in
  /// manifest.json's "files", which is all `fleetsim run --force` removes of a previous run.
  std::vector<std::string> caller_files;
  /// Called with summary.json's text after every other output is in place and before summary.json
  /// appears, so a file the caller writes (report.html) also precedes it. May throw (OutputError).
  std::function<void(const std::string&)> before_summary;
};

struct SimulationResult {
  bool complete = true;          ///< false if interrupted or stopped by a limit before the horizon
  std::string stop_reason;       ///< "horizon", "empty", "interrupted", "max_events", "max_wall", "event_rate"
  SimTime reached;
  uint64_t events = 0;
  uint64_t fingerprint = 0;
  double wall_s = 0;
  std::string summary_text;      ///< summary.json as written
  nlohmann::json summary;
};

/// Runs the scenario. Output files (summary.json, resolved.json, manifest.json and the models'
/// tables and events) appear only when the run finishes or is interrupted; an exception leaves none.
/// Throws OutputError (sim/atomic_file.hpp) if an output cannot be written.
SimulationResult simulate(const Scenario& scenario, const SimulationOptions& options);

}  // namespace fleetsim
