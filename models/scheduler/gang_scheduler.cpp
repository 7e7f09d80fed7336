// SPDX-License-Identifier: Apache-2.0
#include "models/scheduler/gang_scheduler.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fleetsim {

GangScheduler::GangScheduler(Fleet& fleet, Engine& engine, FailureModel* failures)
    : fleet_(fleet), engine_(engine), owner_(fleet.nodes(), kNoAllocation), unallocated_(fleet.nodes()),
      kind_pass_(engine.register_kind("sched-pass")) {
  unallocated_in_region_.assign(fleet.regions(), 0);
  // Datacenters are numbered region by region: the last region's range ends at their count.
  unallocated_in_dc_.assign(fleet.regions() == 0 ? 0 : fleet.range(RegionId{fleet.regions() - 1}, Level::Datacenter).end, 0);
  gang_gpus_.assign(fleet.regions() * std::max<size_t>(1, fleet.accelerators().size()), 0);
  for (uint32_t n = 0; n < fleet.nodes(); ++n) {
    unallocated_.insert(n);
    ++unallocated_in_region_[fleet.region_of(ref(NodeId{n})).value()];
  }
  for (uint32_t d = 0; d < unallocated_in_dc_.size(); ++d)
    unallocated_in_dc_[d] = fleet.range(ref(DatacenterId{d}), Level::Node).size();
  if (failures != nullptr) {
    failures->on_event.connect([this](const FailureEvent& e) {
      if (e.kind == FailureEvent::Kind::OutageEnd) freed_ += kManyNodes;
      if (e.kind == FailureEvent::Kind::Repair) {
        // A repair below the node frees at most its node; a rack, datacenter, zone or region repair
        // frees an unknown number.
        const bool one_node = e.cls == ComponentClass::Gpu || e.cls == ComponentClass::Hbm || e.cls == ComponentClass::Link ||
                              e.cls == ComponentClass::Node || e.cls == ComponentClass::Nic ||
                              e.cls == ComponentClass::Software;
        freed_ += one_node ? 1 : kManyNodes;
      }
      if (queue_.empty()) return;
      if (e.kind == FailureEvent::Kind::Repair || e.kind == FailureEvent::Kind::OutageEnd) schedule_pass();
    });
  }
}

void GangScheduler::mark_taken(uint32_t n) {
  if (unallocated_.erase(n)) {
    const ComponentRef c = ref(NodeId{n});
    --unallocated_in_region_[fleet_.region_of(c).value()];
    --unallocated_in_dc_[fleet_.datacenter_of(c).value()];
  }
}

void GangScheduler::mark_free(uint32_t n) {
  ++freed_;
  if (unallocated_.insert(n)) {
    const ComponentRef c = ref(NodeId{n});
    ++unallocated_in_region_[fleet_.region_of(c).value()];
    ++unallocated_in_dc_[fleet_.datacenter_of(c).value()];
  }
}

void GangScheduler::count_gang(NodeId n, int sign) {
  if (on_gang_change) on_gang_change();
  const ComponentRef c = ref(n);
  const size_t naccs = std::max<size_t>(1, fleet_.accelerators().size());
  uint64_t& held = gang_gpus_[fleet_.region_of(c).value() * naccs + fleet_.accelerator_of(c)];
  const uint64_t gpus = fleet_.gpus_per_node(fleet_.datacenter_of(c));
  held = sign > 0 ? held + gpus : held - std::min(held, gpus);
}

uint64_t GangScheduler::gang_gpus(RegionId r, uint32_t acc) const {
  const size_t i = r.value() * std::max<size_t>(1, fleet_.accelerators().size()) + acc;
  return i < gang_gpus_.size() ? gang_gpus_[i] : 0;
}

bool GangScheduler::is_free(NodeId n) const {
  if (owner_[n.value()] != kNoAllocation) return false;
  const ComponentRef c = ref(n);
  if (!fleet_.usable(c) || !fleet_.launch_allowed(c)) return false;
  return fleet_.usable_gpus(c) == fleet_.gpus_per_node(fleet_.datacenter_of(c));
}

