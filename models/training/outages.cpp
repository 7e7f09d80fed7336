// SPDX-License-Identifier: Apache-2.0
// Dark time. While a job is down with hosts under a full outage, their GPUs are paid for and unusable:
// the cost model bills them as the outage's paid_failed capacity and leaves them out of the busy GPUs,
// so that part of the down time (LossByCause::dark_s) is not lost work on top (docs/cost.md). How an
// outage stops, pauses or moves a job is in interruptions.cpp and recovery.cpp.
#include "models/training/training_impl.hpp"

namespace fleetsim {

/// Share of the gang's hosts in a domain (datacenter, zone, region) under a full outage. O(hosts):
/// called at outage starts and ends, and at recoveries of a job that has dark hosts.
double TrainingModel::Impl::dark_fraction(const Job& j) const {
  const auto& nodes = allocation_of(j).nodes;
  if (nodes.empty()) return 0;
  size_t dark = 0;
  uint32_t last_dc = UINT32_MAX;
  bool dc_dark = false;
  for (NodeId n : nodes) {
    const DatacenterId dc = fleet.datacenter_of(ref(n));
    if (dc.value() != last_dc) {
      last_dc = dc.value();
      const ComponentRef d = ref(dc);
      dc_dark = fleet.outage_depth(d) > 0 || fleet.outage_depth(ref(fleet.zone_of(d))) > 0 ||
                fleet.outage_depth(ref(fleet.region_of(d))) > 0;
    }
    dark += dc_dark ? 1 : 0;
  }
  return double(dark) / double(nodes.size());
}

/// Adds the dark time since dark_accrued_to (the job down, at share dark_share) to its current cause.
void TrainingModel::Impl::accrue_dark(Job& j) {
  const SimTime t = now();
  if (j.dark_share > 0 && (j.state == JobState::Recovering || j.state == JobState::Waiting)) {
    const double d = (t - j.dark_accrued_to).seconds() * j.dark_share;
    if (d > 0) {
      j.stats.dark_s += d;
      j.stats.by_cause[j.cause].dark_s += d;
    }
  }
  j.dark_accrued_to = t;
}

/// The job's hosts changed (a move, a spare): accrue at the old share, read the new one.
void TrainingModel::Impl::refresh_dark(Job& j) {
  if (j.dark_share <= 0) return;
  accrue_dark(j);
  j.dark_share = dark_fraction(j);
}

/// A full outage began or ended over these (job, host) pairs (the fleet has already changed).
void TrainingModel::Impl::update_dark(const std::vector<std::pair<size_t, NodeId>>& where) {
  size_t last = SIZE_MAX;
  for (const auto& [ji, n] : where) {
    if (ji == last) continue;
    last = ji;
    Job& j = jobs[ji];
    if (!has_hosts(j)) continue;
    accrue_dark(j);
    j.dark_share = dark_fraction(j);
  }
}

}  // namespace fleetsim
