// SPDX-License-Identifier: Apache-2.0
// GangScheduler: all-or-nothing placement of jobs on whole nodes of the fleet, with priorities, EASY
// backfill and preemption; the allocation table (which node belongs to whom) for everyone above it.
//
//   GangScheduler sched(fleet, engine, &failures);
//   GangRequest r;
//   r.name = "llama3"; r.nodes = 2048; r.replica_nodes = 32; r.accelerator = "H100"; r.priority = 0;
//   r.on_start = [&](AllocationId id, std::span<const NodeId> nodes) { ... };
//   r.on_preempt = [&](AllocationId id) { ... checkpoint, then sched.release(id, true) ... };
//   AllocationId id = sched.submit(std::move(r));   // placed by a pass at this instant (Phase::Control)
//   // inference's hook: take 64 GPUs in us-east-1 at priority 10, preempting lower-priority training
//   AllocationId c = sched.claim(RegionId{0}, 64, 10, [&](AllocationId, std::span<const NodeId>) { ... });
//   sched.release(c);
//
// Placement (topology-aware, nodes are indexed rack by rack, datacenter by datacenter):
//   1. regions: the requested one, else every region in order; an accelerator filter applies.
//   2. datacenters: best fit, the datacenter with the fewest free nodes that holds the whole gang
//      (leaving big holes for big jobs); if none does, the fewest datacenters, largest first.
//   3. inside a datacenter, nodes in index order, so model replicas (replica_nodes consecutive nodes)
//      and DP groups sit in as few racks as possible; when a TP group is larger than a node
//      (unit_nodes > 1), nodes are taken in whole units inside one scale-up domain.
//   Free means: not allocated, every GPU usable, launch allowed (no launch block on its domains).
// Queue: priority (higher first), then submission order. EASY backfill (Lifka 1995; Mu'alem and
// Feitelson 2001): when the head does not fit, it gets a reservation at the earliest time the
// expected ends of running allocations free enough nodes; a later request starts now if it fits and
// either ends before that time or uses only nodes the head will not need.
// Preemption: a request with may_preempt that does not fit asks the lowest-priority preemptible
// holders (newest first) whose priority is below its own to give their nodes back (on_preempt); the
// pass runs again when they release.
// Passes run as one engine event (Phase::Control) after a submit, a release, a repair or an outage end,
// coalesced, so callbacks never run inside another model's callback.
#pragma once

#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "sim/engine.hpp"
#include "sim/index_bitset.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

using AllocationId = uint32_t;
inline constexpr AllocationId kNoAllocation = UINT32_MAX;

struct GangRequest {
  std::string name;
  uint32_t nodes = 0;          ///< nodes of the gang
  uint32_t replica_nodes = 1;  ///< nodes of one model replica (kept consecutive)
  uint32_t unit_nodes = 1;     ///< nodes that must share one scale-up domain (TP wider than a node)
  uint32_t spare_nodes = 0;    ///< extra nodes held as hot spares
  std::string accelerator;     ///< empty: any
  std::optional<RegionId> region;          ///< only this region
  std::optional<RegionId> exclude_region;  ///< never this region (a job moving away from an outage)
  int priority = 0;
  bool preemptible = true;
  bool may_preempt = false;    ///< may take nodes of lower-priority preemptible holders
  Duration expected_runtime = Duration::max();  ///< for backfill; max: unknown
  std::function<void(AllocationId, std::span<const NodeId>)> on_start;
  std::function<void(AllocationId)> on_preempt;
};

class GangScheduler {
 public:
  enum class State : uint8_t { Queued, Running, Preempting, Released };
  struct Allocation {
    GangRequest request;
    State state = State::Queued;
    std::vector<NodeId> nodes;   ///< sorted
    std::vector<NodeId> spares;  ///< sorted
    SimTime submitted, started;
    SimTime expected_end = SimTime::max();
    uint64_t seq = 0;
    uint32_t region = 0;
    /// While queued: the last search found `shortfall` too few free nodes when `freed_` was
    /// `freed_mark`; no search can succeed before that many nodes may have become free again.
    uint64_t freed_mark = 0;
    uint64_t shortfall = 0;
  };