bool GangScheduler::accelerator_ok(const GangRequest& r, uint32_t dc) const {
  if (r.accelerator.empty()) return true;
  return fleet_.accelerators()[fleet_.accelerator_of(ref(DatacenterId{dc}))] == r.accelerator;
}

void GangScheduler::request_pass() {
  freed_ += kManyNodes;  // the caller does not say what changed: search for everything again
  schedule_pass();
}

void GangScheduler::schedule_pass() {
  if (engine_.pending(pass_event_)) return;
  pass_event_ = engine_.schedule_in(Duration::zero(), Phase::Control, [this] { pass(); }, kind_pass_);
}

AllocationId GangScheduler::submit(GangRequest request) {
  if (request.nodes == 0) throw std::invalid_argument("GangScheduler::submit: a gang needs at least one node");
  const auto id = static_cast<AllocationId>(allocs_.size());
  Allocation a;
  a.request = std::move(request);
  a.submitted = engine_.now();
  a.seq = seq_++;
  allocs_.push_back(std::move(a));
  queue_.push_back(id);
  std::stable_sort(queue_.begin(), queue_.end(), [this](AllocationId x, AllocationId y) {
    if (allocs_[x].request.priority != allocs_[y].request.priority) return allocs_[x].request.priority > allocs_[y].request.priority;
    return allocs_[x].seq < allocs_[y].seq;
  });
  schedule_pass();
  return id;
}

std::optional<AllocationId> GangScheduler::place_now(GangRequest request) {
  if (request.nodes == 0) throw std::invalid_argument("GangScheduler::place_now: a gang needs at least one node");
  std::optional<std::vector<NodeId>> nodes =
      find_nodes(request, request.nodes + request.spare_nodes, request.exclude_region);
  if (!nodes) return std::nullopt;
  const auto id = static_cast<AllocationId>(allocs_.size());
  Allocation a;
  a.request = std::move(request);
  a.submitted = engine_.now();
  a.started = engine_.now();
  a.seq = seq_++;
  const uint32_t gang = a.request.nodes;
  allocs_.push_back(std::move(a));
  set_state(id, State::Running);
  std::vector<NodeId> spares(nodes->begin() + gang, nodes->end());
  nodes->resize(gang);
  take(id, std::move(*nodes), std::move(spares));
  return id;
}

AllocationId GangScheduler::claim(RegionId region, uint64_t gpus, int priority,
                                  std::function<void(AllocationId, std::span<const NodeId>)> on_start, std::string name,
                                  std::string accelerator) {
  GangRequest r;
  r.name = std::move(name);
  r.accelerator = std::move(accelerator);
  // GPUs per node of the hosts the claim may land on, not of the region's first datacenter: in a
  // region with 8-GPU H100 hosts before 4-GPU GB200 hosts, 16 GB200 GPUs are 4 hosts, not 2.
  const IndexRange dcs = fleet_.range(region, Level::Datacenter);
  uint32_t gpn = 0;
  for (uint32_t d = dcs.begin; d < dcs.end; ++d)
    if (accelerator_ok(r, d)) gpn = gpn == 0 ? fleet_.gpus_per_node(DatacenterId{d}) : std::min(gpn, fleet_.gpus_per_node(DatacenterId{d}));
  if (gpn == 0)
    throw std::invalid_argument("GangScheduler::claim: region " + std::to_string(region.value()) + " has no host of accelerator '" +
                                r.accelerator + "'");
  r.nodes = static_cast<uint32_t>((gpus + gpn - 1) / gpn);
  r.region = region;
  r.priority = priority;
  r.preemptible = false;
  r.may_preempt = true;
  r.on_start = std::move(on_start);
  return submit(std::move(r));
}

uint64_t GangScheduler::count_free(RegionId region, std::string_view accelerator, uint64_t limit) const {
  uint64_t n = 0;
  const IndexRange dcs = fleet_.range(region, Level::Datacenter);
  for (uint32_t d = dcs.begin; d < dcs.end && n < limit; ++d) {
    const ComponentRef dref = ref(DatacenterId{d});
    if (fleet_.accelerators()[fleet_.accelerator_of(dref)] != accelerator) continue;
    if (!fleet_.usable(dref) || !fleet_.launch_allowed(dref)) continue;  // no node of it is free
    n += collect_free(fleet_.range(dref, Level::Node), fleet_.gpus_per_node(DatacenterId{d}), limit - n, nullptr);
  }
  return n;
}

