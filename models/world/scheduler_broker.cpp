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

uint64_t SchedulerBroker::obtainable_nodes(RegionId region, std::string_view accelerator, int priority, uint64_t limit) const {
  // Enough free nodes answers it (the usual case: autoscaling into idle capacity) without visiting
  // every node of the region.
  const uint64_t free = sched_.count_free(region, accelerator, limit);
  if (free >= limit) return limit;
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
  return std::min(n, limit);
}

uint64_t SchedulerBroker::acquire(RegionId region, std::string_view accelerator, uint64_t gpus, int priority, SimTime now) {
  if (gpus == 0) return 0;
  Pool& p = pool(region, accelerator);
  if (p.gpus_per_node == 0) return 0;  // no such accelerator in the region
  const uint64_t held = uint64_t{p.gpus_per_node} * p.nodes;
  const uint64_t slack = held - std::min(held, p.lent);
  if (gpus <= slack) {
    p.lent += gpus;
    return gpus;
  }
  const uint64_t want_nodes = (gpus - slack + p.gpus_per_node - 1) / p.gpus_per_node;
  // Our claims not started yet take obtainable nodes first.
  const uint64_t obtainable = obtainable_nodes(region, accelerator, priority, want_nodes + p.waiting);
  const uint64_t take = std::min(want_nodes, obtainable - std::min(obtainable, p.waiting));
  if (take > 0) {
    const Key key{region.value(), std::string(accelerator)};
    GangRequest r;
    r.name = "autoscale:" + std::string(accelerator);
    r.nodes = static_cast<uint32_t>(take);
    r.accelerator = std::string(accelerator);
    r.region = region;
    r.priority = priority;
    r.preemptible = false;
    r.may_preempt = true;
    r.on_start = [this, key, now](AllocationId id, std::span<const NodeId> nodes) {
      claims_started_ += nodes.size();
      max_wait_ = std::max(max_wait_, sched_.allocation(id).started - now);
      Pool& pl = pools_.at(key);
      for (Claim& c : pl.claims)
        if (c.id == id && !c.started) {
          c.started = true;
          pl.waiting -= c.nodes;
        }
      trim(pl);  // lent GPUs released while it waited
    };
    const AllocationId id = sched_.submit(std::move(r));
    p.claims.push_back(Claim{id, static_cast<uint32_t>(take), false});
    p.nodes += take;
    p.waiting += take;
    claims_ += take;
  }
  const uint64_t granted = std::min(gpus, slack + take * p.gpus_per_node);
  p.lent += granted;
  return granted;
}

void SchedulerBroker::trim(Pool& p) {
  // Whole nodes no lent GPU needs go back, newest claim first: a started claim node by node (its last
  // node ends it), a queued claim only when none of it is needed (it is trimmed once it starts).
  while (!p.claims.empty() && uint64_t{p.gpus_per_node} * (p.nodes - 1) >= p.lent) {
    Claim& c = p.claims.back();
    const uint64_t surplus = (uint64_t{p.gpus_per_node} * p.nodes - p.lent) / p.gpus_per_node;
    if (!c.started) {
      if (surplus < c.nodes) break;
      sched_.release(c.id, /*requeue=*/false);
      p.nodes -= c.nodes;
      p.waiting -= c.nodes;
      p.claims.pop_back();
      continue;
    }
    if (c.nodes == 1) {
      sched_.release(c.id, /*requeue=*/false);
      p.claims.pop_back();
    } else {
      sched_.give_back(c.id, sched_.allocation(c.id).nodes.back());
      --c.nodes;
    }
    --p.nodes;
  }
}

void SchedulerBroker::release(RegionId region, std::string_view accelerator, uint64_t gpus, SimTime) {
  Pool& p = pool(region, accelerator);
  p.lent -= std::min(p.lent, gpus);
  trim(p);
}

uint64_t SchedulerBroker::lent_gpus(RegionId region, std::string_view accelerator) const {
  const Pool* p = find(region, accelerator);
  return p ? p->lent : 0;
}

uint64_t SchedulerBroker::claimed_nodes(RegionId region, std::string_view accelerator) const {
  const Pool* p = find(region, accelerator);
  return p ? p->nodes : 0;
}

}  // namespace fleetsim