  /// `failures` (optional): repairs and outage ends trigger a pass while requests wait.
  GangScheduler(Fleet& fleet, Engine& engine, FailureModel* failures = nullptr);
  GangScheduler(const GangScheduler&) = delete;
  GangScheduler& operator=(const GangScheduler&) = delete;

  AllocationId submit(GangRequest request);
  /// Places the request now, outside the queue, if its gang fits on free nodes (the same search as a
  /// pass); the allocation is Running at once and on_start is not called. nullopt (nothing changes)
  /// if it does not fit. For capacity that must exist before anything else is scheduled: the
  /// dedicated inference replicas a scenario declares (models/world/world.cpp).
  std::optional<AllocationId> place_now(GangRequest request);
  /// The preemption hook for inference: `gpus` GPUs (rounded up to nodes) in `region` at `priority`,
  /// taking them from lower-priority preemptible holders if need be. `accelerator` (empty: any) pins
  /// the claim to that accelerator's hosts and rounds with their GPUs per node; with any accelerator
  /// the rounding uses the region's smallest host, so the claim holds at least `gpus` GPUs wherever
  /// it lands. Throws std::invalid_argument if the region has no host of `accelerator`.
  AllocationId claim(RegionId region, uint64_t gpus, int priority,
                     std::function<void(AllocationId, std::span<const NodeId>)> on_start, std::string name = "claim",
                     std::string accelerator = {});
  /// Gives the nodes back. requeue: the request waits in the queue again (a preempted job); else the
  /// allocation ends. Queued requests may be released too (cancelled).
  void release(AllocationId id, bool requeue = false);
  /// A free node to stand in for `failed` (same rack, else datacenter, else region); the failed node
  /// leaves the allocation. nullopt if none is free. `within` (optional) limits the search to those
  /// nodes: a replica whose tensor-parallel group spans nodes must stay in its scale-up domain.
  std::optional<NodeId> replace(AllocationId id, NodeId failed, std::optional<IndexRange> within = std::nullopt);
  /// Moves a spare into the gang in place of `failed`, which becomes a spare. Both must belong to id.
  void swap_with_spare(AllocationId id, NodeId failed, NodeId spare);
  /// Removes `node` from the allocation (it becomes free).
  void give_back(AllocationId id, NodeId node);
  /// Places the request's gang elsewhere now if possible, in place of the current nodes (a move away
  /// from an outage) outside `exclude`; the old nodes are freed. A request pinned to a region never
  /// leaves it (GangRequest::region). Returns false (nothing changes) if nothing fits.
  bool move(AllocationId id, std::optional<RegionId> exclude);
  void set_expected_end(AllocationId id, SimTime t);

  const Allocation& allocation(AllocationId id) const { return allocs_.at(id); }
  /// The allocation holding `n`, or kNoAllocation.
  AllocationId owner(NodeId n) const { return owner_[n.value()]; }
  bool is_free(NodeId n) const;
  /// Free nodes (is_free) in the datacenters of `region` whose accelerator is `accelerator`, counted
  /// up to `limit`: the scan stops there, so asking "are there k free nodes?" costs O(k) on a mostly
  /// free region (plus the allocated-but-skipped nodes are never visited: only unallocated ones are).
  uint64_t count_free(RegionId region, std::string_view accelerator, uint64_t limit) const;
  size_t queued() const { return queue_.size(); }
  uint64_t allocated_nodes() const { return allocated_nodes_; }
  /// GPUs of gang nodes (not spares) held by allocations in (region, accelerator index of the fleet):
  /// the busy GPUs of the cost model. Kept up to date on every take and free, O(1) to read.
  uint64_t gang_gpus(RegionId r, uint32_t acc) const;
  /// Called before gang_gpus() changes (once per node taken or freed; may be empty). The cost model
  /// bills the time before the change at the old count.
  std::function<void()> on_gang_change;
  uint64_t preemptions() const { return preemptions_; }
  /// Allocations holding nodes now (Running or Preempting).
  size_t holding() const { return live_.size(); }
  uint64_t backfilled() const { return backfilled_; }
  /// Requests a pass at this instant (coalesced). Every queued request is searched for again: the
  /// caller does not say what changed (capacity installed, a job resized).
  void request_pass();

