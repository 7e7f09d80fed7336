// SPDX-License-Identifier: Apache-2.0
// Checkpoints: the interval (fixed, or Young/Daly's for the placement's failure rate), step mode's
// checkpoint events, the latest durable checkpoint a restart falls back to, and the checkpoint figures
// as of now in both fidelities.
#include "models/training/training_impl.hpp"

#include <algorithm>

namespace fleetsim {

/// The interval of the run starting now, for a checkpoint stalling `stall`.
Duration TrainingModel::Impl::checkpoint_interval(Job& j, Duration stall) {
  const CheckpointPolicy& cp = j.spec.checkpoint;
  if (cp.kind == CheckpointPolicy::Kind::Fixed) return cp.interval;
  if (cp.kind == CheckpointPolicy::Kind::None) return Duration::max();
  const double rate = failure_rate_per_s(j, cp);
  if (rate <= 0) return cp.interval;
  return young_daly_interval(stall, Duration::from_seconds(1.0 / rate), cp.daly_higher_order);
}

/// The rate of interruptions Young/Daly plans for: the policy's MTBF, or the rate expected from the
/// failure spec on this placement, updated by the failures observed when the policy says so.
double TrainingModel::Impl::failure_rate_per_s(const Job& j, const CheckpointPolicy& cp) const {
  if (cp.mtbf) return 1.0 / cp.mtbf->seconds();
  double expected = 0;
  if (failure_spec != nullptr) {
    const std::string& region = fleet.region_name(RegionId{allocation_of(j).region});
    expected = interruption_rate_per_s(*failure_spec, j.counts, region, j.spec.hardware.accelerator);
  }
  double rate = expected;
  if (cp.mtbf_source == CheckpointPolicy::MtbfSource::Observed) {
    // Gamma-Poisson update: the expected rate counts as one failure's worth of prior exposure.
    const double exposure = j.stats.running_s;
    const double n = double(j.failures_seen);
    if (expected > 0) rate = (1.0 + n) / (1.0 / expected + exposure);
    else if (n > 0 && exposure > 0) rate = n / exposure;
  }
  return rate;
}

/// Step mode: a checkpoint starts at this step end and stalls the job C; the previous one, if durable
/// by now, becomes the committed checkpoint.
void TrainingModel::Impl::start_checkpoint(Job& j) {
  if (j.checkpoint_in_flight && j.checkpoint_in_flight->durable_at <= now()) j.committed = *j.checkpoint_in_flight;
  CheckpointMark c;
  c.steps = j.steps;
  c.tokens = j.tokens;
  c.durable_at = now() + Duration::ns(j.anchor.durable_ns);
  c.resumed_at = now() + Duration::ns(j.anchor.stall_ns);
  c.stall_total_ns = j.stall_total_ns + j.anchor.stall_ns;
  j.checkpoint_in_flight = c;
  j.in_stall = true;
  j.stall_start = now();
  ++j.stats.checkpoints;
  recorder.publish(now(), TrainingCheckpoint{.job = j.spec.name, .tokens = j.tokens});
  j.run_event = schedule_job(j, now() + Duration::ns(j.anchor.stall_ns), Phase::Completion, &Impl::stall_end, kinds.stall_end);
}

/// Step mode: the checkpoint's stall ends; the next step begins.
void TrainingModel::Impl::stall_end(Job& j) {
  j.run_event = {};
  j.stall_total_ns += j.anchor.stall_ns;
  j.steps_since_checkpoint = 0;
  j.in_stall = false;
  j.run_event = schedule_job(j, now() + Duration::ns(j.anchor.step_ns), Phase::Completion, &Impl::step_end, kinds.step);
}

/// The latest checkpoint durable before t: the committed one, one carried from a superseded anchor, or
/// the current anchor's.
CheckpointMark TrainingModel::Impl::best_committed(const Job& j, SimTime t, const RunPosition& p) const {
  CheckpointMark c = j.committed;
  for (const CheckpointMark& k : j.carried)
    if (k.durable_at < t && k.tokens > c.tokens) c = k;
  if (p.durable && p.durable->tokens > c.tokens) c = *p.durable;
  return c;
}

/// Segment mode, re-anchoring at t: commits the checkpoints durable by now and carries the anchor's
/// last started one (its write may still be in flight) over to the next anchor.
void TrainingModel::Impl::carry_checkpoints(Job& j, const RunPosition& p, SimTime t) {
  for (const CheckpointMark& k : j.carried)
    if (k.durable_at < t && k.tokens > j.committed.tokens) j.committed = k;
  std::erase_if(j.carried, [&](const CheckpointMark& k) { return k.durable_at < t; });
  if (p.started) j.carried.push_back(*p.started);
  if (p.durable && p.durable->durable_at < t && p.durable->tokens > j.committed.tokens) j.committed = *p.durable;
}

/// Checkpoints started up to now. Step mode counts each as it starts; segment mode counts those of a
/// run when it closes (a stop, a re-anchor, the end), so the open run's are evaluated here.
uint64_t TrainingModel::Impl::checkpoints_now(const Job& j) const {
  uint64_t n = j.stats.checkpoints;
  // Before a pending re-anchor (t <= anchor.start) the superseded anchor's checkpoints are counted already.
  if (j.state == JobState::Running && !step_mode(j) && !reanchor_pending(j, now()))
    n += position_at(j.anchor, now()).checkpoints_started;
  return n;
}

/// Checkpoint stall time up to now, a stall in progress included (as ettr() counts it).
double TrainingModel::Impl::stall_s_now(const Job& j) const {
  return double(j.state == JobState::Running ? position(j, now()).stall_total_ns : j.stall_total_ns) * 1e-9;
}

}  // namespace fleetsim
