// SPDX-License-Identifier: Apache-2.0
// Request level: arrivals, routing across regions, gateway queues, admission onto replicas, and what a
// finished request records.
#include "models/inference/service.hpp"

#include <algorithm>
#include <limits>

namespace fleetsim {

uint32_t InferenceModel::Service::alloc_req() {
  if (free_head == kNone) {
    reqs.emplace_back();
    return static_cast<uint32_t>(reqs.size() - 1);
  }
  const uint32_t i = free_head;
  free_head = reqs[i].next_free;
  const uint32_t res = reqs[i].res;
  reqs[i] = Req{};
  reqs[i].res = res + 1;
  return i;
}

void InferenceModel::Service::free_req(uint32_t i) {
  reqs[i].state = RState::Free;
  ++reqs[i].res;
  reqs[i].next_free = free_head;
  free_head = i;
}

void InferenceModel::Service::schedule_arrival(Region& reg) {
  const SimTime t = reg.arrivals->next(m.engine_.now(), reg.arr_rng, SimTime::max());
  if (t == SimTime::max()) return;
  Region* r = &reg;
  m.engine_.schedule_at(t, Phase::Arrival, [this, r] {
    const uint32_t p = prompt.sample(r->len_rng);
    const uint32_t o = output.sample(r->len_rng);
    arrive(*r, p, o);
    schedule_arrival(*r);
  }, k_arrival);
}

void InferenceModel::Service::schedule_trace() {
  const auto& tr = *spec.trace;
  if (trace_next >= tr.size()) return;
  m.engine_.schedule_at(tr[trace_next].arrival, Phase::Arrival, [this] {
    const TraceRequest& t = (*spec.trace)[trace_next++];
    uint32_t r = 0;
    if (t.region >= 0) {
      r = static_cast<uint32_t>(t.region);
    } else {
      double total = 0;
      for (const auto& reg : regions) total += reg.share;
      double u = trace_rng.uniform01() * total;
      for (r = 0; r + 1 < regions.size(); ++r) {
        if (u < regions[r].share) break;
        u -= regions[r].share;
      }
    }
    arrive(regions[r], t.prompt_tokens, t.output_tokens);
    schedule_trace();
  }, k_arrival);
}

void InferenceModel::Service::arrive(Region& home, uint32_t p, uint32_t o) {
  const uint32_t ri = alloc_req();
  Req& q = reqs[ri];
  q.arrival_ns = m.engine_.now().ticks();
  q.prompt = p;
  q.output = o;
  q.home = home.idx;
  q.window = home.window;
  stats.counters.arrived += 1;
  stats.counters.prompt_tokens += p;
  home.stats->counters.arrived += 1;
  home.stats->counters.prompt_tokens += p;  // at the home region, where the request entered
  home.iv.arrived += 1;
  if (q.window >= 0) stats.outages[static_cast<size_t>(q.window)].arrived += 1;
  route(ri);
}

/// Requests/s a region sustains: its up replicas at saturation, or with disaggregation the smaller of
/// its prefill and decode pools.
double InferenceModel::Service::region_capacity(const Region& reg) const {
  if (!disagg) return reg.up() * saturation_rps;
  double np = 0, nd = 0;
  for (uint32_t i : reg.replicas) {
    const Replica& rep = replicas[i];
    if (!rep.up) continue;
    (rep.role == Role::Decode ? nd : np) += 1;
  }
  return std::min(np * prefill_replica_rps, nd * decode_replica_rps);
}

double InferenceModel::Service::est_wait(const Region& reg, size_t extra) const {
  const double cap = region_capacity(reg);
  if (cap <= 0) return std::numeric_limits<double>::infinity();
  return double(reg.queue.size() + extra) / cap;
}

/// The least-loaded replica of a region with room for `need` KV tokens, or kNone: a prefill (or
/// mixed) replica for new requests, a decode replica for prefilled ones.
uint32_t InferenceModel::Service::pick_replica(const Region& reg, uint32_t need, bool decode) const {
  uint32_t best = kNone, best_load = UINT32_MAX;
  for (uint32_t i : reg.replicas) {
    const Replica& rep = replicas[i];
    if ((rep.role == Role::Decode) != decode) continue;
    if (rep.nrun < best_load && room(rep, need)) {
      best = i;
      best_load = rep.nrun;
    }
  }
  return best;
}

bool InferenceModel::Service::spare(const Region& reg) const {
  if (reg.up() == 0) return false;
  if (reg.queue.empty() && pick_replica(reg, 1) != kNone) return true;
  return est_wait(reg, 1) < spec.routing.spill_wait.seconds();
}

/// The nearest other region that is up (with spare capacity if asked), or kNone.
uint32_t InferenceModel::Service::pick_other(uint32_t home, bool need_spare) const {
  uint32_t best = kNone;
  double best_rtt = 0;
  for (const auto& reg : regions) {
    if (reg.idx == home || reg.up() == 0) continue;
    if (need_spare && !spare(reg)) continue;
    const double r = rtt_s[home][reg.idx];
    if (best == kNone || r < best_rtt) {
      best = reg.idx;
      best_rtt = r;
    }
  }
  return best;
}

void InferenceModel::Service::route(uint32_t ri) {
  Req& q = reqs[ri];
  const uint32_t home = q.home;
  uint32_t target = home;
  Region& h = regions[home];
  if (h.up() == 0) {
    if (!spec.routing.failover) return fail(ri);
    target = pick_other(home, true);
    if (target == kNone) target = pick_other(home, false);
    if (target == kNone) return fail(ri);
  } else if (spec.routing.spillover && !h.queue.empty() && est_wait(h, 1) > spec.routing.spill_wait.seconds()) {
    const uint32_t t = pick_other(home, true);
    if (t != kNone) target = t;
  }
  if (target != home) {
    q.extra_s = static_cast<float>(rtt_s[home][target]);
    add_wan_bytes(home, target, q.prompt, q.output);  // each time it is sent away: a retry sends it again
    if (!q.rerouted) {
      q.rerouted = true;
      stats.counters.rerouted_out += 1;
      h.stats->counters.rerouted_out += 1;
      h.iv.rerouted_out += 1;
      regions[target].stats->counters.rerouted_in += 1;
      regions[target].iv.rerouted_in += 1;
      if (q.window >= 0) stats.outages[static_cast<size_t>(q.window)].rerouted += 1;
    }
  } else {
    q.extra_s = 0;
  }
  Region& reg = regions[target];
  reg.load_count += 1;
  q.region = target;
  const uint32_t need = q.prompt + q.generated;
  if (need + 2 > kv_capacity) return fail(ri);  // can never fit one replica's KV cache
  if (reg.queue.empty()) {
    const uint32_t rep = pick_replica(reg, need);
    if (rep != kNone) return admit(rep, ri);
  }
  enqueue(reg, ri, false);
}

void InferenceModel::Service::enqueue(Region& reg, uint32_t ri, bool front) {
  Req& q = reqs[ri];
  q.state = RState::Queued;
  q.region = reg.idx;
  q.replica = kNone;
  q.queued_ns = m.engine_.now().ticks();
  if (front) reg.queue.push_front(ri);
  else reg.queue.push_back(ri);
  reg.stats->max_queue = std::max(reg.stats->max_queue, double(reg.queue.size()));
}

void InferenceModel::Service::fail(uint32_t ri) {
  Req& q = reqs[ri];
  stats.counters.failed += 1;
  regions[q.home].stats->counters.failed += 1;
  regions[q.home].iv.failed += 1;
  if (q.window >= 0) stats.outages[static_cast<size_t>(q.window)].failed += 1;
  free_req(ri);
}

/// A request gave up waiting at a gateway (routing.max_queue_time): failed, counted as timed out,
/// and kept in the latency figures as a censored value: its TTFT (unless it already had its first
/// token) and E2E are the wait at which it gave up, a lower bound of what it would have seen. Every
/// percentile below max_queue_time is exact with them; means are lower bounds.
void InferenceModel::Service::time_out(uint32_t ri) {
  Req& q = reqs[ri];
  const int64_t gave_up = q.queued_ns + spec.routing.max_queue_time.ticks();
  const double e2e = double(gave_up - q.arrival_ns) * 1e-9 + q.extra_s;
  const double ttft = q.first_ns >= 0 ? double(q.first_ns - q.arrival_ns) * 1e-9 + q.extra_s : e2e;
  Region& waited = regions[q.region];
  Region& home = regions[q.home];
  stats.counters.timed_out += 1;
  home.stats->counters.timed_out += 1;
  home.iv.timed_out += 1;
  stats.ttft.add(ttft);
  stats.e2e.add(e2e);
  waited.stats->ttft.add(ttft);
  waited.stats->e2e.add(e2e);
  waited.iv_ttft.add(ttft);
  waited.iv_e2e.add(e2e);
  if (q.window >= 0) {
    auto& w = stats.outages[static_cast<size_t>(q.window)];
    w.timed_out += 1;
    if (m.options_.keep_outage_sketches) w.ttft.add(ttft);
  }
  fail(ri);
}

/// Fills free replicas of a region from its queue (least-loaded first).
void InferenceModel::Service::pump(Region& reg) {
  while (!reg.queue.empty()) {
    const uint32_t ri = reg.queue.front();
    if (timed_out(reqs[ri])) {
      reg.queue.pop_front();
      time_out(ri);
      continue;
    }
    const uint32_t rep = pick_replica(reg, reqs[ri].prompt + reqs[ri].generated);
    if (rep == kNone) break;
    reg.queue.pop_front();
    admit(rep, ri);
  }
}

/// Fills one replica from its region's queue.
void InferenceModel::Service::pump_into(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  Region& reg = regions[rep.region];
  if (rep.role == Role::Decode) {
    while (!reg.dqueue.empty()) {
      const uint32_t ri = reg.dqueue.front();
      if (!room(rep, reqs[ri].prompt + reqs[ri].generated)) break;
      reg.dqueue.pop_front();
      start_transfer(rep_i, ri);
    }
    return;
  }
  while (!reg.queue.empty()) {
    const uint32_t ri = reg.queue.front();
    if (timed_out(reqs[ri])) {
      reg.queue.pop_front();
      time_out(ri);
      continue;
    }
    if (!room(rep, reqs[ri].prompt + reqs[ri].generated)) break;
    reg.queue.pop_front();
    admit(rep_i, ri);
  }
}

void InferenceModel::Service::admit(uint32_t rep_i, uint32_t ri) {
  Replica& rep = replicas[rep_i];
  Req& q = reqs[ri];
  const uint32_t need = q.prompt + q.generated;  // a preempted request recomputes what it generated
  q.state = RState::Running;
  q.replica = rep_i;
  q.region = rep.region;
  q.prefill_left = need;
  q.kv_alloc = need;
  q.decoding = false;
  ++q.res;
  rep.running.emplace_back(ri, q.res);
  ++rep.nrun;
  rep.prefill.push_back(ri);
  rep.kv_used += need;
  if (!rep.busy) {
    begin_iteration(rep_i);
  } else if (rep.seg_k > 1) {
    cut(rep_i);
  }
}

void InferenceModel::Service::complete(uint32_t rep_i, uint32_t ri) {
  Replica& rep = replicas[rep_i];
  Req& q = reqs[ri];
  rep.kv_used -= kv_of(rep, q);
  if (q.decoding) --rep.decoding;
  --rep.nrun;
  record(q);
  free_req(ri);
}

void InferenceModel::Service::record(const Req& q) {
  const int64_t now = m.engine_.now().ticks();
  const double ttft = double(q.first_ns - q.arrival_ns) * 1e-9 + q.extra_s;
  const double e2e = double(now - q.arrival_ns) * 1e-9 + q.extra_s;
  const double tpot = q.output > 1 ? double(now - q.first_ns) * 1e-9 / (q.output - 1) : 0.0;
  const bool late = ttft > spec.slo.ttft.seconds() || (q.output > 1 && tpot > spec.slo.tpot.seconds());
  Region& served = regions[q.region];
  Region& home = regions[q.home];
  stats.counters.completed += 1;
  home.stats->counters.completed += 1;
  served.iv.completed += 1;
  if (late) {
    stats.counters.late += 1;
    home.stats->counters.late += 1;
    served.iv.late += 1;
  }
  stats.ttft.add(ttft);
  stats.e2e.add(e2e);
  served.stats->ttft.add(ttft);
  served.stats->e2e.add(e2e);
  served.iv_ttft.add(ttft);
  served.iv_e2e.add(e2e);
  if (q.output > 1) {
    stats.tpot.add(tpot);
    served.stats->tpot.add(tpot);
    served.iv_tpot.add(tpot);
  }
  if (q.window >= 0) {
    auto& w = stats.outages[static_cast<size_t>(q.window)];
    w.served += 1;
    if (late) w.late += 1;
    if (m.options_.keep_outage_sketches) w.ttft.add(ttft);
  }
}


}  // namespace fleetsim