 private:
  void pass();
  void schedule_pass();  ///< request_pass without invalidating the queued requests' shortfalls
  std::optional<std::vector<NodeId>> find_nodes(const GangRequest& r, uint32_t count, std::optional<RegionId> exclude,
                                                std::span<const NodeId> avoid = {}) const;
  std::optional<std::vector<NodeId>> find_in_region(const GangRequest& r, uint32_t region, uint32_t count) const;
  /// Nodes that may have become free so far (releases, repairs; unbounded events add kManyNodes). A
  /// queued request is searched for again only once `freed_` has grown by its last shortfall: on a
  /// fleet of 100,000 hosts a search is a scan, and passes follow every repair.
  static constexpr uint64_t kManyNodes = uint64_t{1} << 40;
  uint64_t freed_ = 0;
  mutable uint64_t last_shortfall_ = 0;  ///< set by find_in_region/find_nodes when they fail
  void take(AllocationId id, std::vector<NodeId> nodes, std::vector<NodeId> spares);
  NodeId swap_in(Allocation& a, AllocationId id, NodeId failed, NodeId cand);  ///< cand takes failed's place
  void free_nodes(AllocationId id);
  bool try_preempt_for(AllocationId id);
  /// Every change of an allocation's state goes through here, to keep live_ up to date.
  void set_state(AllocationId id, State s);
  bool accelerator_ok(const GangRequest& r, uint32_t dc) const;

  Fleet& fleet_;
  Engine& engine_;
  std::vector<Allocation> allocs_;
  /// The allocations holding nodes (Running or Preempting), in no order, and each one's place in it:
  /// the preemption search and the head's reservation scan these, not every allocation ever made
  /// (the 38B flagship's chat makes one claim per scaling step, 63,000 in seven years).
  static constexpr uint32_t kNotLive = UINT32_MAX;
  std::vector<AllocationId> live_;
  std::vector<uint32_t> live_pos_;
  std::vector<AllocationId> owner_;  // per node
  IndexBitset unallocated_;          // nodes no allocation holds, for fast replacement searches
  std::vector<uint64_t> unallocated_in_region_;
  std::vector<uint64_t> unallocated_in_dc_;
  /// Free nodes (is_free) of a usable, launch-allowed datacenter: O(racks) plus the nodes of racks
  /// with something down, not O(hosts).
  size_t free_in_dc(uint32_t dc) const;
  /// Free nodes of `nodes` (inside one usable, launch-allowed datacenter whose hosts have `gpn` GPUs),
  /// in index order, up to `limit`; appended to `out` if given. The count is returned.
  size_t collect_free(IndexRange nodes, uint32_t gpn, size_t limit, std::vector<NodeId>* out) const;
  void mark_taken(uint32_t n);
  void mark_free(uint32_t n);
  void count_gang(NodeId n, int sign);  // gang_gpus_ bookkeeping
  std::vector<uint64_t> gang_gpus_;     // per (region, accelerator)
  std::vector<NodeId> replace_scratch_;  // replace(): the first free node of a datacenter
  std::vector<AllocationId> queue_;  // sorted by (priority desc, seq)
  std::vector<std::pair<AllocationId, std::vector<NodeId>>> starting_;
  uint64_t seq_ = 0;
  uint64_t allocated_nodes_ = 0;
  uint64_t preemptions_ = 0;
  uint64_t backfilled_ = 0;
  EventHandle pass_event_;
  EventKind kind_pass_;
};

}  // namespace fleetsim
