// SPDX-License-Identifier: Apache-2.0
// The fluid mode: one engine event per step, per-region rates against capacity, latency from the replica
// steady state.
#include "models/inference/service.hpp"

#include <algorithm>
#include <limits>

namespace fleetsim {

/// One fluid step from now to the next multiple of fluid_step, cut at the next row's time and at the
/// horizon, so that rows fall on sample_interval and nothing is counted past the horizon.
void InferenceModel::Service::fluid_step() {
  const SimTime t0 = m.engine_.now();
  if (t0 >= horizon) return;
  const int64_t step = spec.fluid_step.ticks();
  SimTime t1 = SimTime::zero() + Duration::ns((t0.ticks() / step + 1) * step);
  const bool sampling = spec.sample_interval > Duration::zero();
  if (sampling && t1 - last_sample > spec.sample_interval) t1 = last_sample + spec.sample_interval;
  if (t1 > horizon) t1 = horizon;
  const double dt = (t1 - t0).seconds();
  fluid_route(t0, t1, dt);
  for (size_t q = 0; q < regions.size(); ++q) fluid_serve(q, dt);
  // rows every sample interval, and a last partial one at the horizon
  if (sampling && (t1 - last_sample >= spec.sample_interval || t1 == horizon)) fluid_rows(t1);
  if (!sampling) publish_wan_traffic(dt);  // with rows, at each row (fluid_rows)
  if (t1 < horizon) m.engine_.schedule_at(t1, Phase::Control, [this] { fluid_step(); }, k_step);
}

/// Splits each region's demand (arrivals over the step plus its backlog) into what it keeps and what
/// spills over or fails over, and sends the overflow to the nearest regions with spare capacity, in
/// region order; counts arrivals and re-routes. Leaves the rates in the scratch vectors for fluid_serve.
void InferenceModel::Service::fluid_route(SimTime t0, SimTime t1, double dt) {
  const size_t n = regions.size();
  auto& lam = scratch_lam;
  auto& cap = scratch_cap;
  auto& keep = scratch_keep;
  auto& load = scratch_load;
  auto& spare_cap = scratch_spare;
  auto& overflow = scratch_overflow;
  auto& flows = scratch_flows;  // flows[q]: (source region, rate) spilled or failed over into q
  lam.assign(n, 0.0);
  cap.assign(n, 0.0);
  keep.assign(n, 0.0);
  load.assign(n, 0.0);
  spare_cap.assign(n, 0.0);
  overflow.assign(n, 0.0);
  flows.resize(n);
  for (auto& f : flows) f.clear();
  for (size_t r = 0; r < n; ++r) {
    Region& reg = regions[r];
    lam[r] = reg.arrivals->expected(t0, t1) / dt;
    cap[r] = reg.up() * saturation_rps;
    const double demand = lam[r] + reg.backlog / dt;
    const double arrived = lam[r] * dt;
    stats.counters.arrived += arrived;
    reg.stats->counters.arrived += arrived;
    reg.iv.arrived += arrived;
    if (reg.window >= 0) stats.outages[static_cast<size_t>(reg.window)].arrived += arrived;
    if (reg.up() == 0) {
      overflow[r] = spec.routing.failover ? demand : 0.0;
    } else if (spec.routing.spillover) {
      overflow[r] = std::max(0.0, demand - cap[r]);
    }
    keep[r] = demand - overflow[r];
  }
  for (size_t q = 0; q < n; ++q) spare_cap[q] = std::max(0.0, cap[q] - keep[q]);
  for (size_t r = 0; r < n; ++r) {
    double left = overflow[r];
    while (left > 0) {
      uint32_t best = kNone;
      for (size_t q = 0; q < n; ++q) {
        if (q == r || spare_cap[q] <= 0) continue;
        if (best == kNone || rtt_s[r][q] < rtt_s[r][best]) best = static_cast<uint32_t>(q);
      }
      if (best == kNone) break;
      const double take = std::min(left, spare_cap[best]);
      spare_cap[best] -= take;
      left -= take;
      flows[best].emplace_back(static_cast<uint32_t>(r), take);
      const double moved = take * dt;
      add_wan_bytes(static_cast<uint32_t>(r), best, moved * prompt.mean(), moved * output.mean());
      stats.counters.rerouted_out += moved;
      regions[r].stats->counters.rerouted_out += moved;
      regions[r].iv.rerouted_out += moved;
      regions[best].stats->counters.rerouted_in += moved;
      regions[best].iv.rerouted_in += moved;
      if (regions[r].window >= 0) stats.outages[static_cast<size_t>(regions[r].window)].rerouted += moved;
    }
    keep[r] += left;  // nowhere to go: it queues at home
  }
}

/// One region's step: it serves up to its capacity, keeps the rest as backlog up to max_queue_time's
/// worth (the excess times out), and adds the served requests' latency by origin.
void InferenceModel::Service::fluid_serve(size_t q, double dt) {
  const auto& cap = scratch_cap;
  const auto& keep = scratch_keep;
  auto& load = scratch_load;
  const auto& flows = scratch_flows;
  Region& reg = regions[q];
  double in = 0;
  for (const auto& f : flows[q]) in += f.second;
  load[q] = keep[q] + in;
  reg.load_rate = load[q];
  const double served_rate = std::min(load[q], cap[q]);
  double backlog = (load[q] - served_rate) * dt;
  const double max_backlog = cap[q] * spec.routing.max_queue_time.seconds();
  double dropped = 0;
  if (backlog > max_backlog) {
    dropped = backlog - max_backlog;
    backlog = max_backlog;
  }
  reg.backlog = backlog;
  const double served = served_rate * dt;
  stats.counters.failed += dropped;
  reg.stats->counters.failed += dropped;
  reg.iv.failed += dropped;
  // With capacity up, what the backlog cannot hold has waited max_queue_time: timed out, and kept in
  // the latency sketches censored at that wait (as in request mode). No capacity: plain failures.
  const double timed_out = cap[q] > 0 ? dropped : 0.0;
  if (timed_out > 0) {
    merged_dirty = true;
    const double waited = spec.routing.max_queue_time.seconds();
    stats.counters.timed_out += timed_out;
    reg.stats->counters.timed_out += timed_out;
    reg.iv.timed_out += timed_out;
    reg.stats->ttft.add(waited, timed_out);
    reg.stats->e2e.add(waited, timed_out);
  }
  stats.counters.completed += served;
  reg.stats->counters.completed += served;
  reg.iv.completed += served;
  const double tokens = served * output.mean();
  stats.counters.output_tokens += tokens;
  stats.counters.prompt_tokens += served * prompt.mean();
  reg.stats->counters.output_tokens += tokens;
  reg.stats->counters.prompt_tokens += served * prompt.mean();
  reg.iv.output_tokens += tokens;
  if (served <= 0 && dropped <= 0) return;
  // latency of this step
  const double x = reg.up() > 0 ? served_rate / reg.up() : 0.0;
  const SteadyState st = steady_lookup(steady_table, saturation_rps, x);
  // Queueing over sequence slots (M/G/c, Allen-Cunneen), or the backlog's drain time above capacity.
  const SlotQueueWait wait = slot_queue_wait(backlog, cap[q], load[q], reg.up(), max_batch, saturation_rps, output_scv);
  // outcome shares by origin: local, and each inflow with its RTT
  const double local_share = load[q] > 0 ? keep[q] / load[q] : 1.0;
  add_fluid_latency(reg, st, served * local_share, 0.0, wait, -1);
  for (const auto& [src, rate] : flows[q]) {
    const double share = rate / load[q];
    add_fluid_latency(reg, st, served * share, rtt_s[src][q], wait, regions[src].window);
    if (regions[src].window >= 0) {
      auto& w = stats.outages[static_cast<size_t>(regions[src].window)];
      w.failed += dropped * share;
      w.timed_out += timed_out * share;
    }
  }
  if (reg.window >= 0) {
    auto& w = stats.outages[static_cast<size_t>(reg.window)];
    w.failed += dropped * local_share;
    w.timed_out += timed_out * local_share;
  }
}

/// A row per region for the interval ending at t1 (fluid mode).
void InferenceModel::Service::fluid_rows(SimTime t1) {
  for (auto& reg : regions) {
    // Served-weighted means of the steps' percentiles; none served: empty fields (NaN), not 0.
    const double w = reg.iv_w;
    const double none = std::numeric_limits<double>::quiet_NaN();
    write_row(reg, t1, reg.backlog, 0.0, w > 0 ? reg.iv_q_ttft50 / w : none, w > 0 ? reg.iv_q_ttft99 / w : none,
              w > 0 ? reg.iv_q_tpot50 / w : none, w > 0 ? reg.iv_q_e2e50 / w : none,
              w > 0 ? reg.iv_q_e2e99 / w : none, (t1 - last_sample).seconds());
    reg.iv = InferenceCounters{};
    reg.iv_w = reg.iv_q_ttft50 = reg.iv_q_ttft99 = reg.iv_q_tpot50 = reg.iv_q_e2e50 = reg.iv_q_e2e99 = 0;
  }
  publish_wan_traffic((t1 - last_sample).seconds());
  last_sample = t1;
}

/// Adds `weight` served requests of one origin to the region's sketches as weighted quantile points:
/// TTFT(p) = wait + residual + prefill(p) + rtt, E2E(o) = mean TTFT + (o - 1) * s. The
/// service-level sketches are merged from the regions' on demand (sync()).
void InferenceModel::Service::add_fluid_latency(Region& reg, const SteadyState& st, double weight, double rtt,
                                                const SlotQueueWait& wait, int32_t window) {
  if (weight <= 0) return;
  merged_dirty = true;
  const double tpot = st.s;
  const bool tpot_late = tpot > spec.slo.tpot.seconds();
  double late_w = 0;
  double ttft_mean_part = 0;
  // TTFT at the prompt-length quantiles with the wait at the same level (a comonotone coupling:
  // exact for the quantiles when either term dominates).
  LevelValues ttft{};
  for (size_t i = 0; i < kQuantLevels.size(); ++i) {
    ttft[i] = wait.at_level(kQuantLevels[i]) + st.residual + st.pf_level[i] + rtt;
    ttft_mean_part += kQuantWeights[i] * ttft[i];
  }
  const double slo_ttft = spec.slo.ttft.seconds();
  for (size_t i = 0; i < kQuantLevels.size(); ++i) {
    const double wi = weight * kQuantWeights[i];
    reg.stats->ttft.add(ttft[i], wi);
    reg.stats->e2e.add(ttft_mean_part + (output_quantiles[i] - 1) * st.s, wi);
    if (ttft[i] > slo_ttft || tpot_late) late_w += wi;
    if (window >= 0 && m.options_.keep_outage_sketches) stats.outages[static_cast<size_t>(window)].ttft.add(ttft[i], wi);
  }
  reg.stats->tpot.add(tpot, weight);
  stats.counters.late += late_w;
  reg.stats->counters.late += late_w;
  reg.iv.late += late_w;
  if (window >= 0) {
    auto& w = stats.outages[static_cast<size_t>(window)];
    w.served += weight;
    w.late += late_w;
  } else if (reg.window >= 0 && rtt == 0) {
    auto& w = stats.outages[static_cast<size_t>(reg.window)];
    w.served += weight;
    w.late += late_w;
  }
  reg.iv_w += weight;
  reg.iv_q_ttft50 += weight * ttft[kLevelP50];
  reg.iv_q_ttft99 += weight * ttft[kLevelP99];
  reg.iv_q_tpot50 += weight * tpot;
  reg.iv_q_e2e50 += weight * (ttft_mean_part + (output_quantiles[kLevelP50] - 1) * st.s);
  reg.iv_q_e2e99 += weight * (ttft_mean_part + (output_quantiles[kLevelP99] - 1) * st.s);
}

/// Fluid mode: the service's sketches are the merge of its regions'.
void InferenceModel::Service::sync() {
  if (!merged_dirty) return;
  merged_dirty = false;
  stats.ttft.clear();
  stats.e2e.clear();
  stats.tpot.clear();
  for (const auto& r : stats.regions) {
    stats.ttft.merge(r.ttft);
    stats.e2e.merge(r.e2e);
    stats.tpot.merge(r.tpot);
  }
}


}  // namespace fleetsim
