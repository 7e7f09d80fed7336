// SPDX-License-Identifier: Apache-2.0
// What the inference model publishes, each record declared once (sim/record.hpp): the events of
// events.jsonl, the `inference` and `inference_outages` tables' rows and summary.json's "inference"
// object (services by name). The writers make the files from these descriptions; the trace, the event
// levels and the report read these names.
#pragma once

#include "sim/record.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace fleetsim {

// ---- events (events.jsonl)

/// Autoscaling borrowed replicas in a region; they serve after ready_in_ns (weights loading).
struct InferenceScaleUp {
  static constexpr std::string_view kind = "inference_scale_up";
  std::string_view service;
  std::string_view region;
  int64_t replicas = 0;
  int64_t gpus = 0;
  Duration ready_in_ns;
  static constexpr auto fields() {
    return std::tuple{field("service", &InferenceScaleUp::service), field("region", &InferenceScaleUp::region),
                      field("replicas", &InferenceScaleUp::replicas), field("gpus", &InferenceScaleUp::gpus),
                      field("ready_in_ns", &InferenceScaleUp::ready_in_ns)};
  }
};

/// Autoscaling gives borrowed replicas back.
struct InferenceScaleDown {
  static constexpr std::string_view kind = "inference_scale_down";
  std::string_view service;
  std::string_view region;
  int64_t replicas = 0;
  static constexpr auto fields() {
    return std::tuple{field("service", &InferenceScaleDown::service), field("region", &InferenceScaleDown::region),
                      field("replicas", &InferenceScaleDown::replicas)};
  }
};

/// Replicas on a failed node move to a fresh node (relocation).
struct InferenceReplicaMoved {
  static constexpr std::string_view kind = "inference_replica_moved";
  std::string_view service;
  std::string_view region;
  std::string_view from;  ///< node path
  std::string_view to;    ///< node path
  int64_t replicas = 0;
  static constexpr auto fields() {
    return std::tuple{field("service", &InferenceReplicaMoved::service),
                      field("region", &InferenceReplicaMoved::region), field("from", &InferenceReplicaMoved::from),
                      field("to", &InferenceReplicaMoved::to), field("replicas", &InferenceReplicaMoved::replicas)};
  }
};

// ---- the `inference` table: a row per service and region every sample interval (counts of the
// interval; latency percentiles of the interval, NaN (an empty field) when nothing was served)

struct InferenceSample {
  static constexpr std::string_view table = "inference";
  SimTime time;
  std::string_view service;
  std::string_view region;
  double arrived = 0, completed = 0, failed = 0, late = 0, rerouted_out = 0, rerouted_in = 0, preemptions = 0;
  double queue = 0;
  int64_t replicas_up = 0;
  int64_t replicas_extra = 0;
  double kv_utilization = 0;
  double output_tokens_per_s = 0;
  double ttft_p50_s = 0, ttft_p99_s = 0, tpot_p50_s = 0, e2e_p50_s = 0, e2e_p99_s = 0;
  double timed_out = 0;
  static constexpr auto fields() {
    using S = InferenceSample;
    return std::tuple{field("time_ns", &S::time),
                      field("service", &S::service),
                      field("region", &S::region),
                      field("arrived", &S::arrived),
                      field("completed", &S::completed),
                      field("failed", &S::failed),
                      field("late", &S::late),
                      field("rerouted_out", &S::rerouted_out),
                      field("rerouted_in", &S::rerouted_in),
                      field("preemptions", &S::preemptions),
                      field("queue", &S::queue),
                      field("replicas_up", &S::replicas_up),
                      field("replicas_extra", &S::replicas_extra),
                      field("kv_utilization", &S::kv_utilization),
                      field("output_tokens_per_s", &S::output_tokens_per_s),
                      field("ttft_p50_s", &S::ttft_p50_s),
                      field("ttft_p99_s", &S::ttft_p99_s),
                      field("tpot_p50_s", &S::tpot_p50_s),
                      field("e2e_p50_s", &S::e2e_p50_s),
                      field("e2e_p99_s", &S::e2e_p99_s),
                      field("timed_out", &S::timed_out)};
  }
};

