// SPDX-License-Identifier: Apache-2.0
// A run: from a resume (launch or restart) to a stop (failure, preemption, regrow) or the job's
// completion. Segment mode schedules only the completion and evaluates the schedule in closed form
// (schedule.hpp); step mode schedules each step here and each checkpoint stall (checkpoints.cpp).
#include "models/training/training_impl.hpp"

#include <algorithm>
#include <cmath>

namespace fleetsim {

/// Schedules the resume after detection (not for a planned stop), the restart and the restore.
void TrainingModel::Impl::schedule_resume(Job& j) {
  engine.cancel(j.resume_event);
  const RecoveryPolicy& rp = j.spec.recovery;
  // A planned stop (launch, preemption, regrow) needs no failure detection.
  const SimTime ready = j.planned ? now() : std::max(now(), j.down_since + rp.detection);
  Duration d = rp.restart;
  if (j.committed.tokens > 0) d += j.spec.checkpoint.restore_time(j.spec.model.parameters);
  j.resume_event = schedule_job(j, ready + d, Phase::Control, &Impl::resume, kinds.resume);
}

/// The job runs again from its committed checkpoint, on its current placement and pace.
void TrainingModel::Impl::resume(Job& j) {
  j.resume_event = {};
  if (!placement_connected(j)) {
    // The restart cannot form its communicators: wait for the network (down time keeps its cause).
    j.partitioned = true;
    j.state = JobState::Waiting;
    j.wait_since = now();
    return;
  }
  accrue_dark(j);
  const double down = (now() - j.down_since).seconds();
  j.stats.down_s += down;
  j.stats.by_cause[j.cause].down_s += down;
  j.state = JobState::Running;
  j.planned = false;
  j.step = compute_step(j);
  if (!j.has_nominal && j.dp_active == j.spec.parallel.dp) {
    j.nominal = j.step;
    j.has_nominal = true;
  }
  j.slowdown = slowest(j);
  const Duration T = paced_step(j);
  const double remaining = std::max(0.0, j.spec.total_tokens - j.committed.tokens);
  j.anchor = plan_run(j, T, remaining);
  j.superseded.reset();
  j.carried.clear();
  j.committed.resumed_at = now();
  j.committed.stall_total_ns = j.stall_total_ns;
  j.run_start = now();
  report_traffic(j);
  recorder.publish(now(), TrainingResume{.job = j.spec.name,
                                         .dp = j.dp_active,
                                         .step_s = T.seconds(),
                                         .checkpoint_every_steps = j.anchor.steps_per_checkpoint,
                                         .tokens = j.committed.tokens});
  const Duration left = bounded_seconds(remaining / j.anchor.tokens_per_step * T.seconds() / 0.9);
  scheduler.set_expected_end(j.allocation, left == Duration::max() || SimTime::max() - now() <= left ? SimTime::max() : now() + left);
  if (step_mode(j)) {
    j.steps = j.anchor.steps;
    j.tokens = j.anchor.tokens;
    j.steps_since_checkpoint = 0;
    j.in_stall = false;
    j.checkpoint_in_flight.reset();
    j.run_event = schedule_job(j, now() + T, Phase::Completion, &Impl::step_end, kinds.step);
  } else {
    j.run_event = schedule_job(j, completion_time(j.anchor), Phase::Completion, &Impl::finish, kinds.done);
  }
}

/// The schedule of a run starting now from the committed checkpoint at step T with `remaining_tokens`
/// to train; sets the job's checkpoint interval.
RunAnchor TrainingModel::Impl::plan_run(Job& j, Duration T, double remaining_tokens) {
  const CheckpointPolicy& cp = j.spec.checkpoint;
  const double P = j.spec.model.parameters;
  const bool none = cp.kind == CheckpointPolicy::Kind::None;
  const Duration C = none ? Duration::zero() : cp.stall(P);
  const Duration W = none ? Duration::zero() : std::max(C, cp.write_time(P));
  const double tokens_per_step = j.step.tokens;
  const auto remaining_steps = static_cast<uint64_t>(std::max(1.0, std::ceil(remaining_tokens / tokens_per_step - 1e-9)));
  RunAnchor a;
  if (none) {
    a.steps_per_checkpoint = remaining_steps + 1;  // never reached
    j.checkpoint_interval = Duration::max();
  } else {
    j.checkpoint_interval = checkpoint_interval(j, C);
    // Qualified: TrainingModel::steps_per_checkpoint (the accessor) would hide the function.
    a.steps_per_checkpoint = fleetsim::steps_per_checkpoint(j.checkpoint_interval, T, C, W, remaining_steps);
  }
  a.start = now();
  a.steps = j.committed.steps;
  a.tokens = j.committed.tokens;
  a.steps_since_checkpoint = 0;
  a.stall_total_ns = j.stall_total_ns;
  a.step_ns = T.ticks();
  a.stall_ns = C.ticks();
  a.durable_ns = W.ticks();
  a.tokens_per_step = tokens_per_step;
  a.done_steps = a.steps + remaining_steps;
  return a;
}

/// Step mode: a step ends; the job completes, starts a checkpoint or runs the next step.
void TrainingModel::Impl::step_end(Job& j) {
  j.run_event = {};
  ++j.steps;
  j.tokens += j.anchor.tokens_per_step;
  ++j.steps_since_checkpoint;
  if (j.steps >= j.anchor.done_steps) {
    finish(j);
    return;
  }
  if (j.steps_since_checkpoint >= j.anchor.steps_per_checkpoint) {
    start_checkpoint(j);
    return;
  }
  j.run_event = schedule_job(j, now() + Duration::ns(j.anchor.step_ns), Phase::Completion, &Impl::step_end, kinds.step);
}

/// Position of a Running job at t (events at t not applied).
RunPosition TrainingModel::Impl::position(const Job& j, SimTime t) const {
  if (step_mode(j)) {
    RunPosition p;
    p.steps = j.steps;
    p.tokens = j.tokens;
    p.steps_since_checkpoint = j.steps_since_checkpoint;
    p.stall_total_ns = j.stall_total_ns + (j.in_stall ? (t - j.stall_start).ticks() : 0);
    p.in_stall = j.in_stall;
    if (j.checkpoint_in_flight && j.checkpoint_in_flight->durable_at < t) p.durable = j.checkpoint_in_flight;
    return p;
  }
  if (reanchor_pending(j, t)) return position_at(*j.superseded, t);
  return position_at(j.anchor, t);
}

/// Ends the current run at now(): rolls back to the last durable checkpoint (or, planned, takes
/// one now), accounts time, and moves to Recovering under `cause` (`outage`: a scheduled outage's).
void TrainingModel::Impl::stop(Job& j, std::string_view cause, bool planned, bool outage) {
  const SimTime t = now();
  if (traffic != nullptr && j.state == JobState::Running) traffic->stopped(j.index);
  accrue_dark(j);  // under the cause that ends here
  engine.cancel(j.run_event);
  j.run_event = {};
  if (j.state == JobState::Running) {
    close_run(j, cause, planned);
  } else if (j.state == JobState::Recovering || j.state == JobState::Waiting) {
    const double down = (t - j.down_since).seconds();
    j.stats.down_s += down;
    j.stats.by_cause[j.cause].down_s += down;
    if (j.state == JobState::Waiting) j.stats.waiting_s += (t - j.wait_since).seconds();
    engine.cancel(j.resume_event);
    j.resume_event = {};
    j.down_since = t;
  }
  j.cause = std::string(cause);
  j.planned = planned;
  if (!planned) {
    ++j.stats.interruptions;
    ++j.stats.by_cause[j.cause].interruptions;
  }
  if (outage) j.stats.by_cause[j.cause].outage = true;
  j.state = JobState::Recovering;
}

/// The accounts of a run stopped now: training time, stall, and the work lost back to the latest
/// durable checkpoint (none when planned: a checkpoint is taken now).
void TrainingModel::Impl::close_run(Job& j, std::string_view cause, bool planned) {
  const SimTime t = now();
  const RunPosition p = position(j, t);
  CheckpointMark c = best_committed(j, t, p);
  double lost_s = 0, lost_tokens = 0;
  if (planned) {
    // A checkpoint taken now: nothing is lost. Its write overlaps the restart (downtime).
    c.steps = p.steps;
    c.tokens = p.tokens;
    ++j.stats.checkpoints;
  } else {
    lost_tokens = p.tokens - c.tokens;
    lost_s = ((t - c.resumed_at).ticks() - (p.stall_total_ns - c.stall_total_ns)) * 1e-9;
    lost_s = std::max(0.0, lost_s);
  }
  // Segment mode: checkpoints of a superseded anchor were counted when re-anchoring.
  if (!step_mode(j) && !reanchor_pending(j, t)) j.stats.checkpoints += p.checkpoints_started;
  j.stats.running_s += (t - j.run_start).seconds();
  j.stall_total_ns = p.stall_total_ns;
  j.stats.lost_s += lost_s;
  j.stats.lost_tokens += lost_tokens;
  LossByCause& loss = j.stats.by_cause[std::string(cause)];
  loss.lost_s += lost_s;
  loss.lost_tokens += lost_tokens;
  j.committed = c;
  j.carried.clear();
  j.checkpoint_in_flight.reset();
  j.down_since = t;
}

/// The run reaches the job's total tokens: the job is done, its hosts go back, its followers start.
void TrainingModel::Impl::finish(Job& j) {
  j.run_event = {};
  const SimTime t = now();
  if (!step_mode(j)) {
    const RunPosition p = position(j, t);
    if (!reanchor_pending(j, t)) j.stats.checkpoints += p.checkpoints_started;
    j.stall_total_ns = p.stall_total_ns;
  }
  j.stats.running_s += (t - j.run_start).seconds();
  j.steps = j.anchor.done_steps;
  j.tokens = j.anchor.tokens + double(j.anchor.done_steps - j.anchor.steps) * j.anchor.tokens_per_step;
  j.committed.steps = j.steps;
  j.committed.tokens = j.tokens;
  if (traffic != nullptr) traffic->finished(j.index, j.state == JobState::Running);
  j.state = JobState::Done;
  j.stats.done = true;
  j.stats.finished = t;
  recorder.publish(t, TrainingDone{.job = j.spec.name,
                                  .tokens = j.tokens,
                                  .interruptions = j.stats.interruptions,
                                  .ettr = ettr(j)});
  scheduler.release(j.allocation, false);
  for (size_t f : j.followers) submit(jobs[f]);
}

}  // namespace fleetsim
