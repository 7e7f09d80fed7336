// SPDX-License-Identifier: Apache-2.0
#include "tools/run/event_level.hpp"

#include <array>
#include <utility>

namespace fleetsim {

std::optional<EventLevel> parse_event_level(std::string_view text) {
  if (text == "none") return EventLevel::None;
  if (text == "summary") return EventLevel::Summary;
  if (text == "jobs") return EventLevel::Jobs;
  if (text == "all") return EventLevel::All;
  return std::nullopt;
}

std::string_view event_level_name(EventLevel level) {
  switch (level) {
    case EventLevel::None: return "none";
    case EventLevel::Summary: return "summary";
    case EventLevel::Jobs: return "jobs";
    case EventLevel::All: return "all";
  }
  return "none";
}

EventLevel event_kind_level(std::string_view kind) {
  // The kinds the models publish (docs/failures.md, training.md, inference.md). Failures, repairs and
  // checkpoints scale with fleet size times horizon; these scale with jobs, services and outages.
  static constexpr std::array<std::pair<std::string_view, EventLevel>, 18> kLevels = {{
      {"outage_start", EventLevel::Summary},
      {"outage_end", EventLevel::Summary},
      {"training_submit", EventLevel::Summary},
      {"training_start", EventLevel::Summary},
      {"training_done", EventLevel::Summary},
      {"training_interrupt", EventLevel::Jobs},
      {"training_resume", EventLevel::Jobs},
      {"training_preempt", EventLevel::Jobs},
      {"training_move", EventLevel::Jobs},
      {"training_shrink", EventLevel::Jobs},
      {"training_regrow", EventLevel::Jobs},
      {"inference_scale_up", EventLevel::Jobs},
      {"inference_scale_down", EventLevel::Jobs},
      {"straggler_start", EventLevel::Jobs},
      {"straggler_end", EventLevel::Jobs},
      {"failure", EventLevel::All},
      {"repair", EventLevel::All},
      {"training_checkpoint", EventLevel::All},
  }};
  for (const auto& [k, level] : kLevels)
    if (k == kind) return level;
  return EventLevel::All;
}

}  // namespace fleetsim