std::optional<std::vector<NodeId>> GangScheduler::find_in_region(const GangRequest& r, uint32_t region, uint32_t count) const {
  const RegionId rid{region};
  last_shortfall_ = 1;  // the conservative answer for the exits that do not count
  if (unallocated_in_region_[region] < count) {  // O(1): cannot fit whatever the health
    last_shortfall_ = count - unallocated_in_region_[region];
    return std::nullopt;
  }
  if (!r.accelerator.empty()) {
    const auto& accs = fleet_.accelerators();
    const auto it = std::find(accs.begin(), accs.end(), r.accelerator);
    last_shortfall_ = kManyNodes;  // no such accelerator here: only new capacity could change that
    if (it == accs.end()) return std::nullopt;
    const auto acc = static_cast<uint32_t>(it - accs.begin());
    // GPUs per node of this accelerator's datacenters, not of the region's first datacenter: a region
    // with 8-GPU H100 hosts before 4-GPU GB200 hosts would otherwise ask for twice the GB200 GPUs.
    const IndexRange dcs = fleet_.range(rid, Level::Datacenter);
    uint32_t gpn = 0;
    for (uint32_t d = dcs.begin; d < dcs.end; ++d)
      if (accelerator_ok(r, d)) gpn = gpn == 0 ? fleet_.gpus_per_node(DatacenterId{d}) : std::min(gpn, fleet_.gpus_per_node(DatacenterId{d}));
    if (gpn == 0) return std::nullopt;
    const uint64_t usable_nodes = fleet_.usable_gpus(rid, acc) / gpn;
    if (usable_nodes < count) {
      last_shortfall_ = count - usable_nodes;
      return std::nullopt;
    }
    last_shortfall_ = 1;
  }
  // Candidate datacenters and their free nodes. Nodes are taken in index order inside a datacenter.
  // With unit == 1 only the count is computed here (free_in_dc: O(racks), not O(hosts)); the nodes of
  // the chosen datacenters are listed afterwards, the first `take` of them (O(take)).
  struct Cand {
    uint32_t dc;
    size_t free;
    std::vector<NodeId> nodes;  // unit > 1 only
  };
  std::vector<Cand> cands;
  const IndexRange dcs = fleet_.range(rid, Level::Datacenter);
  const uint32_t unit = std::max(1u, r.unit_nodes);
  for (uint32_t d = dcs.begin; d < dcs.end; ++d) {
    if (!accelerator_ok(r, d)) continue;
    const ComponentRef dref = ref(DatacenterId{d});
    if (!fleet_.usable(dref) || !fleet_.launch_allowed(dref)) continue;
    Cand c{d, 0, {}};
    if (unit == 1) c.free = free_in_dc(d);
    // Whole units per scale-up domain. Only domains with an unallocated node are looked at (a free
    // node is unallocated), and a domain in a rack with every GPU up without a look at its nodes.
    const IndexRange nodes = fleet_.range(dref, Level::Node);
    const uint32_t gpn = fleet_.gpus_per_node(DatacenterId{d});
    for (uint32_t u = unallocated_.next(nodes.begin); unit > 1 && u < nodes.end;) {
      const IndexRange dom = fleet_.scale_up_domain(NodeId{u});
      const size_t first = c.nodes.size();
      collect_free({u, std::min(dom.end, nodes.end)}, gpn, SIZE_MAX, &c.nodes);
      c.nodes.resize(first + (c.nodes.size() - first) / unit * unit);
      u = unallocated_.next(std::max(dom.end, u + 1));
    }
    if (unit > 1) c.free = c.nodes.size();
    if (c.free > 0) cands.push_back(std::move(c));
  }
  // The first `k` free nodes of a candidate, appended to `out`.
  const auto pick = [&](const Cand& c, size_t k, std::vector<NodeId>& out) {
    if (unit > 1) {
      out.insert(out.end(), c.nodes.begin(), c.nodes.begin() + static_cast<std::ptrdiff_t>(k));
      return;
    }
    collect_free(fleet_.range(ref(DatacenterId{c.dc}), Level::Node), fleet_.gpus_per_node(DatacenterId{c.dc}), k, &out);
  };
  // Best fit: the datacenter with the fewest free nodes that holds the whole gang.
  const Cand* best = nullptr;
  for (const Cand& c : cands)
    if (c.free >= count && (best == nullptr || c.free < best->free)) best = &c;
  if (best != nullptr) {
    std::vector<NodeId> out;
    out.reserve(count);
    pick(*best, count, out);
    return out;
  }
  // Else the fewest datacenters: largest first, whole replicas from each where possible.
  std::vector<const Cand*> order;
  size_t total = 0;
  for (const Cand& c : cands) {
    order.push_back(&c);
    total += c.free;
  }
  if (total < count) {
    last_shortfall_ = count - total;
    return std::nullopt;
  }
  std::stable_sort(order.begin(), order.end(), [](const Cand* a, const Cand* b) { return a->free > b->free; });
  const uint32_t rep = std::max(1u, r.replica_nodes);
  for (bool whole : {true, false}) {
    std::vector<NodeId> out;
    for (const Cand* c : order) {
      size_t take = std::min<size_t>(c->free, count - out.size());
      if (whole && take < count - out.size()) take = take / rep * rep;
      pick(*c, take, out);
      if (out.size() == count) {
        std::sort(out.begin(), out.end());
        return out;
      }
    }
  }
  return std::nullopt;
}

