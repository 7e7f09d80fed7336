// SPDX-License-Identifier: Apache-2.0
#include "models/world/scheduler_broker.hpp"

#include <algorithm>

namespace fleetsim {

SchedulerBroker::Pool& SchedulerBroker::pool(RegionId region, std::string_view accelerator) {
  Pool& p = pools_[Key{region.value(), std::string(accelerator)}];
  if (p.gpus_per_node == 0) {
    const IndexRange dcs = fleet_.range(region, Level::Datacenter);
    for (uint32_t d = dcs.begin; d < dcs.end; ++d)
      if (fleet_.accelerators()[fleet_.accelerator_of(ref(DatacenterId{d}))] == accelerator) {
        p.gpus_per_node = fleet_.gpus_per_node(DatacenterId{d});
        break;
      }
  }
  return p;
}

const SchedulerBroker::Pool* SchedulerBroker::find(RegionId region, std::string_view accelerator) const {
  const auto it = pools_.find(Key{region.value(), std::string(accelerator)});
  return it == pools_.end() ? nullptr : &it->second;
}

uint64_t SchedulerBroker::obtainable_nodes(RegionId region, std::string_view accelerator, int priority) const {
  uint64_t n = 0;
  const IndexRange dcs = fleet_.range(region, Level::Datacenter);
  for (uint32_t d = dcs.begin; d < dcs.end; ++d) {
    if (fleet_.accelerators()[fleet_.accelerator_of(ref(DatacenterId{d}))] != accelerator) continue;
    const IndexRange nodes = fleet_.range(ref(DatacenterId{d}), Level::Node);
    for (uint32_t k = nodes.begin; k < nodes.end; ++k) {
      const NodeId node{k};
      const AllocationId owner = sched_.owner(node);
      if (owner == kNoAllocation) {
        n += sched_.is_free(node) ? 1 : 0;
        continue;
      }
      const GangScheduler::Allocation& a = sched_.allocation(owner);
      // Nodes being preempted come free soon; running preemptible work below `priority` can be
      // preempted (the scheduler takes whole gangs, so a partial need frees the rest for later).
      if (a.state == GangScheduler::State::Preempting ||
          (a.state == GangScheduler::State::Running && a.request.preemptible && a.request.priority < priority))
        n += fleet_.usable_gpus(ref(node)) == fleet_.gpus_per_node(DatacenterId{d}) ? 1 : 0;
    }
  }
  return n;
}

uint64_t SchedulerBroker::acquire(RegionId region, std::string_view accelerator, uint64_t gpus, int priority, SimTime now) {
  if (gpus == 0) return 0;
  Pool& p = pool(region, accelerator);
  if (p.gpus_per_node == 0) return 0;  // no such accelerator in the region
  const uint64_t held = uint64_t{p.gpus_per_node} * p.claims.size();
  const uint64_t slack = held - std::min(held, p.lent);
  if (gpus <= slack) {
    p.lent += gpus;
    return gpus;
  }
  const uint64_t want_nodes = (gpus - slack + p.gpus_per_node - 1) / p.gpus_per_node;
  uint64_t waiting = 0;  // our claims not started yet: they will take obtainable nodes first
  for (const Claim& c : p.claims) waiting += c.started ? 0 : 1;
  const uint64_t obtainable = obtainable_nodes(region, accelerator, priority);
  const uint64_t take = std::min(want_nodes, obtainable - std::min(obtainable, waiting));
  const Key key{region.value(), std::string(accelerator)};
  for (uint64_t k = 0; k < take; ++k) {
    GangRequest r;
    r.name = "autoscale:" + std::string(accelerator);
    r.nodes = 1;
    r.accelerator = std::string(accelerator);
    r.region = region;
    r.priority = priority;
    r.preemptible = false;
    r.may_preempt = true;
    r.on_start = [this, key, now](AllocationId id, std::span<const NodeId>) {
      ++claims_started_;
      max_wait_ = std::max(max_wait_, sched_.allocation(id).started - now);
      auto& claims = pools_.at(key).claims;
      for (Claim& c : claims)
        if (c.id == id) c.started = true;
    };
    const AllocationId id = sched_.submit(std::move(r));
    p.claims.push_back(Claim{id, false});
    ++claims_;
  }
  const uint64_t granted = std::min(gpus, slack + take * p.gpus_per_node);
  p.lent += granted;
  return granted;
}

void SchedulerBroker::release(RegionId region, std::string_view accelerator, uint64_t gpus, SimTime) {
  Pool& p = pool(region, accelerator);
  p.lent -= std::min(p.lent, gpus);
  // Give back whole nodes that no lent GPU needs, newest claim first (a queued one is cancelled).
  while (!p.claims.empty() && uint64_t{p.gpus_per_node} * (p.claims.size() - 1) >= p.lent) {
    const AllocationId id = p.claims.back().id;
    p.claims.pop_back();
    sched_.release(id, /*requeue=*/false);
  }
}

uint64_t SchedulerBroker::lent_gpus(RegionId region, std::string_view accelerator) const {
  const Pool* p = find(region, accelerator);
  return p ? p->lent : 0;
}

uint64_t SchedulerBroker::claimed_nodes(RegionId region, std::string_view accelerator) const {
  const Pool* p = find(region, accelerator);
  return p ? p->claims.size() : 0;
}

}  // namespace fleetsim
