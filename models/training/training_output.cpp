// SPDX-License-Identifier: Apache-2.0
// Output: the `training` table's rows every sample interval, recorder.summary()["training"], and the
// figures as of now they are made of (ETTR, tokens trained and committed).
#include "models/training/training_impl.hpp"

#include <algorithm>

namespace fleetsim {

/// Effective training time ratio as of now: (training time - stall - lost) / (now - first start).
double TrainingModel::Impl::ettr(const Job& j) const {
  if (!j.stats.started) return 0;
  const SimTime end = j.stats.done ? j.stats.finished : now();
  const double elapsed = (end - j.stats.first_start).seconds();
  if (elapsed <= 0) return 0;
  double running = j.stats.running_s;
  int64_t stall = j.stall_total_ns;
  if (j.state == JobState::Running) {
    const RunPosition p = position(j, now());
    running += (now() - j.run_start).seconds();
    stall = p.stall_total_ns;
  }
  return std::max(0.0, running - stall * 1e-9 - j.stats.lost_s) / elapsed;
}

double TrainingModel::Impl::tokens_now(const Job& j) const {
  if (j.state == JobState::Running) return position(j, now()).tokens;
  return j.committed.tokens;
}

double TrainingModel::Impl::committed_now(const Job& j) const {
  if (j.state == JobState::Running) {
    const RunPosition p = position(j, now());
    return best_committed(j, now(), p).tokens;
  }
  return j.committed.tokens;
}

/// A row per job (pending jobs and jobs done before the last sample left out); sampling stops once
/// every job is done.
void TrainingModel::Impl::sample() {
  sample_event = {};
  bool any = false;
  for (const Job& j : jobs) {
    if (j.state == JobState::Pending) {
      any = true;
      continue;
    }
    if (j.state == JobState::Done && j.stats.finished < now() - spec.sample_interval) continue;
    any = any || j.state != JobState::Done;
    recorder.row(table, TrainingSample{.time = now(),
                                       .job = j.spec.name,
                                       .state = job_state_name(j.state),
                                       .tokens = tokens_now(j),
                                       .tokens_committed = committed_now(j),
                                       .dp = int64_t{j.dp_active},
                                       .step_time_s = j.state == JobState::Running ? Duration::ns(j.anchor.step_ns).seconds() : 0.0,
                                       .ettr = ettr(j)});
  }
  if (any) sample_event = schedule(now() + spec.sample_interval, Phase::Sample, [this] { sample(); }, kinds.sample);
}

void TrainingModel::Impl::write_summary() {
  TrainingSummary out;
  double useful = 0, elapsed_all = 0;
  for (const Job& j : jobs) {
    const SimTime end = j.stats.done ? j.stats.finished : now();
    const double elapsed = j.stats.started ? (end - j.stats.first_start).seconds() : 0.0;
    const double e = ettr(j);
    const double tk = tokens_now(j);
    out.jobs[j.spec.name] = job_summary(j, elapsed, e, tk);
    out.tokens_trained += tk;
    useful += e * elapsed;
    elapsed_all += elapsed;
    out.lost_s += j.stats.lost_s;
    out.down_s += j.stats.down_s;
    out.interruptions += j.stats.interruptions;
  }
  out.ettr = elapsed_all > 0 ? useful / elapsed_all : 0.0;
  out.scheduler = {.preemptions = scheduler.preemptions(), .backfilled = scheduler.backfilled(), .queued = scheduler.queued()};
  recorder.summarize(out);
}

/// One job's entry of the summary, as of now (`elapsed` since its first start, its ETTR and tokens).
TrainingJobSummary TrainingModel::Impl::job_summary(const Job& j, double elapsed, double ettr_now, double tokens) const {
  TrainingJobSummary o;
  o.state = job_state_name(j.state);
  o.gpus = j.spec.gpus();
  o.layout = layout_name(j.spec.parallel);
  o.accelerator = j.spec.hardware.accelerator;
  o.memory_per_gpu_bytes = j.memory.total();
  o.tokens_target = j.spec.total_tokens;
  o.tokens_trained = tokens;
  o.complete = j.stats.done;
  if (j.has_nominal) {
    const StepBreakdown& n = j.nominal;
    o.step_time_s = Nullable<double>::of(n.step_s);
    o.tokens_per_s = Nullable<double>::of(n.tokens_per_s);
    o.mfu = Nullable<double>::of(n.mfu);
    o.pipeline_bubble_fraction = Nullable<double>::of(n.bubble_fraction);
    o.compute_s = Nullable<double>::of(n.compute_s);
    o.exposed_comm_s = Nullable<double>::of(n.exposed_comm_s);
    o.comm_s = Nullable<TrainingCommSeconds>::of({.tp = n.tp_s, .pp = n.pp_s, .dp = n.dp_s, .ep = n.ep_s, .cp = n.cp_s});
    if (n.dp_bus_bytes_per_s > 0) o.dp_bus_bandwidth_bytes_per_s = Nullable<double>::of(n.dp_bus_bytes_per_s);
    const double gpus = double(j.spec.gpus());
    o.mfu_effective = Nullable<double>::of(
        elapsed > 0 ? tokens * model_flops_per_token(j.spec) / (elapsed * gpus * j.spec.hardware.peak_flop_per_s) : 0.0);
    o.goodput = Nullable<double>::of(elapsed > 0 ? tokens / (elapsed * n.tokens_per_s) : 0.0);
  }
  // On a shared fabric the step moves with the other consumers' traffic: the pace now, next to the
  // nominal step of the first placement.
  if (traffic != nullptr && j.state == JobState::Running)
    o.step_time_current_s = Nullable<double>::of(Duration::ns(j.anchor.step_ns).seconds());
  o.elapsed_s = elapsed;
  o.queued_s = j.stats.queued_s;
  // null until it happens, so the keys are there from the first event on (`fleetsim plan` checks
  // a constraint's metric against a one-event probe run).
  if (j.stats.started) o.started_s = Nullable<double>::of(j.stats.first_start.seconds());
  if (j.stats.done) o.finished_s = Nullable<double>::of(j.stats.finished.seconds());
  o.ettr = ettr_now;
  o.interruptions = j.stats.interruptions;
  o.checkpoints = checkpoints_now(j);
  if (j.checkpoint_interval != Duration::max() && j.checkpoint_interval > Duration::zero())
    o.checkpoint_interval_s = Nullable<double>::of(j.checkpoint_interval.seconds());
  o.lost_s = j.stats.lost_s;
  o.lost_tokens = j.stats.lost_tokens;
  o.down_s = j.stats.down_s;
  o.waiting_s = j.stats.waiting_s;
  o.dark_s = j.stats.dark_s;
  o.checkpoint_stall_s = stall_s_now(j);
  o.shrinks = j.stats.shrinks;
  o.regrows = j.stats.regrows;
  o.moves = j.stats.moves;
  o.preemptions = j.stats.preemptions;
  for (const auto& [cause, l] : j.stats.by_cause) {
    o.by_cause[cause] = {.interruptions = l.interruptions, .lost_s = l.lost_s, .lost_tokens = l.lost_tokens,
                         .down_s = l.down_s, .dark_s = l.dark_s, .outage = l.outage};
  }
  return o;
}

}  // namespace fleetsim
