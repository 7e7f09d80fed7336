// SPDX-License-Identifier: Apache-2.0
// TraceTranslator: turns what the models publish (events.jsonl kinds and table rows) into tracks of
// trace.json. It listens to the recorder's on_event and on_row and writes to its TraceWriter, so no
// model knows the trace exists (the SimGrid way: the tracer subscribes, models only publish).
//
//   Recorder rec(RecorderOptions{.directory = dir, .trace = true, .trace_window = {...}});
//   TraceTranslator tr(rec, TraceLevel::Jobs);     // before World publishes anything
//   ... World world(...); run ...; rec.finish(info);  // trace.json is committed with the rest
//
// What goes where (docs/outputs.md, "trace.json"):
//   process "training jobs": one track per job; its state as one slice at a time: queued (submitted,
//     waiting for hosts), starting (launch and checkpoint restore), running, interrupted: <cause>
//     (down until restarted from the last checkpoint), preempted; shrink/regrow/move as instants.
//   process "region <name>" per region: "outages" tracks (a lane per overlapping outage, so slices
//     never overlap on a track), "failures" (an instant per failure), one track per inference service
//     (serving / degraded / down), counters for GPUs usable/failed/repairing per accelerator, inference
//     replicas, and power and cumulative cost when the scenario has a cost model (cost.csv rows).
// Levels, each including the ones before:
//   summary  outages, utilization and cost counters: small enough for any horizon;
//   jobs     + job and service state slices, failure instants, inference replica counters (default);
//   all      + repairs, stragglers, capacity changes, checkpoints, inference latency and request counters.
#pragma once

#include "sim/recorder.hpp"

#include <memory>
#include <optional>
#include <string_view>

namespace fleetsim {

enum class TraceLevel { None, Summary, Jobs, All };

/// "none", "summary", "jobs", "all"; nullopt for anything else.
std::optional<TraceLevel> parse_trace_level(std::string_view text);
std::string_view trace_level_name(TraceLevel level);

class TraceTranslator {
 public:
  /// Connects to the recorder's signals. The recorder must have a trace writer (RecorderOptions::trace)
  /// unless level is None, in which case nothing is connected.
  TraceTranslator(Recorder& recorder, TraceLevel level);
  ~TraceTranslator();
  TraceTranslator(const TraceTranslator&) = delete;
  TraceTranslator& operator=(const TraceTranslator&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fleetsim
