// SPDX-License-Identifier: Apache-2.0
// TrainingSpec: LLM training jobs as plain config structs in SI units and simulated time. The loader
// (models/scenario/load_training.hpp) fills them from the scenario's "training" key; TrainingModel
// (training_model.hpp) runs them; step_model.hpp turns a job into a step time. docs/training.md has the
// equations and their sources.
//
//   TrainingJobSpec job;
//   job.name = "llama3-405b";
//   job.model = {.parameters = 405e9, .layers = 126, .hidden = 16384, .heads = 128, .seq_len = 8192,
//                .vocab = 128256};
//   job.parallel = {.tp = 8, .pp = 16, .dp = 128};
//   job.global_batch_tokens = 16 * 1024 * 1024;
//   job.total_tokens = 15.6e12;
//   job.hardware = {.accelerator = "H100", .peak_flop_per_s = 989.4e12, .hbm_bytes = 80e9, ...};
//
// Units: parameters and tokens are counts (double: 15.6e12 tokens exceeds no double's exact range
// that matters here); bytes; bytes per second; FLOP/s; Duration for times. Invariants the loader
// checks (and validate_job() re-checks, returning a message): tp*pp*dp*cp GPUs, dp divisible by ep,
// global batch a whole number of micro-batches per DP replica, at least one layer per pipeline chunk.
#pragma once

#include "sim/time.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fleetsim {

/// The transformer being trained.
struct ModelShape {
  double parameters = 0;         ///< total parameters N
  double active_parameters = 0;  ///< per-token active parameters (MoE); 0: equal to parameters
  uint32_t layers = 0;
  uint32_t hidden = 0;           ///< d_model
  uint32_t heads = 0;            ///< attention heads
  uint32_t kv_heads = 0;         ///< key/value heads (grouped-query attention); 0: equal to heads
  uint32_t seq_len = 0;          ///< tokens per sequence
  uint32_t vocab = 0;
  uint32_t experts = 1;          ///< MoE experts per layer; 1: dense
  uint32_t top_k = 1;            ///< experts per token

  double active() const { return active_parameters > 0 ? active_parameters : parameters; }
  /// Key/value heads over query heads: the size of K (or V) relative to the layer's activation.
  double kv_fraction() const {
    return heads == 0 || kv_heads == 0 || kv_heads >= heads ? 1.0 : double(kv_heads) / heads;
  }
  bool moe() const { return experts > 1; }
  /// Parameters held in experts (all experts): from total = shared + E*e and active = shared + k*e.
  double expert_parameters() const {
    if (!moe() || experts <= top_k) return 0;
    return (parameters - active()) * experts / static_cast<double>(experts - top_k);
  }
};

enum class Precision : uint8_t { Bf16, Fp8 };
enum class Recompute : uint8_t { None, Selective, Full };
enum class FlopsFormula : uint8_t {
  SixNPlusAttention,  ///< 6N + 12*L*h*s per token (Narayanan et al. 2021; PaLM appendix B)
  Megatron,           ///< 72*B*s*L*h^2*(1 + s/(6h) + V/(12*L*h)) per batch (Narayanan et al. 2021, eq. 3 without recompute)
};

struct Parallelism {
  uint32_t tp = 1, pp = 1, dp = 1, ep = 1, cp = 1;
  uint32_t zero_stage = 1;        ///< 0..3 (Megatron's distributed optimizer is stage 1)
  uint32_t micro_batch_seqs = 1;  ///< sequences per micro-batch
  uint32_t virtual_stages = 1;    ///< interleaved 1F1B: model chunks per pipeline rank
  Recompute recompute = Recompute::Selective;
  uint64_t gpus() const { return uint64_t{tp} * pp * dp * cp; }
};

/// Fractions of each communication hidden behind compute (0: fully exposed, 1: fully hidden).
struct Overlap {
  double tp = 0.0;
  double pp = 0.5;
  double dp = 0.8;
  double ep = 0.3;
  double cp = 0.5;
};

