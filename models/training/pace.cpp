// SPDX-License-Identifier: Apache-2.0
// Pace: the step on the job's current placement (its layout, the network's state, the shared fabric's
// load) times the slowest GPU's slowdown, and pace changes, which apply from the next step boundary.
#include "models/training/training_impl.hpp"

#include <algorithm>

namespace fleetsim {

const CommCost& TrainingModel::Impl::comm_of(const Job& j) const {
  const CommCost* net = traffic != nullptr ? &traffic->comm(j.index) : comm;
  if (net == nullptr) return *alphabeta[j.index];
  own_fallback[j.index]->net = net;
  return *own_fallback[j.index];
}

/// Tells the shared fabric the job's pace and checkpoint writes (after its step was costed).
void TrainingModel::Impl::report_traffic(const Job& j) {
  if (traffic == nullptr || j.state != JobState::Running) return;
  JobTraffic t;
  t.step_s = Duration::ns(j.anchor.step_ns).seconds();
  if (j.anchor.stall_ns > 0 || j.anchor.durable_ns > 0) {
    t.checkpoint_bytes = j.spec.checkpoint.size(j.spec.model.parameters);
    t.checkpoint_write_s = Duration::ns(j.anchor.durable_ns).seconds();
    t.checkpoint_cycle_s = static_cast<double>(j.anchor.steps_per_checkpoint) * t.step_s + Duration::ns(j.anchor.stall_ns).seconds();
    t.checkpoint_async = j.spec.checkpoint.async;
  }
  traffic->running(j.index, t);
}

double TrainingModel::Impl::placement_network_factor(const Job& j) const {
  const auto& nodes = allocation_of(j).nodes;
  if (nodes.empty()) return 1.0;
  // Datacenters are contiguous node ranges: look at the first and the last node's domains (a job
  // spanning more datacenters is rare, and its bottleneck is the cross-datacenter tier anyway).
  return std::min(fleet.network_factor(ref(nodes.front())), fleet.network_factor(ref(nodes.back())));
}

/// The slowdown of the slowest GPU in the gang's active replicas (a synchronous job runs at its pace).
double TrainingModel::Impl::slowest(const Job& j) const {
  if (fleet.slowed_components() == 0) return 1.0;
  const auto& nodes = allocation_of(j).nodes;
  if (!j.shrunk) return fleet.slowest(std::span<const NodeId>(nodes));
  double s = 1.0;
  for (size_t k = 0; k < nodes.size(); ++k)
    if (j.replica_active[std::min(j.replica_active.size() - 1, k / j.replica_nodes)])
      s = std::max(s, fleet.slowest(std::span<const NodeId>(&nodes[k], 1)));
  return s;
}

/// The step at the current layout (dp_active, network factor), without slowdown.
StepBreakdown TrainingModel::Impl::compute_step(Job& j) {
  update_shape(j);
  j.network_factor = placement_network_factor(j);
  j.shape.network_factor = j.network_factor;
  const PlacementShape& where = j.shape;  // no copy: the group lists are as large as the job
  if (j.dp_active == j.spec.parallel.dp) return step_breakdown(j.spec, j.dp_active, where, comm_of(j));
  // Elastic shrink keeps the micro-batches per replica: the global batch shrinks with DP.
  TrainingJobSpec s = j.spec;
  s.global_batch_tokens = j.spec.global_batch_tokens * j.dp_active / j.spec.parallel.dp;
  return step_breakdown(s, j.dp_active, where, comm_of(j));
}

/// T: the step with its slowdown, at least a nanosecond.
Duration TrainingModel::Impl::paced_step(const Job& j) const {
  return std::max(Duration::ns(1), Duration::from_seconds(j.step.step_s * j.slowdown));
}

/// Changes the pace of a running job (straggler, network) from the next step boundary on.
void TrainingModel::Impl::repace(Job& j, bool recost) {
  if (j.state != JobState::Running) return;
  const int64_t before = j.anchor.step_ns;
  repace_at(j, recost);
  if (recost || j.anchor.step_ns != before) report_traffic(j);
}

void TrainingModel::Impl::repace_at(Job& j, bool recost) {
  const double slow = slowest(j);
  const double network = placement_network_factor(j);
  if (!recost && slow == j.slowdown && network == j.network_factor) return;
  if (recost || network != j.network_factor) j.step = compute_step(j);
  j.slowdown = slow;
  const int64_t T = paced_step(j).ticks();
  if (T == j.anchor.step_ns) return;
  if (step_mode(j)) {
    j.anchor.step_ns = T;  // the step in progress keeps its end; the next ones run at the new pace
    return;
  }
  const SimTime t = now();
  if (t <= j.anchor.start) {
    j.anchor.step_ns = T;  // the anchor has not begun (a pending re-anchor): change its pace
  } else {
    const RunPosition p = position_at(j.anchor, t);
    const RunAnchor next = anchor_at_next_boundary(j.anchor, p, T);
    j.stats.checkpoints += p.checkpoints_started;
    carry_checkpoints(j, p, t);
    j.superseded = j.anchor;
    j.anchor = next;
  }
  engine.cancel(j.run_event);
  const SimTime end = j.anchor.steps >= j.anchor.done_steps ? j.anchor.start : completion_time(j.anchor);
  j.run_event = schedule_job(j, end, Phase::Completion, &Impl::finish, kinds.done);
}

}  // namespace fleetsim
