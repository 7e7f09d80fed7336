// SPDX-License-Identifier: Apache-2.0
// Interruptions: failures, repairs, stragglers and outages reaching the jobs whose hosts they strike,
// and network partitions of a placement (with a PlacementProbe).
#include "models/training/training_impl.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace fleetsim {

namespace {

/// A failure, or a full outage's start: the hosts it strikes cannot train.
bool stops_job(const FailureEvent& e) {
  return e.kind == FailureEvent::Kind::Failure ||
         (e.kind == FailureEvent::Kind::OutageStart && e.outage_kind == OutageKind::Full);
}

/// A repair, or a full outage's end.
bool clears(const FailureEvent& e) {
  return e.kind == FailureEvent::Kind::Repair || (e.kind == FailureEvent::Kind::OutageEnd && e.outage_kind == OutageKind::Full);
}

/// Job indices, each once, in increasing order.
void sort_unique(std::vector<size_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

void TrainingModel::Impl::on_failure(const FailureEvent& e) {
  on_fault(e);
  if (probe != nullptr && (e.cls == ComponentClass::Link || e.cls == ComponentClass::Switch)) {
    if (e.kind == FailureEvent::Kind::Failure) check_split(e);
    else if (e.kind == FailureEvent::Kind::Repair) check_whole();
  }
}

void TrainingModel::Impl::on_fault(const FailureEvent& e) {
  using K = FailureEvent::Kind;
  if (e.kind == K::RepairStart) return;
  if (e.kind == K::StragglerStart || e.kind == K::StragglerEnd) {
    affected(e.component, reached);
    size_t last = SIZE_MAX;
    for (const auto& [ji, n] : reached)
      if (ji != last) {
        last = ji;
        repace(jobs[ji]);
      }
    return;
  }
  if ((e.kind == K::OutageStart || e.kind == K::OutageEnd) && e.outage_kind == OutageKind::Network) {
    for (Job& j : jobs) repace(j);
    return;
  }
  if (!stops_job(e) && !clears(e)) return;
  affected(e.component, reached);
  if (reached.empty()) return;
  const bool outage = e.kind == K::OutageStart || e.kind == K::OutageEnd;
  if (outage) update_dark(reached);  // the fleet has changed: shares of hosts in the dark from now
  if (stops_job(e)) {
    interrupt_hit_jobs(e);
  } else {
    clear_faults();
  }
}

/// A failure or a full outage's start over `reached`: each job with an active host there stops and
/// recovers (a job already waiting only recovers).
void TrainingModel::Impl::interrupt_hit_jobs(const FailureEvent& e) {
  const bool outage = e.kind == FailureEvent::Kind::OutageStart;
  std::vector<size_t> hit;
  for (const auto& [ji, n] : reached) {
    Job& j = jobs[ji];
    if (!has_hosts(j)) continue;
    ++j.open_faults[n.value()];
    if (node_active(j, n) && (hit.empty() || hit.back() != ji)) hit.push_back(ji);
  }
  sort_unique(hit);
  for (size_t ji : hit) {
    Job& j = jobs[ji];
    const bool move = outage && j.spec.recovery.outage == RecoveryPolicy::OutagePolicy::Move;
    // A job pinned to a region moves only inside it (hosts under the outage are not free, so a
    // region outage leaves it paused); any other job leaves the outage's region.
    const std::optional<RegionId> away =
        j.spec.region.empty() ? std::optional<RegionId>(fleet.region_of(e.component)) : std::nullopt;
    if (j.state == JobState::Waiting) {
      // Not running, so nothing to interrupt: without this, every failure drawn on the dark hosts
      // of a job paused by an outage counted as another interruption and took the outage's down
      // time. The fault joins what the job waits for, its down time stays with the cause that
      // stopped it, and an outage may still move it.
      recover(j, move, away);
      continue;
    }
    const std::string cause = outage ? fmt::format("outage: {}", e.cause) : std::string(e.cause);
    record_interrupt(j, cause, class_name(e.cls), fleet.path(e.component));
    if (!outage) ++j.failures_seen;
    stop(j, cause, false, outage);
    recover(j, move, away);
  }
}

/// A repair or a full outage's end over `reached`: the faults close; waiting jobs go on with their
/// recovery, and a shrunk job whose replicas are all whole again regrows.
void TrainingModel::Impl::clear_faults() {
  std::vector<size_t> touched;
  for (const auto& [ji, n] : reached) {
    Job& j = jobs[ji];
    auto it = j.open_faults.find(n.value());
    if (it == j.open_faults.end()) continue;
    if (--it->second == 0) j.open_faults.erase(it);
    touched.push_back(ji);
  }
  sort_unique(touched);
  for (size_t ji : touched) {
    Job& j = jobs[ji];
    if (j.state == JobState::Waiting) {
      recover(j);
    } else if (j.state == JobState::Running && j.shrunk && gang_faults(j).empty()) {
      regrow(j);
    }
  }
}

void TrainingModel::Impl::record_interrupt(const Job& j, std::string_view cause, std::string_view cls,
                                           std::string_view path) {
  recorder.publish(now(), TrainingInterrupt{.job = j.spec.name,
                                            .cause = cause,
                                            .component_class = cls,
                                            .path = path,
                                            .state = job_state_name(j.state)});
}

/// Jobs' allocated nodes (gang and spares) inside component c: (job, node) pairs.
void TrainingModel::Impl::affected(ComponentRef c, std::vector<std::pair<size_t, NodeId>>& out) const {
  out.clear();
  auto add = [&](NodeId n) {
    const AllocationId a = scheduler.owner(n);
    if (a == kNoAllocation || a >= job_of_allocation.size() || job_of_allocation[a] < 0) return;
    out.emplace_back(static_cast<size_t>(job_of_allocation[a]), n);
  };
  if (c.level == Level::Gpu) {
    add(fleet.node_of(GpuId{c.index}));
    return;
  }
  if (c.level == Level::Node) {
    add(NodeId{c.index});
    return;
  }
  const IndexRange r = fleet.range(c, Level::Node);
  if (c.level == Level::Rack) {
    for (uint32_t n = r.begin; n < r.end; ++n) add(NodeId{n});
    return;
  }
  for (const Job& j : jobs) {
    if (j.allocation == kNoAllocation || !has_hosts(j)) continue;
    const auto& al = allocation_of(j);
    for (const auto* v : {&al.nodes, &al.spares})
      for (auto it = std::lower_bound(v->begin(), v->end(), NodeId{r.begin}); it != v->end() && it->value() < r.end; ++it)
        out.emplace_back(j.index, *it);
  }
}

// ---------------------------------------------------------------- network partitions

/// Asks the probe about the job's active nodes (the whole gang, or the live replicas when shrunk).
bool TrainingModel::Impl::placement_connected(const Job& j) {
  if (probe == nullptr || j.allocation == kNoAllocation) return true;
  const auto& nodes = allocation_of(j).nodes;
  if (!j.shrunk) return probe->connected(std::span<const NodeId>(nodes));
  probe_nodes.clear();
  for (size_t k = 0; k < nodes.size(); ++k)
    if (j.replica_active[std::min(j.replica_active.size() - 1, k / j.replica_nodes)] != 0) probe_nodes.push_back(nodes[k]);
  return probe->connected(std::span<const NodeId>(probe_nodes));
}

/// After a link or switch failure (the router has seen it): a running job whose placement it splits
/// is interrupted like a failure inside the placement. Recovering and waiting jobs are not running:
/// resume() asks the probe before they run again. One probe per running job.
void TrainingModel::Impl::check_split(const FailureEvent& e) { check_split(class_name(e.cls), fleet.path(e.component)); }

void TrainingModel::Impl::check_split(std::string_view cls, std::string_view path) {
  for (Job& j : jobs) {
    if (j.state != JobState::Running || placement_connected(j)) continue;
    constexpr std::string_view cause = "network partition";
    record_interrupt(j, cause, cls, path);
    ++j.failures_seen;
    stop(j, cause, false);
    j.partitioned = true;
    recover(j);  // asks the probe again (spares may not have changed the placement)
  }
}

/// After a link or switch repair (a repair never splits): jobs waiting on a split placement that is
/// whole again go on with their recovery (which may still wait for failed nodes).
void TrainingModel::Impl::check_whole() {
  for (Job& j : jobs) {
    if (!j.partitioned || j.state != JobState::Waiting) continue;
    if (placement_connected(j)) {
      j.partitioned = false;
      recover(j);
    }
  }
}

}  // namespace fleetsim