size_t GangScheduler::collect_free(IndexRange nodes, uint32_t gpn, size_t limit, std::vector<NodeId>* out) const {
  // The caller checked the datacenter usable and launch-allowed; then a node is free iff unallocated,
  // its rack and itself up and all its GPUs up, and in a rack whose up count is every GPU of its
  // nodes that holds for every node (free_in_dc's reasoning): only other racks are looked at node by node.
  size_t n = 0;
  for (uint32_t u = unallocated_.next(nodes.begin); u < nodes.end && n < limit;) {
    const ComponentRef rack = ref(fleet_.rack_of(NodeId{u}));
    const IndexRange in_rack = fleet_.range(rack, Level::Node);
    const uint32_t end = std::min(in_rack.end, nodes.end);
    if (!fleet_.own_up(rack)) {
      u = unallocated_.next(end);
      continue;
    }
    const bool whole = fleet_.usable_gpus(rack) == uint64_t{gpn} * in_rack.size();
    for (; u < end && n < limit; u = unallocated_.next(u + 1)) {
      if (!whole && !is_free(NodeId{u})) continue;
      if (out != nullptr) out->push_back(NodeId{u});
      ++n;
    }
  }
  return n;
}

size_t GangScheduler::free_in_dc(uint32_t dc) const {
  // The caller checked the datacenter (and so its zone and region) usable and launch-allowed, so a
  // node is free iff unallocated, its rack and itself up, and all its GPUs up. A rack whose up count
  // is every GPU of its nodes has all of them up (a node adds its GPUs to the rack only while up):
  // its unallocated nodes are all free. Only the other racks are looked at node by node.
  const ComponentRef dref = ref(DatacenterId{dc});
  const uint32_t gpn = fleet_.gpus_per_node(DatacenterId{dc});
  size_t free = unallocated_in_dc_[dc];
  const IndexRange racks = fleet_.range(dref, Level::Rack);
  for (uint32_t k = racks.begin; k < racks.end; ++k) {
    const ComponentRef rack = ref(RackId{k});
    const IndexRange nodes = fleet_.range(rack, Level::Node);
    if (fleet_.own_up(rack) && fleet_.usable_gpus(rack) == uint64_t{gpn} * nodes.size()) continue;
    for (auto u = unallocated_.lower_bound(nodes.begin); u != unallocated_.end() && *u < nodes.end; ++u)
      free -= is_free(NodeId{*u}) ? 0 : 1;
  }
  return free;
}

