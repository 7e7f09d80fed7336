// SPDX-License-Identifier: Apache-2.0
// Recovery: how a stopped job gets a whole gang again (RecoveryPolicy): a move away from a full
// outage, a hot spare, a free host (Spares), fewer DP replicas (ElasticShrink, regrowing when the
// repair comes), or waiting for the repair (WaitRepair) or for the network to join the placement again.
#include "models/training/training_impl.hpp"

#include <algorithm>

namespace fleetsim {

/// Decides how a stopped job gets a whole gang again, and schedules its resume or makes it wait.
/// `move`: a full outage is over the job and its policy is to move, to free hosts outside `away`.
void TrainingModel::Impl::recover(Job& j, bool move, std::optional<RegionId> away) {
  const RecoveryPolicy& rp = j.spec.recovery;
  const bool was_waiting = j.state == JobState::Waiting;
  std::vector<NodeId> faulty = gang_faults(j);
  if (!faulty.empty() && move && move_away(j, away)) faulty.clear();
  if (!faulty.empty()) replace_faulty_nodes(j, faulty);
  const RecoveryPolicy::Mode mode = rp.mode == RecoveryPolicy::Mode::Spares ? rp.fallback : rp.mode;
  if (faulty.empty()) {
    if (j.shrunk) use_full_dp(j);
  } else if (mode == RecoveryPolicy::Mode::ElasticShrink && shrink_to_healthy_replicas(j, faulty)) {
    faulty.clear();
  }
  // A split placement waits for the network (or for a placement that spares or a move changed).
  if (j.partitioned) j.partitioned = !placement_connected(j);
  if (!faulty.empty() || j.partitioned) {
    if (!was_waiting) {
      j.state = JobState::Waiting;
      j.wait_since = now();
    }
    return;
  }
  if (was_waiting) j.stats.waiting_s += (now() - j.wait_since).seconds();
  j.state = JobState::Recovering;
  schedule_resume(j);
}

/// The whole gang moves to free hosts outside `away` (the scheduler finds them, or the job stays).
bool TrainingModel::Impl::move_away(Job& j, std::optional<RegionId> away) {
  if (!scheduler.move(j.allocation, away)) return false;
  refresh_dark(j);
  j.open_faults.clear();
  j.shape_dirty = true;
  ++j.stats.moves;
  recorder.publish(now(), TrainingMove{.job = j.spec.name, .region = fleet.region_name(RegionId{allocation_of(j).region})});
  return true;
}

/// Swaps each faulty gang host for a healthy hot spare, or (Spares with free capacity) a free host;
/// `faulty` becomes the gang's hosts still faulty.
void TrainingModel::Impl::replace_faulty_nodes(Job& j, std::vector<NodeId>& faulty) {
  const RecoveryPolicy& rp = j.spec.recovery;
  // Once a full round of the spares found none healthy, none is for the rest of this call (swaps only
  // ever add failed hosts to the list).
  bool spares_left = true;
  for (NodeId n : faulty) {
    bool fixed = false;
    // By reference, not a copy per faulty host: the loop ends at the first swap, the only change it
    // makes to the list. The search goes round the sorted list from `next_spare`, so its cost is the
    // unhealthy spares met on the way, not every failed host swapped in before (those sit behind it).
    const std::vector<NodeId>& spares = allocation_of(j).spares;
    const size_t count = spares_left ? spares.size() : 0;
    const size_t first = static_cast<size_t>(std::lower_bound(spares.begin(), spares.end(), NodeId{j.next_spare}) - spares.begin());
    for (size_t k = 0; k < count; ++k) {
      const NodeId s = spares[(first + k) % count];
      if (!healthy_spare(j, s)) continue;
      scheduler.swap_with_spare(j.allocation, n, s);
      j.next_spare = s.value() + 1;
      // The span counts drive the communication tiers; a swap inside a datacenter leaves them
      // (nearly) unchanged, so only a cross-datacenter swap recomputes them (O(nodes)).
      j.shape_dirty = j.shape_dirty || new_datacenter(j, s);
      fixed = true;
      break;
    }
    if (!fixed) spares_left = false;
    if (!fixed && rp.mode == RecoveryPolicy::Mode::Spares && rp.use_free_capacity) {
      if (auto r = scheduler.replace(j.allocation, n)) {
        j.open_faults.erase(n.value());
        j.shape_dirty = j.shape_dirty || new_datacenter(j, *r);
      }
    }
  }
  refresh_dark(j);  // a host swapped in for a dark one is not dark
  faulty = gang_faults(j);
}

/// Elastic shrink: runs on the replicas without a faulty host, if at least min_dp of them are left.
bool TrainingModel::Impl::shrink_to_healthy_replicas(Job& j, const std::vector<NodeId>& faulty) {
  const auto& nodes = allocation_of(j).nodes;
  std::vector<char> ok(j.spec.parallel.dp, 1);
  for (NodeId n : faulty) {
    const size_t pos = static_cast<size_t>(std::lower_bound(nodes.begin(), nodes.end(), n) - nodes.begin());
    ok[std::min(ok.size() - 1, pos / j.replica_nodes)] = 0;
  }
  uint32_t dp = 0;
  for (char c : ok) dp += c != 0 ? 1 : 0;
  if (dp < std::max(1u, j.spec.recovery.min_dp)) return false;
  if (!j.shrunk || dp != j.dp_active) {
    ++j.stats.shrinks;
    recorder.publish(now(), TrainingShrink{.job = j.spec.name, .dp = dp});
  }
  j.shrunk = dp < j.spec.parallel.dp;
  j.dp_active = dp;
  j.replica_active = std::move(ok);
  return true;
}

/// Every replica of a shrunk running job is whole again: a planned restart at full DP.
void TrainingModel::Impl::regrow(Job& j) {
  ++j.stats.regrows;
  recorder.publish(now(), TrainingRegrow{.job = j.spec.name, .dp = j.spec.parallel.dp});
  stop(j, "elastic regrow", true);
  use_full_dp(j);
  schedule_resume(j);
}

void TrainingModel::Impl::use_full_dp(Job& j) {
  j.shrunk = false;
  j.dp_active = j.spec.parallel.dp;
  j.replica_active.assign(j.spec.parallel.dp, 1);
}

/// Gang nodes (all replicas) with open faults.
std::vector<NodeId> TrainingModel::Impl::gang_faults(const Job& j) const {
  std::vector<NodeId> out;
  const auto& nodes = allocation_of(j).nodes;
  for (const auto& [n, k] : j.open_faults) {
    if (std::binary_search(nodes.begin(), nodes.end(), NodeId{n})) out.push_back(NodeId{n});
  }
  return out;
}

/// Whether `n` (just moved into the gang) is the gang's only node in its datacenter.
bool TrainingModel::Impl::new_datacenter(const Job& j, NodeId n) const {
  const auto& nodes = allocation_of(j).nodes;
  const IndexRange r = fleet.range(ref(fleet.datacenter_of(ref(n))), Level::Node);
  const auto lo = std::lower_bound(nodes.begin(), nodes.end(), NodeId{r.begin});
  const auto hi = std::lower_bound(nodes.begin(), nodes.end(), NodeId{r.end});
  return hi - lo <= 1;
}

bool TrainingModel::Impl::healthy_spare(const Job& j, NodeId s) const {
  if (j.open_faults.count(s.value()) != 0) return false;
  const ComponentRef c = ref(s);
  return fleet.usable(c) && fleet.usable_gpus(c) == fleet.gpus_per_node(fleet.datacenter_of(c));
}

}  // namespace fleetsim
