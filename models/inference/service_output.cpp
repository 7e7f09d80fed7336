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

nlohmann::json latency_json(const LatencySketch& s) {
  if (s.count() <= 0)  // nothing served: no latency (null), not a latency of 0
    return {{"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"mean", nullptr}};
  return {{"p50", s.quantile(0.5)}, {"p90", s.quantile(0.9)}, {"p99", s.quantile(0.99)}, {"mean", s.mean()}};
}
nlohmann::json counters_json(const InferenceCounters& c) {
  return {{"arrived", c.arrived},         {"completed", c.completed},       {"failed", c.failed},
          {"late", c.late},               {"rerouted_out", c.rerouted_out}, {"rerouted_in", c.rerouted_in},
          {"retried", c.retried},         {"preemptions", c.preemptions},   {"output_tokens", c.output_tokens},
          {"prompt_tokens", c.prompt_tokens}, {"timed_out", c.timed_out}};
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
  m.recorder_.row(m.table_, now, spec.name, reg.name, c.arrived, c.completed, c.failed, c.late, c.rerouted_out,
                  c.rerouted_in, c.preemptions, queue, int64_t{reg.up()}, int64_t{reg.extra_active}, kv_util,
                  interval_s > 0 ? c.output_tokens / interval_s : 0.0, ttft50, ttft99, tpot50, e2e50, e2e99,
                  c.timed_out);
}


void InferenceModel::write_summary() {
  if (services_.empty()) return;
  const SimTime now = engine_.now();
  const double elapsed = now.seconds();
  auto& out = recorder_.summary()["inference"];
  out = nlohmann::json::object();
  const TableId outages = recorder_.table(spec_.table + "_outages",
                                          {"service", "region", "start_ns", "end_ns", "arrived", "served", "late",
                                           "failed", "rerouted", "ttft_p50_s", "ttft_p99_s", "timed_out"});
  for (const auto& sp : services_) {
    sp->sync();
    const Service& s = *sp;
    const auto& st = s.stats;
    nlohmann::json j;
    j["mode"] = s.spec.mode == InferenceMode::Fluid ? "fluid" : "request";
    j["requests"] = counters_json(st.counters);
    const double done = st.counters.completed + st.counters.failed;
    j["slo_attainment"] = done > 0 ? (st.counters.completed - st.counters.late) / done : 1.0;
    j["ttft_s"] = latency_json(st.ttft);
    j["tpot_s"] = latency_json(st.tpot);
    j["e2e_s"] = latency_json(st.e2e);
    j["output_tokens_per_s"] = elapsed > 0 ? st.counters.output_tokens / elapsed : 0.0;
    j["requests_per_s"] = elapsed > 0 ? st.counters.completed / elapsed : 0.0;
    if (s.spec.mode == InferenceMode::Request) {
      j["mean_queue"] = elapsed > 0 ? st.queue_time_weighted / elapsed : 0.0;
      j["mean_kv_utilization"] = st.kv_util_samples > 0 ? st.kv_util_sum / st.kv_util_samples : 0.0;
      j["iterations"] = st.iterations;
      j["engine_events_for_iterations"] = st.segments;
    }
    if (s.disagg) {
      j["disaggregation"] = {{"prefill_replicas", st.prefill_replicas},
                             {"decode_replicas", st.decode_replicas},
                             {"prefill_saturation_requests_per_s", st.prefill_saturation_rps},
                             {"decode_saturation_requests_per_s", st.decode_saturation_rps},
                             {"kv_transfers", st.kv_transfers},
                             {"kv_transfer_bytes", st.kv_transfer_bytes},
                             {"kv_transfer_mean_s", st.kv_transfers > 0 ? st.kv_transfer_seconds / st.kv_transfers : 0.0}};
      if (st.kv_transfers_on_fabric > 0) {  // a shared fabric carried them (KvFabric)
        j["disaggregation"]["kv_transfers_on_fabric"] = st.kv_transfers_on_fabric;
        j["disaggregation"]["kv_fabric_mean_bytes_per_s"] = st.kv_fabric_bytes_per_s_sum / st.kv_transfers_on_fabric;
      }
    }
    if (options_.wan_fabric != nullptr)  // re-routed requests loaded the WAN (WanFabric)
      j["wan"] = {{"rerouted_bytes", st.wan_bytes}, {"peak_bytes_per_s", st.wan_peak_bytes_per_s}};
    j["replica"] = {{"gpus", s.gpus_per_replica},
                    {"kv_capacity_tokens", st.kv_capacity_tokens},
                    {"weights_per_gpu_bytes", s.cost->weight_bytes_per_gpu()},
                    {"weight_load_s", st.weight_load_s},
                    {"saturation_requests_per_s", st.replica_saturation_rps},
                    {"max_batch", st.replica_max_batch},
                    {"decode_step_s_batch1", s.cost->step_seconds(0.0, 1.0, s.prompt.mean())}};
    nlohmann::json regions = nlohmann::json::object();
    for (const auto& r : st.regions) {
      regions[r.name] = {{"requests", counters_json(r.counters)},
                         {"ttft_s", latency_json(r.ttft)},
                         {"e2e_s", latency_json(r.e2e)},
                         {"tpot_s", latency_json(r.tpot)},
                         {"replicas", r.replicas},
                         {"max_extra_replicas", r.extra_replicas},
                         {"max_queue", r.max_queue}};
    }
    j["regions"] = regions;
    nlohmann::json ow = nlohmann::json::array();
    for (const auto& w : st.outages) {
      const std::string& rname = s.regions[w.region].name;
      nlohmann::json o = {{"region", rname},
                          {"start_ns", w.start.ticks()},
                          {"end_ns", w.end == SimTime::max() ? nlohmann::json(nullptr) : nlohmann::json(w.end.ticks())},
                          {"arrived", w.arrived},
                          {"served", w.served},
                          {"late", w.late},
                          {"failed", w.failed},
                          {"timed_out", w.timed_out},
                          {"rerouted", w.rerouted},
                          {"ttft_p99_s", quantile_or_empty(w.ttft, 0.99)}};
      ow.push_back(o);
      recorder_.row(outages, s.spec.name, rname, w.start, w.end == SimTime::max() ? CellView::null() : CellView(w.end),
                    w.arrived, w.served, w.late, w.failed, w.rerouted, quantile_or_empty(w.ttft, 0.5),
                    quantile_or_empty(w.ttft, 0.99), w.timed_out);
    }
    j["outages"] = ow;
    out[s.spec.name] = j;
  }
}

}  // namespace fleetsim