std::optional<std::vector<NodeId>> GangScheduler::find_nodes(const GangRequest& r, uint32_t count,
                                                             std::optional<RegionId> exclude, std::span<const NodeId>) const {
  if (r.region) {
    if (exclude && *exclude == *r.region) return std::nullopt;
    return find_in_region(r, r.region->value(), count);
  }
  uint64_t shortfall = UINT64_MAX;
  for (uint32_t g = 0; g < fleet_.regions(); ++g) {
    if (exclude && exclude->value() == g) continue;
    if (auto n = find_in_region(r, g, count)) return n;
    shortfall = std::min(shortfall, last_shortfall_);
  }
  last_shortfall_ = shortfall == UINT64_MAX ? 1 : shortfall;
  return std::nullopt;
}

void GangScheduler::take(AllocationId id, std::vector<NodeId> nodes, std::vector<NodeId> spares) {
  Allocation& a = allocs_[id];
  for (NodeId n : nodes) {
    owner_[n.value()] = id;
    mark_taken(n.value());
    count_gang(n, +1);
  }
  for (NodeId n : spares) {
    owner_[n.value()] = id;
    mark_taken(n.value());
  }
  allocated_nodes_ += nodes.size() + spares.size();
  std::sort(nodes.begin(), nodes.end());
  std::sort(spares.begin(), spares.end());
  a.nodes = std::move(nodes);
  a.spares = std::move(spares);
  a.region = a.nodes.empty() ? 0 : fleet_.region_of(ref(a.nodes.front())).value();
}

void GangScheduler::free_nodes(AllocationId id) {
  Allocation& a = allocs_[id];
  for (NodeId n : a.nodes) {
    owner_[n.value()] = kNoAllocation;
    mark_free(n.value());
    count_gang(n, -1);
  }
  for (NodeId n : a.spares) {
    owner_[n.value()] = kNoAllocation;
    mark_free(n.value());
  }
  allocated_nodes_ -= a.nodes.size() + a.spares.size();
  a.nodes.clear();
  a.spares.clear();
}

void GangScheduler::set_state(AllocationId id, State s) {
  Allocation& a = allocs_[id];
  const auto holds = [](State x) { return x == State::Running || x == State::Preempting; };
  if (holds(s) && !holds(a.state)) {
    if (live_pos_.size() < allocs_.size()) live_pos_.resize(allocs_.size(), kNotLive);
    live_pos_[id] = static_cast<uint32_t>(live_.size());
    live_.push_back(id);
  } else if (!holds(s) && holds(a.state)) {
    const uint32_t pos = live_pos_[id];
    live_[pos] = live_.back();
    live_pos_[live_[pos]] = pos;
    live_.pop_back();
    live_pos_[id] = kNotLive;
  }
  a.state = s;
}

