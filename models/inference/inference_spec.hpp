// SPDX-License-Identifier: Apache-2.0
// InferenceSpec: LLM inference services as plain config structs in SI units. The loader
// (models/scenario/load_inference.hpp) fills them from the scenario's "inference" section; InferenceModel
// (inference_model.hpp) runs them. docs/inference.md has the model and its equations.
//
//   InferenceServiceSpec s;
//   s.name = "chat";
//   s.model = LlmModelSpec::dense("llama-70b", 70.6e9, 80, 8192, 8, 128);  // KV from the shapes
//   s.replica.accelerator = "H100"; s.replica.tp = 4;
//   s.arrivals.rate_per_s = 1000;                    // whole service, before diurnal/growth/bursts
//   s.regions.push_back({.region = "us-east-1", .replicas = 32});
//   s.output = LengthSpec::lognormal(200, 0.8);      // median 200 tokens
//
// Units: seconds as Duration/SimTime, bytes, FLOP/s, rates per second, tokens as counts.
// Invariants (the loader checks them with pointers; validate_service() re-checks and throws
// InferenceSpecError with the numbers): every count and rate positive where stated, diurnal factors
// non-negative with a positive mean, at least one region with at least one replica, lengths >= 1.
#pragma once

#include "sim/error.hpp"
#include "sim/time.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fleetsim {

/// A bad service specification; what() says which figure is wrong and by how much. Invalid input (exit
/// 65, sim/error.hpp).
class InferenceSpecError : public std::invalid_argument, public ErrorWithKind {
 public:
  explicit InferenceSpecError(const std::string& what)
      : std::invalid_argument(what), ErrorWithKind(ErrorKind::InvalidInput) {}
};

/// The served model. KV bytes per token come from kv_bytes_per_token_override when > 0, otherwise
/// from the shapes: 2 (K and V) * layers * kv_heads * head_dim * kv_bytes_per_element.
struct LlmModelSpec {
  std::string name;
  double params = 0;              ///< total parameters (weights held in HBM)
  double active_params = 0;       ///< parameters touched per token (MoE); 0: equal to params
  uint32_t layers = 0;
  uint32_t hidden = 0;            ///< model width, for the TP all-reduce message size
  uint32_t kv_heads = 0;          ///< key/value heads (GQA); 0 with an override
  uint32_t head_dim = 0;
  double bytes_per_param = 2;     ///< 2 for BF16 weights, 1 for FP8
  double kv_bytes_per_element = 2;
  double kv_bytes_per_token_override = 0;

  static LlmModelSpec dense(std::string name, double params, uint32_t layers, uint32_t hidden, uint32_t kv_heads,
                            uint32_t head_dim) {
    LlmModelSpec m;
    m.name = std::move(name);
    m.params = params;
    m.layers = layers;
    m.hidden = hidden;
    m.kv_heads = kv_heads;
    m.head_dim = head_dim;
    return m;
  }
  double kv_bytes_per_token() const {
    if (kv_bytes_per_token_override > 0) return kv_bytes_per_token_override;
    return 2.0 * layers * kv_heads * head_dim * kv_bytes_per_element;
  }
  double weight_bytes() const { return params * bytes_per_param; }
  double flops_per_token() const { return 2.0 * (active_params > 0 ? active_params : params); }
};

/// The shape of one replica and how well it uses its hardware.
struct ReplicaSpec {
  std::string accelerator;         ///< catalog accelerator ("H100")
  uint32_t tp = 1;                 ///< tensor parallel degree (within the scale-up domain)
  uint32_t pp = 1;                 ///< pipeline stages
  bool fp8_compute = false;        ///< use the FP8 dense peak instead of BF16
  double compute_efficiency = 0.5; ///< achieved / peak FLOP/s in prefill (MFU)
  double memory_efficiency = 0.8;  ///< achieved / peak HBM bandwidth in decode
  /// HBM kept back for activations, the runtime and fragmentation (vLLM's gpu_memory_utilization of
  /// 0.9 leaves 10%).
  double hbm_reserved_fraction = 0.1;
  Duration iteration_overhead;     ///< fixed cost per iteration (scheduling, kernel launches)
  /// Alpha-beta cost of the TP all-reduce when no collective model is plugged in: per-message latency
  /// and per-GPU bandwidth (0: the accelerator's scale-up bandwidth).
  Duration allreduce_latency = Duration::us(5);
  double allreduce_bytes_per_s = 0;
  double activation_bytes = 2;     ///< bytes per activation element (BF16)
  /// Per GPU, reading its shard of the weights before a replica that came back serves again. 2 GB/s
  /// is an assumption [A]: one local NVMe drive's sequential read (a few GB/s) shared by the node's
  /// GPUs, or an object-store read of a similar rate; docs/inference.md.
  double weight_load_bytes_per_s = 2e9;

