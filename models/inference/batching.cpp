// SPDX-License-Identifier: Apache-2.0
// Request level on a replica: continuous-batching iterations, segments of identical iterations, KV
// preemption.
#include "models/inference/service.hpp"

#include <algorithm>

namespace fleetsim {

void InferenceModel::Service::begin_iteration(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  rep.busy = false;
  rep.seg_k = 0;
  rep.chunk.clear();
  if (!rep.up) return;
  if (rep.draining && rep.nrun == 0) return finish_drain(rep_i);
  while (rep.decoding > 0 && rep.kv_used + rep.decoding > kv_capacity) preempt(rep_i);
  const uint32_t d = rep.decoding;
  const uint32_t budget = spec.batching.max_batch_tokens > d ? spec.batching.max_batch_tokens - d : 0;
  uint32_t left = budget, pf = 0;
  for (uint32_t ri : rep.prefill) {
    if (left == 0) break;
    const uint32_t need = reqs[ri].prefill_left;
    uint32_t take = 0;
    if (spec.batching.chunked_prefill) {
      take = std::min(need, left);
    } else {
      if (need > left && pf > 0) break;
      take = need;  // a whole prompt, even above the budget when it is the only one
    }
    rep.chunk.emplace_back(ri, take);
    pf += take;
    left = take >= left ? 0 : left - take;
  }
  if (d == 0 && pf == 0) return;  // idle
  uint64_t k = 1;
  const Region& reg = regions[rep.region];
  const std::deque<uint32_t>& queue = rep.role == Role::Decode ? reg.dqueue : reg.queue;
  if (pf == 0 && m.options_.segments && !rep.heap.empty() &&
      (queue.empty() || !room(rep, reqs[queue.front()].prompt + reqs[queue.front()].generated))) {
    k = rep.heap.front().finish - rep.it;  // up to the next completion (stale entries only shorten it)
    k = std::min<uint64_t>(k, (kv_capacity - rep.kv_used) / d);
    // Capped so that cutting a segment (which re-walks its iterations) stays cheap.
    k = std::clamp<uint64_t>(k, 1, kMaxSegment);
  }
  int64_t total = 0;
  if (k == 1) {
    total = step_ns(pf, d, rep.kv_used);
  } else {
    // A segment (no prompt work): d and so compute and communication are the same in every iteration;
    // only the KV read grows. The iteration ends are kept for cut().
    total = IterationCost::decode_run_ends_ns(cost->decode_run(d), double(rep.kv_used), double(d), k, rep.seg_end.data());
  }
  rep.busy = true;
  rep.seg_start = m.engine_.now();
  rep.seg_k = static_cast<uint32_t>(k);
  rep.seg_d = d;
  rep.seg_kv0 = rep.kv_used;
  rep.ev = m.engine_.schedule_in(Duration::ns(total), Phase::Completion, [this, rep_i] { end_iteration(rep_i); }, k_iter);
}

/// Shortens the segment in progress to the iteration boundary at or after now.
void InferenceModel::Service::cut(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  const SimTime now = m.engine_.now();
  // The first iteration end at or after now (seg_end is ascending; seg_k > 1 here, so it is filled).
  const auto since = static_cast<double>((now - rep.seg_start).ticks());  // exact, as the ends are
  const auto it = std::lower_bound(rep.seg_end.begin(), rep.seg_end.begin() + rep.seg_k, since);
  const auto mcount = static_cast<uint32_t>(it - rep.seg_end.begin()) + 1;
  if (mcount >= rep.seg_k) return;
  const SimTime t = rep.seg_start + Duration::ns(static_cast<int64_t>(*it));
  m.engine_.cancel(rep.ev);
  rep.seg_k = mcount;
  rep.ev = m.engine_.schedule_at(t, Phase::Completion, [this, rep_i] { end_iteration(rep_i); }, k_iter);
}

void InferenceModel::Service::end_iteration(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  const uint64_t k = rep.seg_k;
  const uint64_t d = rep.seg_d;
  rep.it += k;
  rep.kv_used += k * d;
  stats.iterations += k;
  stats.segments += 1;
  stats.counters.output_tokens += double(k * d);
  regions[rep.region].stats->counters.output_tokens += double(k * d);  // where they were served
  regions[rep.region].iv.output_tokens += double(k * d);
  // prompt chunks of this iteration (only a single-iteration segment carries them)
  for (const auto& [ri, take] : rep.chunk) {
    Req& q = reqs[ri];
    q.prefill_left -= take;
    if (q.prefill_left == 0) {
      rep.prefill.pop_front();  // the chunk took the queue's head in order
      prefill_done(rep_i, ri);
    }
  }
  rep.chunk.clear();
  for (const auto& [ri, res] : rep.arrived) {
    if (!live(rep, rep_i, ri, res)) continue;  // preempted while it waited for the boundary
    reqs[ri].transferring = false;
    start_decode(rep_i, ri);
  }
  rep.arrived.clear();
  while (!rep.heap.empty() && rep.heap.front().finish <= rep.it) {
    std::pop_heap(rep.heap.begin(), rep.heap.end(), std::greater<>{});
    const HeapEntry e = rep.heap.back();
    rep.heap.pop_back();
    if (!live(rep, rep_i, e.req, e.res)) continue;
    complete(rep_i, e.req);
  }
  if (rep.running.size() > 2 * rep.nrun + 32) {
    std::erase_if(rep.running, [&](const auto& p) { return !live(rep, rep_i, p.first, p.second); });
  }
  rep.busy = false;
  rep.seg_k = 0;
  pump_into(rep_i);
  if (!rep.busy) begin_iteration(rep_i);
}

void InferenceModel::Service::prefill_done(uint32_t rep_i, uint32_t ri) {
  Replica& rep = replicas[rep_i];
  Req& q = reqs[ri];
  q.generated += 1;
  stats.counters.output_tokens += 1;
  regions[rep.region].stats->counters.output_tokens += 1;
  regions[rep.region].iv.output_tokens += 1;
  if (rep.role == Role::Prefill && q.generated < q.output) return hand_off(rep_i, ri);
  if (q.first_ns < 0) q.first_ns = m.engine_.now().ticks();
  if (q.generated >= q.output) return complete(rep_i, ri);
  start_decode(rep_i, ri);
}

void InferenceModel::Service::start_decode(uint32_t rep_i, uint32_t ri) {
  Replica& rep = replicas[rep_i];
  Req& q = reqs[ri];
  q.decoding = true;
  ++rep.decoding;
  q.decode_start = rep.it;
  q.gen_at_decode = q.generated;
  rep.heap.push_back(HeapEntry{rep.it + (q.output - q.generated), ri, q.res});
  std::push_heap(rep.heap.begin(), rep.heap.end(), std::greater<>{});
}

void InferenceModel::Service::preempt(uint32_t rep_i) {
  Replica& rep = replicas[rep_i];
  while (!rep.running.empty()) {
    const auto [ri, res] = rep.running.back();
    rep.running.pop_back();
    if (!live(rep, rep_i, ri, res)) continue;
    Req& q = reqs[ri];
    rep.kv_used -= kv_of(rep, q);
    if (q.decoding) {
      q.generated = q.gen_at_decode + static_cast<uint32_t>(rep.it - q.decode_start);
      --rep.decoding;
      q.decoding = false;
    } else if (q.transferring) {
      q.transferring = false;
    } else {
      const auto it = std::find(rep.prefill.rbegin(), rep.prefill.rend(), ri);
      if (it != rep.prefill.rend()) rep.prefill.erase(std::next(it).base());
    }
    --rep.nrun;
    ++q.res;
    stats.counters.preemptions += 1;
    regions[rep.region].iv.preemptions += 1;
    enqueue(regions[rep.region], ri, true);
    return;
  }
}


}  // namespace fleetsim