bool GangScheduler::try_preempt_for(AllocationId id) {
  const Allocation& head = allocs_[id];
  const GangRequest& r = head.request;
  const uint32_t need = r.nodes + r.spare_nodes;
  // Already waiting for enough preempted nodes: do not take more.
  uint64_t pending = 0;
  for (const AllocationId v : live_)
    if (allocs_[v].state == State::Preempting) pending += allocs_[v].nodes.size() + allocs_[v].spares.size();
  if (pending >= need) return true;
  std::vector<AllocationId> victims;
  for (const AllocationId v : live_) {  // in any order: the sort below is total (seq is unique)
    const Allocation& a = allocs_[v];
    if (a.state != State::Running || !a.request.preemptible || a.request.priority >= r.priority) continue;
    if (r.region && a.region != r.region->value()) continue;
    if (!r.accelerator.empty() && a.request.accelerator != r.accelerator && !a.request.accelerator.empty()) continue;
    victims.push_back(v);
  }
  std::stable_sort(victims.begin(), victims.end(), [this](AllocationId x, AllocationId y) {
    if (allocs_[x].request.priority != allocs_[y].request.priority) return allocs_[x].request.priority < allocs_[y].request.priority;
    return allocs_[x].seq > allocs_[y].seq;
  });
  // Free nodes in scope (the request's region, its accelerator's datacenters: free hosts of another
  // accelerator do not make room for it), counted only as far as the need: past it no victim is chosen.
  uint64_t free = 0;
  const uint64_t limit = need - pending;
  for (uint32_t g = 0; g < fleet_.regions() && free < limit; ++g) {
    if (r.region && r.region->value() != g) continue;
    const IndexRange dcs = fleet_.range(RegionId{g}, Level::Datacenter);
    for (uint32_t d = dcs.begin; d < dcs.end && free < limit; ++d) {
      const ComponentRef dref = ref(DatacenterId{d});
      if (!accelerator_ok(r, d) || !fleet_.usable(dref) || !fleet_.launch_allowed(dref)) continue;
      free += collect_free(fleet_.range(dref, Level::Node), fleet_.gpus_per_node(DatacenterId{d}), limit - free, nullptr);
    }
  }
  uint64_t have = free + pending;
  std::vector<AllocationId> chosen;
  for (AllocationId v : victims) {
    if (have >= need) break;
    chosen.push_back(v);
    have += allocs_[v].nodes.size() + allocs_[v].spares.size();
  }
  if (have < need) return false;
  for (AllocationId v : chosen) {
    set_state(v, State::Preempting);
    ++preemptions_;
  }
  for (AllocationId v : chosen)
    if (allocs_[v].request.on_preempt) allocs_[v].request.on_preempt(v);
    else release(v, true);
  return true;
}

void GangScheduler::pass() {
  pass_event_ = {};
  const SimTime now = engine_.now();
  std::vector<AllocationId> started;
  std::optional<AllocationId> head;
  SimTime shadow = SimTime::max();
  int64_t extra = 0;
  bool reserved = false;  // shadow and extra computed for the head
  const std::vector<AllocationId> order = queue_;
  for (AllocationId id : order) {
    Allocation& a = allocs_[id];
    const uint32_t need = a.request.nodes + a.request.spare_nodes;
    std::optional<std::vector<NodeId>> nodes;
    if (freed_ - a.freed_mark >= a.shortfall) {
      nodes = find_nodes(a.request, need, a.request.exclude_region);
      if (!nodes) {
        a.freed_mark = freed_;
        a.shortfall = std::max<uint64_t>(1, last_shortfall_);
      }
    }
    if (!head) {
      if (nodes) {
        std::vector<NodeId> gang(nodes->begin(), nodes->begin() + a.request.nodes);
        std::vector<NodeId> spares(nodes->begin() + a.request.nodes, nodes->end());
        take(id, std::move(gang), std::move(spares));
        started.push_back(id);
        continue;
      }
      head = id;
      if (a.request.may_preempt) try_preempt_for(id);
      continue;
    }
    if (!nodes) continue;
    if (!reserved) {
      // The head's reservation: when expected ends free enough nodes (counted over matching holders).
      // Computed only once a later request could backfill: it scans every unallocated node, and a head
      // that waits for capacity would otherwise pay that scan on every pass (every failure and repair).
      reserved = true;
      const Allocation& h = allocs_[*head];
      const uint32_t head_need = h.request.nodes + h.request.spare_nodes;
      std::vector<std::pair<SimTime, uint64_t>> ends;
      for (const AllocationId v : live_) {  // Running or Preempting; sorted below
        const Allocation& o = allocs_[v];
        if (h.request.accelerator.empty() || o.request.accelerator == h.request.accelerator)
          ends.emplace_back(o.expected_end, o.nodes.size() + o.spares.size());
      }
      std::sort(ends.begin(), ends.end());
      uint64_t avail = 0;
      for (uint32_t n : unallocated_) avail += is_free(NodeId{n}) ? 1 : 0;
      extra = static_cast<int64_t>(avail);
      // Enough nodes free now (a preemption for the head released them in this pass, after its search):
      // they are the head's, and only what is left beyond its need may be backfilled. Counting the first
      // holder's end on top let a lower-priority job backfill into them, the head preempt it again at
      // the next pass, and so on without end at one instant.
      if (avail >= head_need) {
        shadow = now;
        extra = static_cast<int64_t>(avail - head_need);
      }
      for (const auto& [t, k] : ends) {
        if (shadow != SimTime::max()) break;
        avail += k;
        if (avail >= head_need) {
          shadow = t;
          extra = static_cast<int64_t>(avail) - head_need;
          break;
        }
      }
    }
    const bool ends_in_time = a.request.expected_runtime != Duration::max() && shadow != SimTime::max() &&
                              (shadow - now) >= a.request.expected_runtime;
    if (!ends_in_time && static_cast<int64_t>(need) > extra) continue;
    if (!ends_in_time) extra -= need;
    std::vector<NodeId> gang(nodes->begin(), nodes->begin() + a.request.nodes);
    std::vector<NodeId> spares(nodes->begin() + a.request.nodes, nodes->end());
    take(id, std::move(gang), std::move(spares));
    started.push_back(id);
    ++backfilled_;
  }
  for (AllocationId id : started) {
    Allocation& a = allocs_[id];
    set_state(id, State::Running);
    a.started = now;
    a.expected_end = a.request.expected_runtime == Duration::max() || (SimTime::max() - now) <= a.request.expected_runtime
                         ? SimTime::max()
                         : now + a.request.expected_runtime;
    std::erase(queue_, id);
  }
  for (AllocationId id : started) {
    Allocation& a = allocs_[id];
    if (a.request.on_start) {
      const std::vector<NodeId> nodes = a.nodes;  // the callback may change the allocation
      a.request.on_start(id, nodes);
    }
  }
}