  uint32_t gpus() const { return tp * pp; }
};

/// Continuous batching (Orca, vLLM): one iteration serves every running sequence one decode token plus
/// up to the token budget of prompt tokens (chunked prefill).
struct BatchingSpec {
  uint32_t max_batch_tokens = 8192;  ///< token budget of one iteration (prefill + decode)
  uint32_t max_seqs = 256;           ///< running sequences per replica
  bool chunked_prefill = true;       ///< false: a prompt is prefilled whole in one iteration
};

/// Optional prefill/decode disaggregation (DistServe, OSDI 2024; Splitwise, ISCA 2024): in each region
/// the first prefill_replicas(...) replicas compute prompts only (compute-bound, batched by the token
/// budget) and ship each prompt's KV cache (tokens * KV bytes per token) to a decode replica, which runs
/// continuous-batching decode only. A transfer takes latency + bytes / bandwidth and transfers into one
/// decode replica are serialized on its link. Request mode only (fluid mode rejects it).
/// Default link: 50 GB/s = one 400 Gb/s RDMA NIC per replica, 20 us per transfer (assumption: the
/// typical per-GPU NIC of an H100 cluster, e.g. p5.48xlarge's 8 x 400 Gb/s EFA; not a measured figure).
struct DisaggregationSpec {
  bool enabled = false;
  double prefill_fraction = 0.25;        ///< of each region's replicas doing prefill only (rounded)
  double kv_transfer_bytes_per_s = 50e9; ///< prefill -> decode replica KV transfer bandwidth
  Duration kv_transfer_latency = Duration::us(20);  ///< fixed cost per transfer (setup, first byte)
};

struct SloSpec {
  Duration ttft = Duration::ms(2000);   ///< time to first token
  Duration tpot = Duration::ms(100);    ///< time per output token after the first
  double target = 0.99;                 ///< fraction of requests that must meet both
};

/// A distribution of token counts, clamped to [min, max] and rounded to whole tokens.
struct LengthSpec {
  enum class Kind : uint8_t { Fixed, Lognormal, Empirical };
  Kind kind = Kind::Fixed;
  double value = 1;       ///< Fixed
  double median = 1;      ///< Lognormal: exp(mu)
  double sigma = 0;       ///< Lognormal: sd of the log
  std::vector<std::pair<uint32_t, double>> points;  ///< Empirical: (tokens, weight)
  uint32_t min = 1;
  uint32_t max = 1u << 20;

  static LengthSpec fixed(double v) {
    LengthSpec l;
    l.value = v;
    return l;
  }
  static LengthSpec lognormal(double median, double sigma) {
    LengthSpec l;
    l.kind = Kind::Lognormal;
    l.median = median;
    l.sigma = sigma;
    return l;
  }
};

/// A period of multiplied traffic ("a launch doubles traffic for 2 h").
struct BurstSpec {
  SimTime start;
  Duration duration;
  double factor = 1;        ///< multiplies the rate (> 0)
  std::string region;       ///< empty: every region of the service
};

