// SPDX-License-Identifier: Apache-2.0
#include "tools/run/simulation.hpp"

#include "tools/run/failure_counts.hpp"
#include "models/world/world.hpp"
#include "sim/atomic_file.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <utility>

namespace fleetsim {

namespace {

// The engine calls the hook every this many events: often enough for a ~1 s progress cadence and a
// prompt Ctrl-C at millions of events/s, rare enough to cost nothing measurable.
constexpr uint64_t kHookEveryEvents = 1u << 16;

std::string hex64(uint64_t v) { return fmt::format("{:016x}", v); }

std::string host_name() {
  utsname u{};
  if (uname(&u) != 0) return "unknown";
  return fmt::format("{} {} {}", u.nodename, u.sysname, u.machine);
}

std::string utc_now() {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return format_utc_ns(ns / 1'000'000'000 * 1'000'000'000);
}

// The trace's window, and its counters' thinning: at most about kCounterPointsPerWindow points per
// counter over the window, so a 7-year hourly run does not write 61,000 points per counter.
constexpr int64_t kCounterPointsPerWindow = 4000;
TraceWindow trace_window(const SimulationOptions& o, SimTime horizon) {
  TraceWindow w;
  w.from = o.trace_from;
  w.to = o.trace_to;
  const SimTime end = std::min(w.to, horizon);
  if (end > w.from) w.min_counter_interval = Duration::ns((end - w.from).ticks() / kCounterPointsPerWindow);
  return w;
}

}  // namespace

SimulationResult simulate(const Scenario& scenario, const SimulationOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::string started_at = utc_now();
  Engine engine;
  RngStreams streams(scenario.run.seed);
  const SimTime horizon = SimTime::zero() + scenario.run.horizon;
  RecorderOptions recorder_options;
  recorder_options.directory = options.directory;
  recorder_options.summary_only = options.summary_only;
  recorder_options.trace = options.trace_level != TraceLevel::None;
  recorder_options.trace_window = trace_window(options, horizon);
  recorder_options.write_events = options.event_level != EventLevel::None;
  if (options.event_level != EventLevel::All) {
    recorder_options.write_event = [level = options.event_level](std::string_view kind) {
      return event_kind_level(kind) <= level;
    };
  }
  if (options.tables) {
    recorder_options.write_table = [names = *options.tables](std::string_view table) {
      return std::find(names.begin(), names.end(), table) != names.end();
    };
  }
  Recorder recorder(std::move(recorder_options));
  if (recorder.trace()) {
    recorder.trace_metadata()["scenario"] = scenario.run.name;
    recorder.trace_metadata()["trace_level"] = trace_level_name(options.trace_level);
    recorder.trace_metadata()["start"] = format_utc_ns(scenario.run.start_unix_ns);
    if (options.trace_from > SimTime::zero())
      recorder.trace_metadata()["trace_from"] = format_duration(options.trace_from.since_epoch());
    if (options.trace_to < SimTime::max())
      recorder.trace_metadata()["trace_to"] = format_duration(options.trace_to.since_epoch());
  }
  // Connected before the World exists, so it sees every event and row from the first.
  TraceTranslator tracer(recorder, options.trace_level);
  FailureCounts failure_counts(recorder, horizon);
  World world(scenario, engine, streams, recorder);
  world.start();

  Progress progress(options.progress, SimTime::zero(), horizon);
  // Why the run stopped early, set by the hook; it only counts if the engine did stop (reason Stopped):
  // the hook also runs once after the last event, when a flag set then must not mark a finished run.
  std::string early_stop;
  // The runaway guard: more than max_event_rate events within one simulated second (a window that
  // starts at a hook call and lasts at least a simulated second) stops the run, checked at the hook,
  // which then fires at least every max_event_rate events.
  const uint64_t rate_limit = options.max_event_rate;
  const uint64_t base_every = rate_limit > 0 ? std::clamp<uint64_t>(rate_limit, 1, kHookEveryEvents) : kHookEveryEvents;
  uint64_t every = base_every;
  SimTime window_start = engine.now();
  uint64_t window_events = engine.events_executed();
  bool rearm = false;  // stopped only to re-arm the hook so that it fires exactly at max_events
  const auto hook = [&] {
    progress.poll(engine.now(), engine.events_executed());
    const uint64_t done = engine.events_executed();
    if (rate_limit > 0 && engine.now() - window_start >= Duration::s(1)) {
      window_start = engine.now();
      window_events = done;
    }
    if (options.interrupt && options.interrupt->load(std::memory_order_relaxed)) {
      early_stop = "interrupted";
    } else if (rate_limit > 0 && done - window_events > rate_limit) {
      early_stop = "event_rate";
    } else if (options.max_events > 0 && done >= options.max_events) {
      early_stop = "max_events";
    } else if (options.max_wall_s > 0 &&
               std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count() >=
                   options.max_wall_s) {
      early_stop = "max_wall";
    } else if (options.max_events > 0 && options.max_events - done < every) {
      rearm = true;
    } else {
      return;
    }
    engine.stop();
  };
  RunResult run;
  for (;;) {
    if (options.max_events > 0)
      every = std::clamp<uint64_t>(options.max_events - std::min(options.max_events, engine.events_executed()), 1,
                                   base_every);
    engine.set_periodic_hook(every, [h = &hook] { (*h)(); });  // one pointer: EventFn stores 48 bytes inline
    rearm = false;
    run = engine.run(horizon);
    if (!(run.reason == StopReason::Stopped && rearm && early_stop.empty())) break;
  }
  if (run.reason != StopReason::Stopped) early_stop.clear();
  const bool interrupted = !early_stop.empty();
  progress.finish(engine.now(), engine.events_executed());
  world.write_summary();
  failure_counts.write();

  SimulationResult result;
  result.complete = !interrupted;
  result.reached = engine.now();
  result.events = engine.events_executed();
  result.fingerprint = engine.fingerprint();
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  RunInfo info;
  info.complete = result.complete;
  info.simulated_until = result.reached;
  info.events_executed = result.events;
  info.fingerprint = result.fingerprint;
  info.seed = scenario.run.seed;
  info.scenario_hash = hex64(scenario.hash);
  info.stop_reason = interrupted                             ? early_stop
                     : run.reason == StopReason::Horizon     ? "horizon"
                     : run.reason == StopReason::Empty       ? "empty"
                                                             : "stopped";
  if (!options.directory.empty()) {
    // resolved.json and manifest.json first: summary.json, written last by finish(), marks a run
    // directory whose every file is complete.
    write_file_atomically(options.directory / "resolved.json", scenario.resolved.dump(2) + "\n");
    nlohmann::json manifest = {
        {"version", FLEETSIM_VERSION},
        {"scenario", scenario.source},
        {"scenario_hash", info.scenario_hash},
        {"seed", scenario.run.seed},
        {"command_line", options.command_line},
        {"started_at", started_at},
        {"wall_s", result.wall_s},
        {"events_executed", result.events},
        {"events_per_s", result.wall_s > 0 ? static_cast<double>(result.events) / result.wall_s : 0.0},
        {"fingerprint", hex64(result.fingerprint)},
        {"complete", result.complete},
        {"events_level", event_level_name(options.event_level)},
        {"host", host_name()},
    };
    // What this run writes: `fleetsim run --force` removes these (and only these) before a rerun.
    nlohmann::json files = nlohmann::json::array({"resolved.json", "manifest.json"});
    for (const auto& f : recorder.file_names()) files.push_back(f);
    for (const auto& f : options.caller_files) files.push_back(f);
    manifest["files"] = std::move(files);
    write_file_atomically(options.directory / "manifest.json", manifest.dump(2) + "\n");
  }
  result.stop_reason = info.stop_reason;
  recorder.finish(info, options.before_summary);
  result.summary_text = recorder.final_summary();
  result.summary = nlohmann::json::parse(result.summary_text);
  return result;
}

}  // namespace fleetsim
