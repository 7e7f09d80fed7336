// SPDX-License-Identifier: Apache-2.0
// How much of events.jsonl a run writes (`fleetsim run --events LEVEL`, docs/outputs.md). The levels
// mirror trace.json's (trace_translator.hpp), each including the ones before:
//   none     no events.jsonl;
//   summary  outages and the start and end of each training job: a handful of lines for any horizon;
//   jobs     + every training state change (interruptions, restarts, preemptions, moves, shrinks) and
//            inference scaling and stragglers: what a planner reads; the CLI's default;
//   all      + every failure, repair and checkpoint, and any kind not named here (a 7-year fleet of
//            100k GPUs writes hundreds of MB of these).
// Events left out are still published (listeners such as the trace see them) and still counted in
// summary.json's events_published; they are only not written, and not even formatted.
#pragma once

#include <optional>
#include <string_view>

namespace fleetsim {

enum class EventLevel { None, Summary, Jobs, All };

/// "none", "summary", "jobs", "all"; nullopt for anything else.
std::optional<EventLevel> parse_event_level(std::string_view text);
std::string_view event_level_name(EventLevel level);
/// The lowest level that writes events of this kind (All for kinds not listed).
EventLevel event_kind_level(std::string_view kind);

}  // namespace fleetsim
