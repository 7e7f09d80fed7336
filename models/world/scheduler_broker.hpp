// SPDX-License-Identifier: Apache-2.0
// SchedulerBroker: the CapacityBroker of inference autoscaling backed by the GangScheduler, so that
// scaling up takes whole nodes from lower-priority preemptible training jobs and scaling down gives
// them back (the scheduler then lets the queued training resume).
//
//   GangScheduler sched(fleet, engine, &failures);
//   SchedulerBroker broker(sched, fleet);
//   InferenceModel inf(spec, fleet, catalog, engine, streams, recorder, {.broker = &broker});
//
// Contract (acquire returns a commitment, the nodes arrive within the scale-up delay):
//   - acquire(region, accelerator, gpus, priority) returns at once how many GPUs the service may count
//     on: GPUs left over on nodes it already holds, plus whole nodes of `accelerator` in `region` that
//     are free or held by RUNNING PREEMPTIBLE allocations below `priority` (or already being
//     preempted), minus nodes its earlier claims still wait for. For the nodes it commits in one call
//     it submits ONE non-preemptible GangRequest of that many nodes at `priority` with may_preempt
//     (one claim per scaling step: a claim per node made every search scan the region again, which
//     was quadratic at 100,000 hosts); the scheduler starts it at once (free nodes) or after the
//     lowest-priority holders checkpoint and release (a preemption). The inference model starts using the GPUs after its scale_up_delay, which stands
//     for "preempt training + load weights": the broker assumes the preemption ends within that delay.
//     max_claim_wait() reports the longest wait seen so a run can check it (a wait longer than the
//     delay means the service counted GPUs a few minutes before the scheduler handed them over).
//   - It never submits a claim the scheduler cannot satisfy, so a claim never sits in the queue
//     blocking training (caveat: a higher-priority request queued at the same instant may take the
//     free node first; the claim then waits for the next release, as any queued job would).
//   - release(region, accelerator, gpus) returns GPUs; whole nodes no longer covering lent GPUs are
//     given back, newest claim first, node by node (GangScheduler::give_back; a claim's last node
//     ends it; a claim still queued is cancelled when none of it is needed, else trimmed when it
//     starts), and the scheduler's next pass restarts the requeued training jobs.
//   - bind(region, accelerator, gpus) hands a replica GPUs of the claimed nodes that are started,
//     usable and not bound to another replica (one span inside a node, or whole nodes of one scale-up
//     domain when the replica is wider than a node); trim() never gives back a node with a bound GPU.
//
// ReplicaPlacer (placement is the truth): a service's dedicated replicas in a region are ONE gang
// placed at once, before any training is queued (GangScheduler::place_now, non-preemptible, at a
// priority above any job's), with replica_nodes = unit_nodes = the nodes of one replica when it is
// wider than a node (so it sits in one scale-up domain), else packed gpus_per_node / gpus_per_replica
// to a node. A failed node is replaced through GangScheduler::replace, as a training job's is.
#pragma once

#include "models/hardware/fleet.hpp"
#include "models/inference/inference_model.hpp"
#include "models/scheduler/gang_scheduler.hpp"
#include "sim/index_bitset.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleetsim {

class SchedulerBroker final : public CapacityBroker, public ReplicaPlacer {
 public:
  SchedulerBroker(GangScheduler& scheduler, const Fleet& fleet)
      : sched_(scheduler), fleet_(fleet), bound_(fleet.gpus(), 0), bound_on_(fleet.nodes(), 0) {}
  SchedulerBroker(const SchedulerBroker&) = delete;
  SchedulerBroker& operator=(const SchedulerBroker&) = delete;

  uint64_t acquire(RegionId region, std::string_view accelerator, uint64_t gpus, int priority, SimTime now) override;
  void release(RegionId region, std::string_view accelerator, uint64_t gpus, SimTime now) override;

