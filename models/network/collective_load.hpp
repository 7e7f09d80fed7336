// SPDX-License-Identifier: Apache-2.0
// CollectiveLoad: a collective (one group, or every group that runs at the same time) as link loads, and
// its time on a shared fabric (the aggregate shared costing; docs/network.md, "One fabric carries all
// traffic").
//
//   CollectiveLoad l = collective_load(router, groups, spec);     // routed once per fabric state
//   SharedCollectiveCost c = shared_collective_time(l, ledger, job);  // against everyone else's load
//   ledger.set_load(job, l.bytes_per_call() * calls / step_s, ...);  // what the job puts on the links
//
// Each distinct step pattern of the collective (CollectivePlan: a ring phase has one, an all-to-all up
// to kCollectiveSampledSteps sampled shifts) is routed with the same ECMP keys as the flows mode into a
// sparse routing matrix (used links x transfers, Eigen), and its link bytes and link flows are the
// products R x bytes and R x channels: one LinkVector each.
//
// Time of a pattern: alpha + the longest path latency + max over its links e of bytes_e / share_e,
// where share_e is what the ledger gives this consumer's flows_e flows on e (FabricLoad::share). The
// max is the bottleneck link. Where the others send only part of the time (busy p_e < 1) or with a
// varying number of flows, the link's time is a random variable (C_e alone with probability 1 - p_e,
// else the share with k of their flows, k between 1 and their peak with their mean), independent per
// link [A], and the pattern lasts the expected maximum: the synchronous step waits for its worst link. Why this equals the flows mode on an idle fabric: progressive filling
// saturates first the link with the least capacity per flow, C_e / n_e, and freezes its flows there;
// flows of one step carry equal bytes (ring, all-gather, hierarchical, all-to-all shifts), so those
// are the last to finish, at n_e * bytes_per_flow / C_e = bytes_e / C_e. With other consumers on a
// link, share_e replaces C_e (weighted max-min with their average loads). The collective's time is the
// sum over patterns of steps x pattern time.
#pragma once

#include "models/network/collectives.hpp"
#include "models/network/fabric_load.hpp"

#include <span>
#include <vector>

namespace fleetsim {

struct CollectivePattern {
  double steps = 0;         ///< steps of the collective this pattern stands for
  LinkVector bytes;         ///< bytes per step on each link
  LinkVector flows;         ///< flows per step on each link
  LinkVector present;       ///< 1 on each link the pattern uses
  Duration latency;         ///< longest path latency among its transfers
};

struct CollectiveLoad {
  std::vector<CollectivePattern> patterns;
  Duration alpha;
  uint32_t steps = 0;
  bool connected = true;  ///< false: some transfer has no route
  uint32_t edges = 0;
  /// Bytes one run of the collective puts on each link (sum over patterns of steps x bytes).
  LinkVector bytes_per_call() const;
};

/// Routes every step pattern of `placements` running `spec` together (estimate_concurrent's union).
CollectiveLoad collective_load(Router& router, std::span<const std::vector<VertexId>> placements,
                               const CollectiveSpec& spec);

/// The load of groups that run together from each group's own load (all of one collective spec and
/// group size, so their patterns line up): bytes and flows add, `present` is the union, a pattern's
/// latency the longest. Equal to collective_load over all the groups at once, to rounding (the sums
/// run in another order); what lets a job whose placement changed by one host re-route only the
/// groups that host is in (SharedFabricCost).
CollectiveLoad merge_loads(std::span<const CollectiveLoad* const> parts);

/// merge_loads kept up to date as groups change: a job whose placement changed by one replaced host
/// changes only the groups that host is in, and the merged load is updated by their difference (the
/// old groups' loads subtracted, the new ones' added) on the links those groups touch, not summed again
/// over every group. Each merged link keeps the count of groups on it, so a link no group uses any more
/// leaves the merged load exactly (never a rounding residue).
///
/// Exactness: a value updated by differences equals the full merge's sum to rounding, not bit for bit
/// (the additions run in another order). Bound: after d updates since the last full merge, a merged
/// value differs from merge_loads' by at most (groups on the link + 2 d) x 2^-52 x the sum of the
/// magnitudes of every term that was ever on the link; a full merge every kFullMergeEvery updates keeps
/// d small (tests/models/network/test_grouped_load.cpp checks 1e-12 relative on random sequences).
class GroupedLoad {
 public:
  static constexpr uint32_t kFullMergeEvery = 64;
  /// Sets every group (full merge).
  void assign(std::vector<CollectiveLoad> groups);
  /// Replaces the groups at `index` (ascending, distinct) by `loads` (same order), updating the merge
  /// by their difference; a full merge when the patterns do not line up, some group has no route, or
  /// after kFullMergeEvery updates.
  void replace(std::span<const size_t> index, std::vector<CollectiveLoad> loads);
  const CollectiveLoad& merged() const { return merged_; }
  size_t groups() const { return groups_.size(); }
  const CollectiveLoad& group(size_t i) const { return groups_[i]; }
  uint64_t full_merges() const { return full_; }
  uint64_t delta_updates() const { return deltas_; }

 private:
  void full_merge();
  std::vector<CollectiveLoad> groups_;
  CollectiveLoad merged_;
  std::vector<LinkVector> count_;  // per pattern: groups on each link of merged_ (merged_'s sparsity)
  uint32_t since_full_ = 0;
  uint64_t full_ = 0, deltas_ = 0;
};

struct SharedCollectiveCost {
  Duration time;                    ///< alpha + latency + transfer, summed over steps
  double latency_s = 0;             ///< the alpha + latency part of `time`
  double bottleneck_bytes_per_s = 0;///< per-flow rate on the worst bottleneck met
  EdgeIndex bottleneck = 0;         ///< the link that set the slowest pattern
  /// Flow-seconds per link of one run (sum over patterns of steps x pattern time x flows): divided by
  /// a cycle's length, the time-averaged flows the consumer puts there (what the ledger weighs it by).
  LinkVector flow_seconds;
  /// The most flows any pattern puts on each link: what the collective puts there while it sends.
  LinkVector peak_flows;
  /// Seconds per link of one run during which the collective sends there (sum over patterns using the
  /// link of steps x pattern time): divided by a cycle's length, the ledger's `busy` fraction.
  LinkVector busy_seconds;
};

/// Coefficient-wise maximum of two link vectors.
LinkVector cwise_max(const LinkVector& a, const LinkVector& b);

/// The flows a collective has on each link while it sends there (flow_seconds / busy_seconds): what the
/// ledger's set_load takes as `flows`, with busy_seconds / cycle as `busy` and peak_flows as `peak`.
LinkVector flows_while_busy(const SharedCollectiveCost& c);

/// The collective's time on the fabric as the ledger has it, for consumer `self` (its own registered
/// load is not counted against it; with nobody else on its links this is the idle-fabric time).
/// `also`: one more consumer not counted, one that never sends while self does (a job's blocking
/// checkpoint writes: the job stalls while they run).
SharedCollectiveCost shared_collective_time(const CollectiveLoad& load, const FabricLoad& ledger, ConsumerId self,
                                            bool want_flow_seconds = false, ConsumerId also = kNoConsumer);

}  // namespace fleetsim
