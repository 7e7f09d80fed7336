// SPDX-License-Identifier: Apache-2.0
#include "tools/run/event_level.hpp"

#include "models/failures/failure_records.hpp"
#include "models/inference/inference_records.hpp"
#include "models/training/training_records.hpp"

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
      {OutageStart::kind, EventLevel::Summary},
      {OutageEnd::kind, EventLevel::Summary},
      {TrainingSubmit::kind, EventLevel::Summary},
      {TrainingStart::kind, EventLevel::Summary},
      {TrainingDone::kind, EventLevel::Summary},
      {TrainingInterrupt::kind, EventLevel::Jobs},
      {TrainingResume::kind, EventLevel::Jobs},
      {TrainingPreempt::kind, EventLevel::Jobs},
      {TrainingMove::kind, EventLevel::Jobs},
      {TrainingShrink::kind, EventLevel::Jobs},
      {TrainingRegrow::kind, EventLevel::Jobs},
      {InferenceScaleUp::kind, EventLevel::Jobs},
      {InferenceScaleDown::kind, EventLevel::Jobs},
      {StragglerStart::kind, EventLevel::Jobs},  // scheduled and process stragglers share the kind
      {StragglerEnd::kind, EventLevel::Jobs},
      {ComponentFailure::kind, EventLevel::All},
      {ComponentRepair::kind, EventLevel::All},
      {TrainingCheckpoint::kind, EventLevel::All},
  }};
  for (const auto& [k, level] : kLevels)
    if (k == kind) return level;
  return EventLevel::All;
}

}  // namespace fleetsim