/// The hardware figures the step model needs, resolved from the catalog by the loader.
struct HardwareFigures {
  std::string accelerator;               ///< catalog key ("H100")
  double peak_flop_per_s = 0;            ///< dense peak at the job's precision
  double hbm_bytes = 0;
  double scale_up_bytes_per_s = 0;       ///< per GPU per direction (NVLink)
  double scale_out_bytes_per_s = 0;      ///< per GPU (instance network bandwidth / GPUs per node)
  uint32_t gpus_per_node = 8;
  uint32_t scale_up_gpus = 8;            ///< GPUs in one scale-up domain
  Duration scale_up_latency = Duration::ns(1'000);
  Duration scale_out_latency = Duration::ns(5'000);
  /// Bandwidth factors for groups that cross racks (spine oversubscription), datacenters and regions.
  double cross_rack_factor = 1.0;
  double cross_dc_factor = 0.25;
  double cross_region_factor = 0.02;
  Duration cross_dc_latency = Duration::us(500);
  Duration cross_region_latency = Duration::ms(30);
};

struct CheckpointPolicy {
  enum class Kind : uint8_t { Fixed, YoungDaly, None };
  enum class MtbfSource : uint8_t { Expected, Observed };
  Kind kind = Kind::YoungDaly;
  Duration interval = Duration::minutes(30);  ///< Fixed
  bool daly_higher_order = false;             ///< Daly 2006 correction instead of Young's sqrt(2CM)
  MtbfSource mtbf_source = MtbfSource::Expected;
  std::optional<Duration> mtbf;               ///< given outright; else from the failure spec (and observations)
  double bytes_per_parameter = 14;            ///< bf16 weights 2 + fp32 master 4 + Adam m, v 4 + 4
  std::optional<double> size_bytes;           ///< overrides parameters * bytes_per_parameter
  double storage_bytes_per_s = 2e12;
  bool async = false;                         ///< asynchronous: the job stalls only for the snapshot
  Duration async_stall = Duration::s(1);      ///< device-to-host snapshot time of an async checkpoint
  std::optional<Duration> restore;            ///< default: size / storage bandwidth

  double size(double parameters) const { return size_bytes ? *size_bytes : parameters * bytes_per_parameter; }
  Duration write_time(double parameters) const { return Duration::from_seconds(size(parameters) / storage_bytes_per_s); }
  Duration restore_time(double parameters) const { return restore ? *restore : write_time(parameters); }
  /// Time the job stalls per checkpoint.
  Duration stall(double parameters) const { return async ? std::min(async_stall, write_time(parameters)) : write_time(parameters); }
};

struct RecoveryPolicy {
  enum class Mode : uint8_t { Spares, WaitRepair, ElasticShrink };
  enum class OutagePolicy : uint8_t { Pause, Move };
  Mode mode = Mode::Spares;
  uint32_t hot_spare_nodes = 0;      ///< nodes reserved for the job beside its placement
  bool use_free_capacity = true;     ///< when spares run out, take free healthy nodes from the scheduler
  Mode fallback = Mode::WaitRepair;  ///< when no replacement exists (WaitRepair or ElasticShrink)
  Duration detection = Duration::minutes(2);
  Duration restart = Duration::minutes(8);
  OutagePolicy outage = OutagePolicy::Pause;
  uint32_t min_dp = 1;               ///< elastic shrink never goes below this many replicas
};

enum class Fidelity : uint8_t { Step, Segment };

struct TrainingJobSpec {
  std::string name;
  ModelShape model;
  double global_batch_tokens = 0;
  double total_tokens = 0;
  Precision precision = Precision::Bf16;
  Parallelism parallel;
  Overlap overlap;
  FlopsFormula flops_formula = FlopsFormula::SixNPlusAttention;
  double kernel_efficiency = 0.5;  ///< achieved fraction of peak in the compute kernels
  /// Achieved fraction of peak in the attention core (the 12*L*h*s FLOPs per token of QK^T and AV,
  /// FlashAttention-style kernels); 0: the same as kernel_efficiency. Long sequences spend most of
  /// their FLOPs here, so a value below kernel_efficiency makes them cost more per FLOP (issue 20).
  double attention_efficiency = 0;
  double attention_kernel_efficiency() const { return attention_efficiency > 0 ? attention_efficiency : kernel_efficiency; }
  double bytes_per_activation = 2; ///< bf16 activations
  double activation_coefficient = 34;  ///< Korthikanti et al. 2022: bytes per (s*b*h) per layer, with SP
  HardwareFigures hardware;
  std::string region;              ///< empty: any region
  std::string after;               ///< submitted when the job of this name completes; empty: at `submit`
  int priority = 0;                ///< higher first
  SimTime submit = SimTime::zero();
  bool preemptible = true;
  CheckpointPolicy checkpoint;
  RecoveryPolicy recovery;
  Fidelity fidelity = Fidelity::Segment;

  uint64_t gpus() const { return parallel.gpus(); }
};

struct TrainingSpec {
  std::vector<TrainingJobSpec> jobs;
  /// Interval of the tokens-over-time table ("training.csv"); zero: rows at state changes only.
  Duration sample_interval = Duration::hours(1);
  std::string table = "training";
};

}  // namespace fleetsim