void GangScheduler::release(AllocationId id, bool requeue) {
  Allocation& a = allocs_.at(id);
  if (a.state == State::Released) return;
  free_nodes(id);
  std::erase(queue_, id);
  if (requeue) {
    set_state(id, State::Queued);
    a.shortfall = 0;
    a.expected_end = SimTime::max();
    queue_.push_back(id);
    std::stable_sort(queue_.begin(), queue_.end(), [this](AllocationId x, AllocationId y) {
      if (allocs_[x].request.priority != allocs_[y].request.priority) return allocs_[x].request.priority > allocs_[y].request.priority;
      return allocs_[x].seq < allocs_[y].seq;
    });
  } else {
    set_state(id, State::Released);
  }
  schedule_pass();
}

std::optional<NodeId> GangScheduler::replace(AllocationId id, NodeId failed, std::optional<IndexRange> within) {
  Allocation& a = allocs_.at(id);
  const ComponentRef f = ref(failed);
  const uint32_t acc = fleet_.accelerator_of(f);
  const auto first_free = [&](IndexRange nodes) -> std::optional<uint32_t> {
    for (auto u = unallocated_.lower_bound(nodes.begin); u != unallocated_.end() && *u < nodes.end; ++u)
      if (is_free(NodeId{*u}) && fleet_.accelerator_of(ref(NodeId{*u})) == acc) return *u;
    return std::nullopt;
  };
  if (within) {
    const std::optional<uint32_t> w = first_free(*within);
    if (!w) return std::nullopt;
    return swap_in(a, id, failed, NodeId{*w});
  }
  // The rack first (a handful of nodes), then the datacenter, then the rest of the region, one
  // datacenter at a time. A datacenter that is down, not installed or of another accelerator is passed
  // over at once, and inside one a rack that is down at once (collect_free), not node by node: scanning
  // every unallocated node of the region for each replacement hung the 38B flagship inside one event
  // when a slow job met a region full of down or not-yet-installed nodes (issue 19). The order of the
  // choice is unchanged: the first free node of the rack, else of the datacenter, else of the region,
  // in index order.
  std::optional<uint32_t> n = first_free(fleet_.range(ref(fleet_.rack_of(failed)), Level::Node));
  const uint32_t own_dc = fleet_.datacenter_of(f).value();
  const auto search_dc = [&](uint32_t d) -> std::optional<uint32_t> {
    const ComponentRef dref = ref(DatacenterId{d});
    if (unallocated_in_dc_[d] == 0 || fleet_.accelerator_of(dref) != acc) return std::nullopt;
    if (!fleet_.usable(dref) || !fleet_.launch_allowed(dref)) return std::nullopt;
    std::vector<NodeId>& one = replace_scratch_;
    one.clear();
    if (collect_free(fleet_.range(dref, Level::Node), fleet_.gpus_per_node(DatacenterId{d}), 1, &one) == 0) return std::nullopt;
    return one.front().value();
  };
  if (!n) n = search_dc(own_dc);
  const IndexRange dcs = fleet_.range(ref(fleet_.region_of(f)), Level::Datacenter);
  for (uint32_t d = dcs.begin; !n && d < dcs.end; ++d)
    if (d != own_dc) n = search_dc(d);
  if (!n) return std::nullopt;
  return swap_in(a, id, failed, NodeId{*n});
}

