// SPDX-License-Identifier: Apache-2.0
// The running schedule of a training job in closed form, as pure functions: from an anchor (a step
// boundary) the job runs steps of T ns; after every K steps a checkpoint stalls it C ns and becomes
// durable W ns after it starts (W >= C: an asynchronous write outlives the stall). Segment mode keeps
// only the anchor and evaluates the schedule at any instant; step mode schedules the same steps one
// event at a time (docs/training.md, "Two fidelities, one timeline").
//
//   RunAnchor a{.start = now, .step_ns = T, .stall_ns = C, .durable_ns = W, .steps_per_checkpoint = K,
//               .tokens_per_step = tokens, .done_steps = steps + remaining};
//   const RunPosition p = position_at(a, t);   // steps, tokens, stall, checkpoints as of t
//   const SimTime end = completion_time(a);    // when the schedule reaches done_steps
//
// Instants: position_at(a, t) is the state before the events at t (a step end, a stall end, a
// durability exactly at t are not applied yet), as an interruption at t sees it: Phase::Failure runs
// before Phase::Completion, so both fidelities count the same steps.
#pragma once

#include "sim/time.hpp"

#include <cstdint>
#include <optional>

namespace fleetsim {

/// A checkpoint: the progress it holds, when it is durable, when training resumed after its stall, and
/// the cumulative stall at that instant (to tell training time from stall time).
struct CheckpointMark {
  uint64_t steps = 0;
  double tokens = 0;
  SimTime durable_at;
  SimTime resumed_at;
  int64_t stall_total_ns = 0;
};

/// The schedule from one step boundary (the anchor).
struct RunAnchor {
  SimTime start;                      ///< the step boundary
  uint64_t steps = 0;                 ///< steps done at `start`
  double tokens = 0;                  ///< tokens trained at `start`
  uint64_t steps_since_checkpoint = 0;
  int64_t stall_total_ns = 0;         ///< checkpoint stall accumulated up to `start`
  int64_t step_ns = 1;                ///< T
  int64_t stall_ns = 0;               ///< C
  int64_t durable_ns = 0;             ///< W
  uint64_t steps_per_checkpoint = 1;  ///< K
  double tokens_per_step = 0;
  uint64_t done_steps = 0;            ///< the step count at which the job completes
};

/// Where a run stands at an instant (the events at that instant not yet applied).
struct RunPosition {
  uint64_t steps = 0;
  double tokens = 0;
  uint64_t steps_since_checkpoint = 0;
  int64_t stall_total_ns = 0;
  uint64_t checkpoints_started = 0;      ///< since the anchor
  bool in_stall = false;
  SimTime boundary;                      ///< end of the step or stall in progress
  std::optional<CheckpointMark> durable; ///< the latest durable checkpoint since the anchor
  std::optional<CheckpointMark> started; ///< the latest started checkpoint since the anchor
};

/// The schedule of `a` evaluated at `t` (t <= a.start: the anchor itself).
RunPosition position_at(const RunAnchor& a, SimTime t);

/// When the schedule of `a` reaches a.done_steps (a.done_steps > a.steps); SimTime::max() when that lies
/// beyond the simulated time range (a slow job with trillions of steps left never finishes).
SimTime completion_time(const RunAnchor& a);

/// The anchor at the end of the step or stall in progress at `p` (position_at(a, t) for a t after
/// a.start), running from there at `step_ns`: a pace change applies from the next step boundary on, as
/// step mode applies it to the next step.
RunAnchor anchor_at_next_boundary(const RunAnchor& a, const RunPosition& p, int64_t step_ns);

/// K, the steps between checkpoints: the interval over the step (rounded), at least one and at most
/// one more than the steps left (so a job shorter than an interval takes no checkpoint), and at least
/// enough steps for one write to end before the next checkpoint starts (W - C of steps).
uint64_t steps_per_checkpoint(Duration interval, Duration step, Duration stall, Duration durable,
                              uint64_t remaining_steps);

/// A duration of `s` seconds, or Duration::max() when unknown or beyond a century (an "unknown"
/// runtime, for backfill).
Duration bounded_seconds(double s);

}  // namespace fleetsim