/// The `<table>_outages` table: a row per region outage a service saw, written at the end.
struct InferenceOutageRow {
  static constexpr std::string_view table_suffix = "_outages";
  std::string_view service;
  std::string_view region;
  SimTime start;
  Nullable<SimTime> end;  ///< empty while still open
  double arrived = 0, served = 0, late = 0, failed = 0, rerouted = 0;
  double ttft_p50_s = 0, ttft_p99_s = 0;
  double timed_out = 0;
  static constexpr auto fields() {
    using S = InferenceOutageRow;
    return std::tuple{field("service", &S::service),       field("region", &S::region),
                      field("start_ns", &S::start),        field("end_ns", &S::end),
                      field("arrived", &S::arrived),       field("served", &S::served),
                      field("late", &S::late),             field("failed", &S::failed),
                      field("rerouted", &S::rerouted),     field("ttft_p50_s", &S::ttft_p50_s),
                      field("ttft_p99_s", &S::ttft_p99_s), field("timed_out", &S::timed_out)};
  }
};

// ---- summary.json "inference": an object of services by name

/// Request counts over the run (InferenceCounters).
struct InferenceRequestCounts {
  double arrived = 0, completed = 0, failed = 0, late = 0, rerouted_out = 0, rerouted_in = 0, retried = 0,
         preemptions = 0, output_tokens = 0, prompt_tokens = 0, timed_out = 0;
  static constexpr auto fields() {
    using S = InferenceRequestCounts;
    return std::tuple{field("arrived", &S::arrived),         field("completed", &S::completed),
                      field("failed", &S::failed),           field("late", &S::late),
                      field("rerouted_out", &S::rerouted_out), field("rerouted_in", &S::rerouted_in),
                      field("retried", &S::retried),         field("preemptions", &S::preemptions),
                      field("output_tokens", &S::output_tokens), field("prompt_tokens", &S::prompt_tokens),
                      field("timed_out", &S::timed_out)};
  }
};

/// Latency percentiles (seconds); null when nothing was served: no latency, not a latency of 0.
struct InferenceLatency {
  Nullable<double> p50, p90, p99, mean;
  static constexpr auto fields() {
    using S = InferenceLatency;
    return std::tuple{field("p50", &S::p50), field("p90", &S::p90), field("p99", &S::p99), field("mean", &S::mean)};
  }
};

struct InferenceDisaggregationSummary {
  uint32_t prefill_replicas = 0, decode_replicas = 0;
  double prefill_saturation_requests_per_s = 0, decode_saturation_requests_per_s = 0;
  double kv_transfers = 0, kv_transfer_bytes = 0, kv_transfer_mean_s = 0;
  Nullable<double> kv_transfers_on_fabric, kv_fabric_mean_bytes_per_s;  ///< when a shared fabric carried them
  static constexpr auto fields() {
    using S = InferenceDisaggregationSummary;
    return std::tuple{field("prefill_replicas", &S::prefill_replicas),
                      field("decode_replicas", &S::decode_replicas),
                      field("prefill_saturation_requests_per_s", &S::prefill_saturation_requests_per_s),
                      field("decode_saturation_requests_per_s", &S::decode_saturation_requests_per_s),
                      field("kv_transfers", &S::kv_transfers),
                      field("kv_transfer_bytes", &S::kv_transfer_bytes),
                      field("kv_transfer_mean_s", &S::kv_transfer_mean_s),
                      field_if("kv_transfers_on_fabric", &S::kv_transfers_on_fabric),
                      field_if("kv_fabric_mean_bytes_per_s", &S::kv_fabric_mean_bytes_per_s)};
  }
};

struct InferenceWanSummary {
  double rerouted_bytes = 0, peak_bytes_per_s = 0;
  static constexpr auto fields() {
    return std::tuple{field("rerouted_bytes", &InferenceWanSummary::rerouted_bytes),
                      field("peak_bytes_per_s", &InferenceWanSummary::peak_bytes_per_s)};
  }
};

