// SPDX-License-Identifier: Apache-2.0
#include "models/world/scheduler_broker.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace fleetsim {

SchedulerBroker::Pool& SchedulerBroker::pool(RegionId region, std::string_view accelerator) {
  Pool& p = pools_[Key{region.value(), std::string(accelerator)}];
  if (p.open.capacity() == 0) p.open = IndexBitset(fleet_.nodes());
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
  // Whole replicas: a replica wider than a node needs unit_nodes nodes of one scale-up domain.
  const uint64_t unit = p.unit_nodes;
  const uint64_t want_nodes = ((gpus - slack + p.gpus_per_node - 1) / p.gpus_per_node + unit - 1) / unit * unit;
  // Our claims not started yet take obtainable nodes first.
  const uint64_t obtainable = obtainable_nodes(region, accelerator, priority, want_nodes + p.waiting);
  const uint64_t take = std::min(want_nodes, obtainable - std::min(obtainable, p.waiting)) / unit * unit;
  if (take > 0) {
    const Key key{region.value(), std::string(accelerator)};
    GangRequest r;
    r.name = "autoscale:" + std::string(accelerator);
    r.nodes = static_cast<uint32_t>(take);
    r.replica_nodes = r.unit_nodes = static_cast<uint32_t>(unit);
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
      for (NodeId n : nodes) pl.open.insert(n.value());
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
    // Never a node a replica runs on: the surplus is then kept until that replica goes.
    const std::vector<NodeId>& held = sched_.allocation(c.id).nodes;
    const auto spare = std::find_if(held.rbegin(), held.rend(), [&](NodeId n) { return !has_bound(n); });
    if (spare == held.rend()) break;
    p.open.erase(spare->value());
    if (c.nodes == 1) {
      sched_.release(c.id, /*requeue=*/false);
      p.claims.pop_back();
    } else {
      sched_.give_back(c.id, *spare);
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

namespace fleetsim {

uint32_t SchedulerBroker::place(std::string_view service, RegionId region, std::string_view accelerator,
                                uint32_t replicas, uint32_t gpus_per_replica, std::vector<ReplicaGpus>& out) {
  out.clear();
  Pool& p = pool(region, accelerator);
  const uint32_t gpn = p.gpus_per_node;
  if (gpn == 0 || gpus_per_replica == 0)
    throw InferenceSpecError(fmt::format("inference service \"{}\": region \"{}\" has no {} hosts", service,
                                         fleet_.region_name(region), accelerator));
  const uint32_t per_node = gpus_per_replica <= gpn ? gpn / gpus_per_replica : 0;  // replicas packed on a node
  const uint32_t npr = per_node > 0 ? 1 : (gpus_per_replica + gpn - 1) / gpn;      // nodes of a replica
  p.unit_nodes = std::max(p.unit_nodes, npr);
  const auto handle = static_cast<uint32_t>(placements_.size());
  if (replicas == 0) {
    placements_.push_back(kNoAllocation);
    return handle;
  }
  GangRequest r;
  r.name = "inference/" + std::string(service);
  r.nodes = per_node > 0 ? (replicas + per_node - 1) / per_node : replicas * npr;
  r.replica_nodes = r.unit_nodes = npr;
  r.accelerator = std::string(accelerator);
  r.region = region;
  r.priority = kDedicatedPriority;
  r.preemptible = false;
  const std::optional<AllocationId> id = sched_.place_now(r);
  if (!id)
    throw InferenceSpecError(fmt::format(
        "inference service \"{}\": region \"{}\": {} replicas of {} {} GPUs need {} free hosts of {} GPUs{} at the "
        "start; {} are free",
        service, fleet_.region_name(region), replicas, gpus_per_replica, accelerator, r.nodes, gpn,
        npr > 1 ? fmt::format(" ({} per replica in one scale-up domain)", npr) : std::string(),
        sched_.count_free(region, accelerator, r.nodes)));
  const std::vector<NodeId>& nodes = sched_.allocation(*id).nodes;
  for (uint32_t k = 0; k < replicas; ++k) {
    ReplicaGpus gpus;
    if (per_node > 0) {
      const uint32_t first = fleet_.range(ref(nodes[k / per_node]), Level::Gpu).begin;
      gpus.push_back({first + (k % per_node) * gpus_per_replica, gpus_per_replica});
    } else {
      uint32_t left = gpus_per_replica;
      for (uint32_t j = 0; j < npr; ++j, left -= std::min(left, gpn))
        gpus.push_back({fleet_.range(ref(nodes[k * npr + j]), Level::Gpu).begin, std::min(left, gpn)});
    }
    out.push_back(std::move(gpus));
  }
  placements_.push_back(*id);
  return handle;
}

std::optional<NodeId> SchedulerBroker::replace(uint32_t placement, NodeId failed, std::optional<IndexRange> within) {
  const AllocationId id = placements_.at(placement);
  if (id == kNoAllocation) return std::nullopt;
  return sched_.replace(id, failed, within);
}

std::optional<ReplicaGpus> SchedulerBroker::bind(RegionId region, std::string_view accelerator, uint32_t gpus) {
  Pool& p = pool(region, accelerator);
  const uint32_t gpn = p.gpus_per_node;
  if (gpn == 0 || gpus == 0) return std::nullopt;
  // GPUs of a usable node not bound and up themselves (the node's usability, a walk up its
  // ancestors, checked once per node and not per GPU: bind runs millions of times in the flagship).
  const auto open = [&](uint32_t begin, uint32_t count) {
    for (uint32_t g = begin; g < begin + count; ++g)
      if (bound_[g] != 0 || !fleet_.own_up(ref(GpuId{g}))) return false;
    return true;
  };
  ReplicaGpus out;
  if (gpus <= gpn) {
    for (uint32_t n : p.open) {
      if (!fleet_.usable(ref(NodeId{n}))) continue;
      const uint32_t first = fleet_.range(ref(NodeId{n}), Level::Gpu).begin;
      for (uint32_t off = 0; off + gpus <= gpn && out.empty(); off += gpus)
        if (open(first + off, gpus)) out.push_back({first + off, gpus});
      if (!out.empty()) break;
    }
  } else {
    // Whole free nodes of one scale-up domain (the open set is sorted, and a domain is a range of nodes).
    const uint32_t npr = (gpus + gpn - 1) / gpn;
    std::vector<NodeId>& run = run_;
    run.clear();
    for (uint32_t k : p.open) {
      const NodeId n{k};
      // A whole node: none of its GPUs bound, and all of them usable (the node's up count is its GPUs
      // that are up, counted when the node and its ancestors are up).
      if (bound_on_[k] > 0 || fleet_.usable_gpus(ref(n)) != gpn) continue;
      if (!run.empty() && fleet_.scale_up_domain(run.front()).end <= n.value()) run.clear();
      run.push_back(n);
      if (run.size() == npr) break;
    }
    if (run.size() == npr) {
      uint32_t left = gpus;
      for (NodeId n : run) {
        out.push_back({fleet_.range(ref(n), Level::Gpu).begin, std::min(left, gpn)});
        left -= std::min(left, gpn);
      }
    }
  }
  if (out.empty()) return std::nullopt;
  for (const GpuSpan& s : out) {
    std::fill(bound_.begin() + s.begin, bound_.begin() + s.end(), uint8_t{1});
    const uint32_t n = fleet_.node_of(GpuId{s.begin}).value();
    if ((bound_on_[n] += s.count) >= gpn) p.open.erase(n);
  }
  return out;
}

void SchedulerBroker::unbind(RegionId region, std::string_view accelerator, const ReplicaGpus& gpus) {
  Pool& p = pool(region, accelerator);
  for (const GpuSpan& s : gpus) {
    std::fill(bound_.begin() + s.begin, bound_.begin() + s.end(), uint8_t{0});
    const uint32_t n = fleet_.node_of(GpuId{s.begin}).value();
    if (bound_on_[n] == 0) continue;
    bound_on_[n] -= std::min(bound_on_[n], s.count);
    // Still held by a started claim? Then it is open again (trim gives back unbound nodes only).
    const AllocationId owner = sched_.owner(NodeId{n});
    if (owner != kNoAllocation && std::any_of(p.claims.begin(), p.claims.end(), [&](const Claim& c) { return c.id == owner && c.started; }))
      p.open.insert(n);
  }
  trim(p);
}

}  // namespace fleetsim
