// SPDX-License-Identifier: Apache-2.0
// Prefill/decode disaggregation: pool saturation, hand-off from prefill replicas, KV transfers to decode
// replicas.
#include "models/inference/service.hpp"

#include <algorithm>
#include <cmath>

namespace fleetsim {

/// Disaggregation: saturation of one prefill replica (full token-budget prompt iterations) and of
/// one decode replica (max_batch sequences at the mean context, one token each per iteration). Used for
/// the queueing-wait estimate of spill-over and in the summary.
void InferenceModel::Service::build_disagg() {
  const SteadyInputs in = steady_inputs();
  prefill_replica_rps = prefill_saturation_rps(in);
  decode_replica_rps = decode_saturation_rps(in, max_batch);
  for (const auto& reg : regions) {
    const uint32_t np = prefill_replicas(spec.regions[reg.idx], spec.disaggregation);
    stats.prefill_replicas += np;
    stats.decode_replicas += reg.dedicated - np;
  }
  stats.prefill_saturation_rps = prefill_replica_rps;
  stats.decode_saturation_rps = decode_replica_rps;
}

/// Disaggregation: starts KV transfers from a region's decode queue into decode replicas with room.
void InferenceModel::Service::pump_decode(Region& reg) {
  while (!reg.dqueue.empty()) {
    const uint32_t ri = reg.dqueue.front();
    const uint32_t rep = pick_replica(reg, reqs[ri].prompt + reqs[ri].generated, true);
    if (rep == kNone) break;
    reg.dqueue.pop_front();
    start_transfer(rep, ri);
  }
}

/// Disaggregation: a prompt is prefilled; its prefill replica lets it go (the KV leaves through a
/// staging buffer, so a slow decode pool does not stall prefill) and it waits for a decode replica.
void InferenceModel::Service::hand_off(uint32_t rep_i, uint32_t ri) {
  Replica& rep = replicas[rep_i];
  Req& q = reqs[ri];
  rep.kv_used -= q.kv_alloc;
  --rep.nrun;
  ++q.res;  // its entry in the prefill replica's running list is stale now
  q.state = RState::Queued;
  q.replica = kNone;
  q.prefill_from = rep_i;
  Region& reg = regions[rep.region];
  if (reg.dqueue.empty()) {
    const uint32_t d = pick_replica(reg, q.prompt + q.generated, true);
    if (d != kNone) return start_transfer(d, ri);
  }
  reg.dqueue.push_back(ri);
}

/// Reserves the KV on a decode replica and ships it: latency + bytes / bandwidth, after the
/// transfers already queued on that replica's inbound link.
void InferenceModel::Service::start_transfer(uint32_t rep_i, uint32_t ri) {
  Replica& rep = replicas[rep_i];
  Req& q = reqs[ri];
  const uint32_t need = q.prompt + q.generated;
  q.state = RState::Running;
  q.replica = rep_i;
  q.region = rep.region;
  q.prefill_left = 0;
  q.kv_alloc = need;
  q.decoding = false;
  q.transferring = true;
  ++q.res;
  rep.running.emplace_back(ri, q.res);
  ++rep.nrun;
  rep.kv_used += need;
  if (rep.busy && rep.seg_k > 1) cut(rep_i);  // keep the KV accounting to iteration boundaries
  const auto& dg = spec.disaggregation;
  const double bytes = double(need) * spec.model.kv_bytes_per_token();
  const int64_t now = m.engine_.now().ticks();
  // On a shared fabric the transfer gets what the loaded path leaves one flow, up to the spec's link
  // (the replica's NIC), and its bytes load the fabric for everyone else.
  double bandwidth = dg.kv_transfer_bytes_per_s;
  if (KvFabric* fabric = m.options_.kv_fabric; fabric && q.prefill_from != kNone) {
    const Replica& from = replicas[q.prefill_from];
    if (!from.gpus.empty() && !rep.gpus.empty()) {
      const uint32_t src = from.gpus.front().begin, dst = rep.gpus.front().begin;
      if (const double f = fabric->bandwidth(index, src, dst); f > 0) {
        bandwidth = std::min(bandwidth, f);
        stats.kv_transfers_on_fabric += 1;
        stats.kv_fabric_bytes_per_s_sum += f;
      }
      kv_bytes_since_sample[{src, dst}] += bytes;
    }
  }
  const int64_t wire = std::max<int64_t>(1, std::llround(bytes / bandwidth * 1e9));
  const int64_t start = std::max(now, rep.link_free_ns);
  rep.link_free_ns = start + wire;
  const int64_t done = start + wire + dg.kv_transfer_latency.ticks();
  stats.kv_transfers += 1;
  stats.kv_transfer_bytes += bytes;
  stats.kv_transfer_seconds += double(done - now) * 1e-9;
  const uint32_t res = q.res;
  m.engine_.schedule_at(SimTime::zero() + Duration::ns(done), Phase::Completion, [this, rep_i, ri, res] {
    if (!live(replicas[rep_i], rep_i, ri, res)) return;  // preempted or lost with its replica
    end_transfer(rep_i, ri);
  }, k_xfer);
}

/// The service's KV traffic since the last sample goes onto the shared fabric as average rates.
void InferenceModel::Service::publish_kv_traffic(double interval_s) {
  KvFabric* fabric = m.options_.kv_fabric;
  if (fabric == nullptr || interval_s <= 0) return;
  std::vector<KvFlow> flows;
  flows.reserve(kv_bytes_since_sample.size());
  for (const auto& [pair, b] : kv_bytes_since_sample) flows.push_back({pair.first, pair.second, b / interval_s});
  kv_bytes_since_sample.clear();
  fabric->publish(index, flows);
}

/// The KV has arrived: the first token reaches the user now (TTFT ends) and decoding starts at the
/// replica's next iteration boundary (an iteration in progress was sized without it).
void InferenceModel::Service::end_transfer(uint32_t rep_i, uint32_t ri) {
  Replica& rep = replicas[rep_i];
  Req& q = reqs[ri];
  if (q.first_ns < 0) q.first_ns = m.engine_.now().ticks();
  if (!rep.busy) {
    q.transferring = false;
    start_decode(rep_i, ri);
    begin_iteration(rep_i);
    return;
  }
  rep.arrived.emplace_back(ri, q.res);
  if (rep.seg_k > 1) cut(rep_i);
}


}  // namespace fleetsim