/// The service's request rate before the per-region split:
/// rate(t, region) = rate_per_s * share(region) * diurnal[local hour] * (1 + growth)^(t / month) * bursts.
struct ArrivalSpec {
  double rate_per_s = 0;
  /// Factors by local hour 0..23 (region time zone); scaled so their mean is 1 (the daily volume is
  /// rate_per_s * 86400). All 1: no daily cycle.
  std::array<double, 24> diurnal{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  double growth_per_month = 0;  ///< compound fraction per month (730 h); 0.05 = +5%/month
  std::vector<BurstSpec> bursts;
};

/// One replayed request (the loader reads the CSV: models open no files).
struct TraceRequest {
  SimTime arrival;
  uint32_t prompt_tokens = 1;
  uint32_t output_tokens = 1;
  int32_t region = -1;  ///< index into the service's regions; -1: spread by share
};

struct ServiceRegionSpec {
  std::string region;         ///< fleet region name
  uint32_t replicas = 0;      ///< dedicated replicas (the service takes the region's first GPUs of its accelerator)
  double share = -1;          ///< of the service's traffic entering here; < 0: proportional to replicas
  int32_t utc_offset_minutes = 0;  ///< local time of the diurnal curve
  uint32_t max_extra_replicas = 0; ///< autoscaling ceiling (GPUs borrowed from training)
  uint32_t prefill_replicas = 0;   ///< disaggregation: prefill replicas here; 0: from prefill_fraction
};

/// Disaggregation: how many of a region's dedicated replicas do prefill (the rest decode). A valid
/// split leaves at least one of each (validate_service checks it).
inline uint32_t prefill_replicas(const ServiceRegionSpec& r, const DisaggregationSpec& d) {
  if (r.prefill_replicas > 0) return r.prefill_replicas;
  const double x = d.prefill_fraction * r.replicas;
  return x <= 0 ? 0u : static_cast<uint32_t>(x + 0.5);
}

struct LinkLatency {
  std::string a, b;
  Duration rtt;
};

struct RoutingSpec {
  Duration default_rtt = Duration::ms(60);  ///< between two regions when no link says otherwise
  std::vector<LinkLatency> rtts;
  /// A region spills new requests over when its estimated queueing wait exceeds this.
  Duration spill_wait = Duration::ms(500);
  /// A request waiting longer than this at a gateway gives up: failed and timed out, and kept in TTFT and
  /// E2E censored at this wait. Default 10 min: the OpenAI Python SDK's default request timeout
  /// (github.com/openai/openai-python, README "Timeouts": "default is 10 minutes"), the point at which a
  /// typical client gives up; long enough that the queueing tail users read is not cut (the old 30 s
  /// made the M/M/1 mean wait at load 0.95 come out half of Erlang C's; issue 20).
  Duration max_queue_time = Duration::minutes(10);
  bool failover = true;
  bool spillover = true;
};

struct AutoscaleSpec {
  bool enabled = false;
  Duration interval = Duration::minutes(1);  ///< how often each region re-evaluates
  Duration scale_up_delay = Duration::minutes(10);  ///< preempt training + load weights
  Duration scale_down_delay = Duration::minutes(30); ///< calm time before giving capacity back
  double target_utilization = 0.8;  ///< of a replica's saturation throughput
  int priority = 100;               ///< preempts training jobs below this priority
  /// Start with the replicas wanted for the load of the first interval, up at once, as if the service
  /// had been running before the simulation began (false: a cold start from the dedicated replicas).
  bool warm_start = true;
};

enum class InferenceMode : uint8_t { Request, Fluid };

struct InferenceServiceSpec {
  std::string name;
  InferenceMode mode = InferenceMode::Request;
  LlmModelSpec model;
  ReplicaSpec replica;
  BatchingSpec batching;
  DisaggregationSpec disaggregation;
  SloSpec slo;
  LengthSpec prompt = LengthSpec::lognormal(1000, 1.0);
  LengthSpec output = LengthSpec::lognormal(200, 0.8);
  ArrivalSpec arrivals;
  std::optional<std::vector<TraceRequest>> trace;  ///< replaces arrivals and lengths when present
  std::vector<ServiceRegionSpec> regions;
  RoutingSpec routing;
  AutoscaleSpec autoscale;
  Duration fluid_step = Duration::minutes(15);     ///< fluid mode: time step
  Duration sample_interval = Duration::minutes(1); ///< rows of the "inference" table
};

struct InferenceSpec {
  std::vector<InferenceServiceSpec> services;
  std::string table = "inference";  ///< name of the time-series table (inference.csv)
};

}  // namespace fleetsim