NodeId GangScheduler::swap_in(Allocation& a, AllocationId id, NodeId failed, NodeId cand) {
  auto it = std::lower_bound(a.nodes.begin(), a.nodes.end(), failed);
  const bool member = it != a.nodes.end() && *it == failed;
  if (member) {
    // The candidate takes the failed node's slot, then moves to its sorted place: a rotation over the
    // nodes between the two (a replacement is usually in the same rack or datacenter), not an erase
    // and an insert that each shift the rest of a 25,000-node gang.
    *it = cand;
    auto to = std::lower_bound(a.nodes.begin(), it, cand);
    if (to != it) {
      std::rotate(to, it, it + 1);
    } else {
      to = std::lower_bound(it + 1, a.nodes.end(), cand);
      std::rotate(it, it + 1, to);
    }
    count_gang(failed, -1);
  }
  count_gang(cand, +1);
  owner_[failed.value()] = kNoAllocation;
  mark_free(failed.value());
  mark_taken(cand.value());
  owner_[cand.value()] = id;
  if (!member) a.nodes.insert(std::lower_bound(a.nodes.begin(), a.nodes.end(), cand), cand);
  return cand;
}

void GangScheduler::swap_with_spare(AllocationId id, NodeId failed, NodeId spare) {
  Allocation& a = allocs_.at(id);
  auto f = std::lower_bound(a.nodes.begin(), a.nodes.end(), failed);
  auto s = std::lower_bound(a.spares.begin(), a.spares.end(), spare);
  if (f == a.nodes.end() || *f != failed || s == a.spares.end() || *s != spare)
    throw std::logic_error("GangScheduler::swap_with_spare: nodes do not belong to the allocation");
  a.nodes.erase(f);
  a.spares.erase(s);
  count_gang(failed, -1);
  count_gang(spare, +1);
  a.nodes.insert(std::lower_bound(a.nodes.begin(), a.nodes.end(), spare), spare);
  a.spares.insert(std::lower_bound(a.spares.begin(), a.spares.end(), failed), failed);
}

void GangScheduler::give_back(AllocationId id, NodeId node) {
  Allocation& a = allocs_.at(id);
  for (auto* v : {&a.nodes, &a.spares}) {
    auto it = std::lower_bound(v->begin(), v->end(), node);
    if (it != v->end() && *it == node) {
      v->erase(it);
      if (v == &a.nodes) count_gang(node, -1);
      owner_[node.value()] = kNoAllocation;
      mark_free(node.value());
      --allocated_nodes_;
      if (!queue_.empty()) schedule_pass();
      return;
    }
  }
}

bool GangScheduler::move(AllocationId id, std::optional<RegionId> exclude) {
  Allocation& a = allocs_.at(id);
  // A request pinned to a region ("only this region") stays in it: find_nodes finds nothing when the
  // region to leave is the pinned one.
  const GangRequest r = a.request;
  auto nodes = find_nodes(r, r.nodes + r.spare_nodes, exclude);
  if (!nodes) return false;
  free_nodes(id);
  std::vector<NodeId> gang(nodes->begin(), nodes->begin() + r.nodes);
  std::vector<NodeId> spares(nodes->begin() + r.nodes, nodes->end());
  take(id, std::move(gang), std::move(spares));
  if (!queue_.empty()) schedule_pass();
  return true;
}

void GangScheduler::set_expected_end(AllocationId id, SimTime t) { allocs_.at(id).expected_end = t; }

}  // namespace fleetsim