  uint32_t place(std::string_view service, RegionId region, std::string_view accelerator, uint32_t replicas,
                 uint32_t gpus_per_replica, std::vector<ReplicaGpus>& out) override;
  std::optional<NodeId> replace(uint32_t placement, NodeId failed, std::optional<IndexRange> within) override;
  std::optional<ReplicaGpus> bind(RegionId region, std::string_view accelerator, uint32_t gpus) override;
  void unbind(RegionId region, std::string_view accelerator, const ReplicaGpus& gpus) override;
  /// The allocation of placement `placement` (kNoAllocation for a region with no dedicated replica).
  AllocationId placement_allocation(uint32_t placement) const { return placements_.at(placement); }
  /// Priority of the dedicated replicas' gangs: above any training priority, so nothing preempts them.
  static constexpr int kDedicatedPriority = 1'000'000;

  /// GPUs lent to the inference model now in (region, accelerator).
  uint64_t lent_gpus(RegionId region, std::string_view accelerator) const;
  /// Nodes claimed (started or still waiting for a preemption) in (region, accelerator).
  uint64_t claimed_nodes(RegionId region, std::string_view accelerator) const;
  /// Nodes claimed so far / nodes of claims the scheduler started so far (a claim holds every node
  /// of one scaling step).
  uint64_t claims() const { return claims_; }
  uint64_t claims_started() const { return claims_started_; }
  /// Longest time from a claim's submission to its start (zero: every claim started at once).
  Duration max_claim_wait() const { return max_wait_; }

 private:
  struct Claim {
    AllocationId id = kNoAllocation;
    uint32_t nodes = 0;  // nodes the claim holds (or will hold once started)
    bool started = false;
  };
  struct Pool {
    uint64_t lent = 0;            // GPUs the inference model counts on
    uint32_t gpus_per_node = 0;
    std::vector<Claim> claims;    // oldest first
    uint64_t nodes = 0;           // sum of the claims' nodes
    uint64_t waiting = 0;         // nodes of claims not started yet
    uint32_t unit_nodes = 1;      // nodes of the widest replica placed here (claims come in such units)
    // Nodes of started claims with a GPU not bound yet, in index order: bind() looks here and not
    // through every claimed node (thousands of borrowed replicas at the flagship's scale). A bit per
    // fleet node, not a std::set: nodes open and close millions of times over the flagship's seven
    // years, and a tree node allocated and freed for each was a tenth of a run's allocations.
    IndexBitset open;
  };
  bool has_bound(NodeId n) const { return bound_on_[n.value()] > 0; }
  using Key = std::pair<uint32_t, std::string>;
  Pool& pool(RegionId region, std::string_view accelerator);
  const Pool* find(RegionId region, std::string_view accelerator) const;
  /// Nodes of `accelerator` in `region` a claim at `priority` can get now or by preemption.
  /// Counted up to `limit` (the answer is min(limit, obtainable)): free nodes first, which on a
  /// mostly free region answers in O(limit); the scan of every node only when free ones fall short.
  uint64_t obtainable_nodes(RegionId region, std::string_view accelerator, int priority, uint64_t limit) const;
  /// Gives back the nodes no lent GPU needs, newest claim first.
  void trim(Pool& p);

  GangScheduler& sched_;
  const Fleet& fleet_;
  std::map<Key, Pool> pools_;
  std::vector<AllocationId> placements_;
  // Which GPUs are bound to a replica, and how many per node: flat over the fleet (a GPU or node
  // belongs to one pool), so binding and unbinding are O(1) per GPU with no tree to rebalance.
  std::vector<uint8_t> bound_;        // per GPU
  std::vector<uint32_t> bound_on_;    // per node
  std::vector<NodeId> run_;           // bind: scratch, the whole nodes of one scale-up domain found so far
  uint64_t claims_ = 0, claims_started_ = 0;
  Duration max_wait_ = Duration::zero();
};

}  // namespace fleetsim
