// SPDX-License-Identifier: Apache-2.0
// Output: request-mode sample rows, the rows' writer, and the summary JSON (InferenceModel::write_summary).
#include "models/inference/service.hpp"

#include <limits>

namespace fleetsim {

namespace {

/// An interval's percentile, or NaN (an empty CSV field) when nothing entered the sketch: a dark
/// region has no latency, and 0 would read as a fast one.
double quantile_or_empty(const LatencySketch& s, double q) {
  return s.count() > 0 ? s.quantile(q) : std::numeric_limits<double>::quiet_NaN();
}

InferenceLatency latency_summary(const LatencySketch& s) {
  if (s.count() <= 0) return {};  // nothing served: no latency (null), not a latency of 0
  return {.p50 = Nullable<double>::of(s.quantile(0.5)),
          .p90 = Nullable<double>::of(s.quantile(0.9)),
          .p99 = Nullable<double>::of(s.quantile(0.99)),
          .mean = Nullable<double>::of(s.mean())};
}
InferenceRequestCounts request_counts(const InferenceCounters& c) {
  return {.arrived = c.arrived,
          .completed = c.completed,
          .failed = c.failed,
          .late = c.late,
          .rerouted_out = c.rerouted_out,
          .rerouted_in = c.rerouted_in,
          .retried = c.retried,
          .preemptions = c.preemptions,
          .output_tokens = c.output_tokens,
          .prompt_tokens = c.prompt_tokens,
          .timed_out = c.timed_out};
}

}  // namespace

void InferenceModel::Service::sample() {
  const SimTime now = m.engine_.now();
  for (auto& reg : regions) {
    // drop timed-out heads even when no replica pulls
    while (!reg.queue.empty() && timed_out(reqs[reg.queue.front()])) {
      const uint32_t ri = reg.queue.front();
      reg.queue.pop_front();
      time_out(ri);
    }
    double kv = 0, cap = 0;
    for (uint32_t i : reg.replicas) {
      const Replica& rep = replicas[i];
      if (!rep.up) continue;
      kv += double(rep.kv_used);
      cap += double(kv_capacity);
    }
    const double kv_util = cap > 0 ? kv / cap : 0.0;
    stats.kv_util_sum += kv_util;
    stats.kv_util_samples += 1;
    stats.queue_time_weighted += double(reg.queue.size()) * (now - last_sample).seconds();
    write_row(reg, now, double(reg.queue.size()), kv_util, quantile_or_empty(reg.iv_ttft, 0.5),
              quantile_or_empty(reg.iv_ttft, 0.99), quantile_or_empty(reg.iv_tpot, 0.5),
              quantile_or_empty(reg.iv_e2e, 0.5), quantile_or_empty(reg.iv_e2e, 0.99), (now - last_sample).seconds());
    reg.iv = InferenceCounters{};
    reg.iv_ttft.clear();
    reg.iv_e2e.clear();
    reg.iv_tpot.clear();
  }
  if (disagg) publish_kv_traffic((now - last_sample).seconds());
  publish_wan_traffic((now - last_sample).seconds());
  last_sample = now;
  schedule_sample();
}

/// The next row: one sample_interval after the last, or a last partial one at the horizon.
void InferenceModel::Service::schedule_sample() {
  if (spec.sample_interval <= Duration::zero() || last_sample >= horizon) return;
  const SimTime t = horizon - last_sample > spec.sample_interval ? last_sample + spec.sample_interval : horizon;
  m.engine_.schedule_at(t, Phase::Sample, [this] { sample(); }, k_sample);
}

void InferenceModel::Service::write_row(const Region& reg, SimTime now, double queue, double kv_util, double ttft50,
                                        double ttft99, double tpot50, double e2e50, double e2e99, double interval_s) {
  const auto& c = reg.iv;
  m.recorder_.row(m.table_, InferenceSample{.time = now,
                                             .service = spec.name,
                                             .region = reg.name,
                                             .arrived = c.arrived,
                                             .completed = c.completed,
                                             .failed = c.failed,
                                             .late = c.late,
                                             .rerouted_out = c.rerouted_out,
                                             .rerouted_in = c.rerouted_in,
                                             .preemptions = c.preemptions,
                                             .queue = queue,
                                             .replicas_up = int64_t{reg.up()},
                                             .replicas_extra = int64_t{reg.extra_active},
                                             .kv_utilization = kv_util,
                                             .output_tokens_per_s = interval_s > 0 ? c.output_tokens / interval_s : 0.0,
                                             .ttft_p50_s = ttft50,
                                             .ttft_p99_s = ttft99,
                                             .tpot_p50_s = tpot50,
                                             .e2e_p50_s = e2e50,
                                             .e2e_p99_s = e2e99,
                                             .timed_out = c.timed_out});
}


void InferenceModel::write_summary() {
  if (services_.empty()) return;
  const SimTime now = engine_.now();
  const double elapsed = now.seconds();
  Keyed<InferenceServiceSummary> out;
  const auto outages = recorder_.table<InferenceOutageRow>(spec_.table + std::string(InferenceOutageRow::table_suffix));
  for (const auto& sp : services_) {
    sp->sync();
    const Service& s = *sp;
    const auto& st = s.stats;
    InferenceServiceSummary& j = out[s.spec.name];
    j.mode = s.spec.mode == InferenceMode::Fluid ? "fluid" : "request";
    j.requests = request_counts(st.counters);
    const double done = st.counters.completed + st.counters.failed;
    j.slo_attainment = done > 0 ? (st.counters.completed - st.counters.late) / done : 1.0;
    j.ttft_s = latency_summary(st.ttft);
    j.tpot_s = latency_summary(st.tpot);
    j.e2e_s = latency_summary(st.e2e);
    j.output_tokens_per_s = elapsed > 0 ? st.counters.output_tokens / elapsed : 0.0;
    j.requests_per_s = elapsed > 0 ? st.counters.completed / elapsed : 0.0;
    if (s.spec.mode == InferenceMode::Request) {
      j.mean_queue = Nullable<double>::of(elapsed > 0 ? st.queue_time_weighted / elapsed : 0.0);
      j.mean_kv_utilization = Nullable<double>::of(st.kv_util_samples > 0 ? st.kv_util_sum / st.kv_util_samples : 0.0);
      j.iterations = Nullable<uint64_t>::of(st.iterations);
      j.engine_events_for_iterations = Nullable<uint64_t>::of(st.segments);
    }
    if (s.disagg) {
      InferenceDisaggregationSummary d{
          .prefill_replicas = st.prefill_replicas,
          .decode_replicas = st.decode_replicas,
          .prefill_saturation_requests_per_s = st.prefill_saturation_rps,
          .decode_saturation_requests_per_s = st.decode_saturation_rps,
          .kv_transfers = st.kv_transfers,
          .kv_transfer_bytes = st.kv_transfer_bytes,
          .kv_transfer_mean_s = st.kv_transfers > 0 ? st.kv_transfer_seconds / st.kv_transfers : 0.0,
          .kv_transfers_on_fabric = {},
          .kv_fabric_mean_bytes_per_s = {}};
      if (st.kv_transfers_on_fabric > 0) {  // a shared fabric carried them (KvFabric)
        d.kv_transfers_on_fabric = Nullable<double>::of(st.kv_transfers_on_fabric);
        d.kv_fabric_mean_bytes_per_s = Nullable<double>::of(st.kv_fabric_bytes_per_s_sum / st.kv_transfers_on_fabric);
      }
      j.disaggregation = Nullable<InferenceDisaggregationSummary>::of(d);
    }
    if (options_.wan_fabric != nullptr)  // re-routed requests loaded the WAN (WanFabric)
      j.wan = Nullable<InferenceWanSummary>::of({.rerouted_bytes = st.wan_bytes, .peak_bytes_per_s = st.wan_peak_bytes_per_s});
    j.replica = {.gpus = s.gpus_per_replica,
                 .kv_capacity_tokens = st.kv_capacity_tokens,
                 .weights_per_gpu_bytes = s.cost->weight_bytes_per_gpu(),
                 .weight_load_s = st.weight_load_s,
                 .saturation_requests_per_s = st.replica_saturation_rps,
                 .max_batch = st.replica_max_batch,
                 .decode_step_s_batch1 = s.cost->step_seconds(0.0, 1.0, s.prompt.mean())};
    for (const auto& r : st.regions) {
      j.regions[r.name] = {.requests = request_counts(r.counters),
                           .ttft_s = latency_summary(r.ttft),
                           .e2e_s = latency_summary(r.e2e),
                           .tpot_s = latency_summary(r.tpot),
                           .replicas = r.replicas,
                           .max_extra_replicas = r.extra_replicas,
                           .max_queue = r.max_queue};
    }
    for (const auto& w : st.outages) {
      const std::string& rname = s.regions[w.region].name;
      const Nullable<SimTime> end = w.end == SimTime::max() ? Nullable<SimTime>::none() : Nullable<SimTime>::of(w.end);
      j.outages.push_back({.region = rname,
                           .start = w.start,
                           .end = end,
                           .arrived = w.arrived,
                           .served = w.served,
                           .late = w.late,
                           .failed = w.failed,
                           .timed_out = w.timed_out,
                           .rerouted = w.rerouted,
                           .ttft_p99_s = quantile_or_empty(w.ttft, 0.99)});
      recorder_.row(outages, InferenceOutageRow{.service = s.spec.name,
                                                .region = rname,
                                                .start = w.start,
                                                .end = end,
                                                .arrived = w.arrived,
                                                .served = w.served,
                                                .late = w.late,
                                                .failed = w.failed,
                                                .rerouted = w.rerouted,
                                                .ttft_p50_s = quantile_or_empty(w.ttft, 0.5),
                                                .ttft_p99_s = quantile_or_empty(w.ttft, 0.99),
                                                .timed_out = w.timed_out});
    }
  }
  recorder_.summarize(kInferenceSummaryKey, out);
}

}  // namespace fleetsim
