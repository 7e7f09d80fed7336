// SPDX-License-Identifier: Apache-2.0
// Replicas' health: failures and repairs, relocation to free nodes (ReplicaPlacer), weight loading, region
// outage windows.
#include "models/inference/service.hpp"

#include <algorithm>

namespace fleetsim {

/// A replica went down: its requests start over through routing (their arrival time is kept).
void InferenceModel::Service::replica_down(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  rep.up = false;
  if (rep.ev.valid()) m.engine_.cancel(rep.ev);
  rep.busy = false;
  rep.seg_k = 0;
  std::vector<uint32_t> lost;
  for (const auto& [ri, res] : rep.running)
    if (live(rep, rep_i, ri, res)) lost.push_back(ri);
  rep.running.clear();
  rep.prefill.clear();
  rep.heap.clear();
  rep.chunk.clear();
  rep.arrived.clear();
  rep.decoding = 0;
  rep.kv_used = 0;
  rep.nrun = 0;
  for (uint32_t ri : lost) {
    Req& q = reqs[ri];
    q.generated = 0;
    q.decoding = false;
    q.transferring = false;
    q.state = RState::Queued;
    q.replica = kNone;
    ++q.res;
    stats.counters.retried += 1;
  }
  for (uint32_t ri : lost) route(ri);
}

void InferenceModel::Service::finish_drain(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  Region& reg = regions[rep.region];
  rep.up = false;
  rep.draining = false;
  if (reg.extra_active > 0) --reg.extra_active;
  return_borrowed(rep_i);
}

void InferenceModel::Service::on_fleet_change(ComponentRef c) {
  const IndexRange g = m.fleet_.range(c, Level::Gpu);
  // Collected first: taking a replica down may move it (and its node's other replicas) elsewhere.
  const std::vector<uint32_t> touched = replicas_on(g.begin, g.end);
  std::vector<uint32_t> touched_regions;
  for (uint32_t rep_i : touched) {
    Replica& rep = replicas[rep_i];
    const bool usable = gpus_usable(rep);
    if (!usable && (rep.up || rep.loading)) {
      take_down(rep_i);
    } else if (usable && !rep.up && !rep.loading && rep.dedicated) {
      start_loading(rep_i);
    } else {
      continue;
    }
    if (std::find(touched_regions.begin(), touched_regions.end(), rep.region) == touched_regions.end())
      touched_regions.push_back(rep.region);
  }
  if (spec.mode == InferenceMode::Request)
    for (uint32_t r : touched_regions) {
      pump(regions[r]);
      pump_decode(regions[r]);
    }
}

/// Its hardware failed: it stops serving (its requests start over elsewhere); a dedicated replica is
/// moved to a free node when one is free, a borrowed one goes back to the broker (the autoscaler
/// asks again if the load still needs it).
void InferenceModel::Service::take_down(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  Region& reg = regions[rep.region];
  const uint32_t before = reg.up();
  ++rep.load_gen;
  rep.loading = false;
  if (rep.up) {
    if (rep.dedicated) --reg.dedicated_up;
    else --reg.extra_active;
    if (spec.mode == InferenceMode::Request) replica_down(rep_i);
    rep.up = false;
  }
  if (!rep.dedicated) {
    rep.draining = false;
    return_borrowed(rep_i);
  } else {
    relocate(rep_i);
  }
  region_changed(reg, before);
}

/// A borrowed replica's GPUs go back to the placer and the broker.
void InferenceModel::Service::return_borrowed(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  const Region& reg = regions[rep.region];
  if (!rep.gpus.empty()) {
    unindex_gpus(rep_i);
    if (m.options_.placer) m.options_.placer->unbind(reg.fleet_region, acc_name, rep.gpus);
    rep.gpus.clear();
  }
  if (m.options_.broker) m.options_.broker->release(reg.fleet_region, acc_name, gpus_per_replica, m.engine_.now());
  regions[rep.region].borrowed_gpus -= std::min<uint64_t>(regions[rep.region].borrowed_gpus, gpus_per_replica);
  if (m.options_.on_borrowed_change) m.options_.on_borrowed_change();
}

/// A dedicated replica that is down moves off each node of it that is down whole: every replica on
/// such a node is down, so the node is given back and a free node (the scheduler's choice: same
/// rack, datacenter, then region; inside the scale-up domain for a replica wider than a node) takes
/// its place; the replicas on it load their weights there. A node with a replica still up (one GPU
/// of eight failed under a TP2 replica) stays: that replica waits for the repair.
void InferenceModel::Service::relocate(uint32_t rep_i) {
  ReplicaPlacer* placer = m.options_.placer;
  if (placer == nullptr) return;
  const Fleet& fleet = m.fleet_;
  const uint32_t placement = regions[replicas[rep_i].region].placement;
  for (size_t s = 0; s < replicas[rep_i].gpus.size(); ++s) {
    const NodeId node = fleet.node_of(GpuId{replicas[rep_i].gpus[s].begin});
    const IndexRange ng = fleet.range(ref(node), Level::Gpu);
    if (fleet.usable(ref(node)) && fleet.usable_gpus(ref(node)) == ng.size()) continue;
    const std::vector<uint32_t> on_node = replicas_on(ng.begin, ng.end);
    if (std::any_of(on_node.begin(), on_node.end(), [&](uint32_t r) { return replicas[r].up || replicas[r].loading; }))
      continue;
    std::optional<IndexRange> within;
    if (replicas[rep_i].gpus.size() > 1) within = fleet.scale_up_domain(node);
    const std::optional<NodeId> fresh = placer->replace(placement, node, within);
    if (!fresh) continue;
    const uint32_t to = fleet.range(ref(*fresh), Level::Gpu).begin;
    for (uint32_t r : on_node) {
      unindex_gpus(r);
      for (GpuSpan& span : replicas[r].gpus)
        if (span.begin >= ng.begin && span.begin < ng.end) span.begin = to + (span.begin - ng.begin);
      index_gpus(r);
    }
    m.recorder_.publish(m.engine_.now(), InferenceReplicaMoved{.service = spec.name,
                                                               .region = regions[replicas[rep_i].region].name,
                                                               .from = fleet.path(ref(node)),
                                                               .to = fleet.path(ref(*fresh)),
                                                               .replicas = static_cast<int64_t>(on_node.size())});
    for (uint32_t r : on_node)
      if (r != rep_i && gpus_usable(replicas[r])) start_loading(r);
  }
  if (gpus_usable(replicas[rep_i])) start_loading(rep_i);
}

/// Its GPUs are usable (again, or new ones): it serves once the weights are loaded.
void InferenceModel::Service::start_loading(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  if (rep.up || rep.loading) return;
  rep.loading = true;
  const uint32_t gen = ++rep.load_gen;
  if (load_time == Duration::zero()) return loaded(rep_i, gen);  // no weights to read: up in this instant
  m.engine_.schedule_in(load_time, Phase::Repair, [this, rep_i, gen] { loaded(rep_i, gen); }, k_load);
}

void InferenceModel::Service::loaded(uint32_t rep_i, uint32_t gen) {
  Replica& rep = replicas[rep_i];
  if (rep.load_gen != gen || !rep.loading) return;
  rep.loading = false;
  if (!gpus_usable(rep)) return;
  Region& reg = regions[rep.region];
  const uint32_t before = reg.up();
  rep.up = true;
  ++reg.dedicated_up;
  region_changed(reg, before);
  if (spec.mode == InferenceMode::Request) {
    pump(reg);
    pump_decode(reg);
  }
}

void InferenceModel::Service::open_window(Region& reg) {
  OutageWindowStats w;
  w.region = reg.idx;
  w.start = m.engine_.now();
  reg.window = static_cast<int32_t>(stats.outages.size());
  stats.outages.push_back(std::move(w));
}

void InferenceModel::Service::region_changed(Region& reg, uint32_t before) {
  const uint32_t after = reg.up();
  if (before > 0 && after == 0) {
    open_window(reg);
    if (spec.mode == InferenceMode::Request) {
      // Its queue fails over.
      std::deque<uint32_t> q;
      q.swap(reg.queue);
      for (uint32_t ri : reg.dqueue) q.push_back(ri);  // prefilled ones start over elsewhere
      reg.dqueue.clear();
      for (uint32_t ri : q) route(ri);
    }
  } else if (before == 0 && after > 0 && reg.window >= 0) {
    stats.outages[static_cast<size_t>(reg.window)].end = m.engine_.now();
    reg.window = -1;
  }
}


}  // namespace fleetsim