/// One replica's shape and steady state.
struct InferenceReplicaSummary {
  uint32_t gpus = 0;
  uint64_t kv_capacity_tokens = 0;
  double weights_per_gpu_bytes = 0, weight_load_s = 0, saturation_requests_per_s = 0, max_batch = 0,
         decode_step_s_batch1 = 0;
  static constexpr auto fields() {
    using S = InferenceReplicaSummary;
    return std::tuple{field("gpus", &S::gpus),
                      field("kv_capacity_tokens", &S::kv_capacity_tokens),
                      field("weights_per_gpu_bytes", &S::weights_per_gpu_bytes),
                      field("weight_load_s", &S::weight_load_s),
                      field("saturation_requests_per_s", &S::saturation_requests_per_s),
                      field("max_batch", &S::max_batch),
                      field("decode_step_s_batch1", &S::decode_step_s_batch1)};
  }
};

struct InferenceRegionSummary {
  InferenceRequestCounts requests;
  InferenceLatency ttft_s, e2e_s, tpot_s;
  uint32_t replicas = 0, max_extra_replicas = 0;
  double max_queue = 0;
  static constexpr auto fields() {
    using S = InferenceRegionSummary;
    return std::tuple{field("requests", &S::requests), field("ttft_s", &S::ttft_s),
                      field("e2e_s", &S::e2e_s),       field("tpot_s", &S::tpot_s),
                      field("replicas", &S::replicas), field("max_extra_replicas", &S::max_extra_replicas),
                      field("max_queue", &S::max_queue)};
  }
};

/// A region outage as the service saw it (see OutageWindowStats).
struct InferenceOutageSummary {
  std::string_view region;
  SimTime start;
  Nullable<SimTime> end;
  double arrived = 0, served = 0, late = 0, failed = 0, timed_out = 0, rerouted = 0;
  double ttft_p99_s = 0;
  static constexpr auto fields() {
    using S = InferenceOutageSummary;
    return std::tuple{field("region", &S::region),   field("start_ns", &S::start),
                      field("end_ns", &S::end),       field("arrived", &S::arrived),
                      field("served", &S::served),    field("late", &S::late),
                      field("failed", &S::failed),    field("timed_out", &S::timed_out),
                      field("rerouted", &S::rerouted), field("ttft_p99_s", &S::ttft_p99_s)};
  }
};

struct InferenceServiceSummary {
  std::string_view mode;  ///< "request" or "fluid"
  InferenceRequestCounts requests;
  double slo_attainment = 0;
  InferenceLatency ttft_s, tpot_s, e2e_s;
  double output_tokens_per_s = 0, requests_per_s = 0;
  // request mode only
  Nullable<double> mean_queue, mean_kv_utilization;
  Nullable<uint64_t> iterations, engine_events_for_iterations;
  Nullable<InferenceDisaggregationSummary> disaggregation;
  Nullable<InferenceWanSummary> wan;  ///< when re-routed requests loaded the WAN (WanFabric)
  InferenceReplicaSummary replica;
  Keyed<InferenceRegionSummary> regions;
  std::vector<InferenceOutageSummary> outages;
  static constexpr auto fields() {
    using S = InferenceServiceSummary;
    return std::tuple{field("mode", &S::mode),
                      field("requests", &S::requests),
                      field("slo_attainment", &S::slo_attainment),
                      field("ttft_s", &S::ttft_s),
                      field("tpot_s", &S::tpot_s),
                      field("e2e_s", &S::e2e_s),
                      field("output_tokens_per_s", &S::output_tokens_per_s),
                      field("requests_per_s", &S::requests_per_s),
                      field_if("mean_queue", &S::mean_queue),
                      field_if("mean_kv_utilization", &S::mean_kv_utilization),
                      field_if("iterations", &S::iterations),
                      field_if("engine_events_for_iterations", &S::engine_events_for_iterations),
                      field_if("disaggregation", &S::disaggregation),
                      field_if("wan", &S::wan),
                      field("replica", &S::replica),
                      field("regions", &S::regions),
                      field("outages", &S::outages)};
  }
};

/// summary.json's key for the services (an object of InferenceServiceSummary by service name).
inline constexpr std::string_view kInferenceSummaryKey = "inference";

}  // namespace fleetsim
