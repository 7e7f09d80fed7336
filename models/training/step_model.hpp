// SPDX-License-Identifier: Apache-2.0
// The step model: FLOPs, pipeline bubble, communication and memory of one training step, as pure
// functions of a TrainingJobSpec and the shape of its placement. No engine, no state.
//
//   AlphaBetaCommCost comm(job.hardware);
//   PlacementShape where{.nodes = 2048, .racks = 1024, .datacenters = 1, .regions = 1};
//   StepBreakdown b = step_breakdown(job, job.parallel.dp, where, comm);
//   b.step_s; b.tokens_per_s; b.mfu;                       // 6.9 s, 2.4e6 tokens/s, 0.38
//   MemoryBreakdown m = memory_per_gpu(job);
//   if (!m.fits()) throw std::invalid_argument(m.describe_overflow(job));
//
// Equations (docs/training.md derives them, with sources):
//   model FLOPs per token  F = 6*N_active + 12*L*h*s                (Narayanan et al. 2021, SC'21,
//                          "Efficient Large-Scale Language Model Training on GPU Clusters Using
//                          Megatron-LM", §5.1 and appendix; PaLM appendix B; Llama 3 §3.3.2 reports MFU
//                          on this basis). Or the Megatron per-batch formula 72*B*s*L*h^2*(1 + s/(6h)
//                          + V/(12*L*h)) (the same paper, eq. 3 without recomputation).
//   hardware FLOPs         F plus recomputation: full adds one forward (F/3), selective adds the
//                          attention forward (4*L*h*s per token; Korthikanti et al. 2022).
//   compute time           tokens * (hardware FLOPs - attention core) / (GPUs * peak * kernel efficiency)
//                          + tokens * attention core / (GPUs * peak * attention efficiency); the
//                          attention core is 12*L*h*s per token (plus its recomputed forward), so long
//                          sequences spend most of their time at the attention kernels' efficiency
//   pipeline bubble        compute * (p-1)/(v*m): a fraction (p-1)/(v*m+p-1) of compute+bubble, with
//                          m micro-batches per replica and v interleaved stages (Narayanan et al. 2021 §2.2)
//   communication          TP 4 all-reduces of an activation per layer per micro-batch (6 with full
//                          recomputation), PP 2 sends per micro-batch per virtual stage, DP one
//                          gradient all-reduce (1.5x for ZeRO-3), EP 4 all-to-alls per MoE layer per
//                          micro-batch, CP one K+V all-gather forward (two with full recomputation) and one
//                          reduce-scatter of their gradients backward per layer per micro-batch (K and V
//                          kv_heads/heads of an activation each); each costed by a
//                          CommCost on the group's span, and (1 - overlap) of it exposed.
//   step time              (compute + bubble + exposed communication) * slowdown
//   MFU                    model FLOPs per step / (step time * GPUs * peak)
#pragma once

#include "models/training/training_spec.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace fleetsim {

enum class Collective : uint8_t { AllReduce, AllGather, ReduceScatter, AllToAll, SendRecv };

/// Who takes part in one collective: its size and how far it reaches on the job's placement.
class CommCost;

struct CommGroup {
  uint32_t ranks = 1;
  bool scale_up = false;  ///< every rank in one scale-up (NVLink) domain
  uint32_t racks = 1, datacenters = 1, regions = 1;
  /// Ranks of this group in each scale-up domain it spans (a data-parallel group of a TP1 job holds
  /// every GPU of its nodes); above 1, rings pass through the domain and use its network cards together.
  uint32_t ranks_per_domain = 1;
  double network_factor = 1.0;  ///< fraction of nominal scale-out bandwidth left (fleet degradations)
  /// GPU indices (fleet order) of one representative group on the placement, for a network model
  /// that costs flows on the actual topology; may be empty.
  std::span<const uint32_t> gpus;
  /// Every group of this kind that runs at the same time as this one (all DP groups, all pipeline
  /// pairs), `ranks` GPUs each, one group after the other; may be empty. A network model costing every
  /// flow (network.collective_costing "flows") puts them on the fabric together.
  std::span<const uint32_t> concurrent_gpus;
  /// The revision of the placement lists `gpus` and `concurrent_gpus` point into
  /// (PlacementShape::revision): a network model that kept a copy of the lists from the same address at
  /// the same non-zero revision has them unchanged, without comparing them (O(1) instead of O(job) per
  /// restart). 0: unknown, compare.
  uint64_t members_revision = 0;
  /// How many times a step runs this collective (the multiplier the step model applies to its time),
  /// for a network model that registers the job's traffic on a shared fabric; 0: not said.
  double calls_per_step = 0;
  /// The job's own cost model for what a network model cannot cost (a group it does not map): each job
  /// falls back to its own hardware, not to one model for all; null: the network model's default.
  const CommCost* fallback = nullptr;
};

/// Costs one collective in seconds. The interface the network model's collectives implement
/// (models/network, issue 4): the step model asks, it does not care how the answer is made.
class CommCost {
 public:
  virtual ~CommCost() = default;
  /// Seconds for `c` over `bytes` per rank (the buffer each rank contributes or holds) in group g.
  virtual double seconds(Collective c, double bytes, const CommGroup& g) const = 0;
};

/// The default: alpha-beta (Hockney) costs of ring algorithms on the bottleneck tier the group spans,
/// with NCCL's protocols (models/network/nccl_protocol.hpp: LL, LL128 or Simple, whichever is fastest
/// for the size, at a calibrated bus efficiency of the line rate):
///   all-reduce base + 2(n-1)*(alpha + step) + 2(n-1)/n * B/(eta*f*bw); all-gather, reduce-scatter,
///   all-to-all base + (n-1)*(alpha + step) + (n-1)/n * B/(eta*f*bw); send/recv base + alpha + step
///   + B/(eta*f*bw). bw is the scale-up bandwidth inside a domain, else the per-GPU scale-out bandwidth
///   times the factors of the tiers crossed (racks, datacenters, regions) and the network factor, times
///   the group's ranks per scale-up domain r (capped at the scale-up bandwidth times r / (r - 1)). eta
///   is NVLink's inside a domain and the network cards' across domains (nccl_bus_efficiency).
class AlphaBetaCommCost final : public CommCost {
 public:
  explicit AlphaBetaCommCost(const HardwareFigures& hw) : hw_(hw) {}
  double seconds(Collective c, double bytes, const CommGroup& g) const override;
  /// The bandwidth (bytes/s) and latency (s) a group sees.
  double bandwidth(const CommGroup& g) const;
  double latency_s(const CommGroup& g) const;

 private:
  HardwareFigures hw_;
};

/// How far the job's placement reaches (counted over its nodes).
struct PlacementShape {
  uint32_t nodes = 1, racks = 1, datacenters = 1, regions = 1;
  double network_factor = 1.0;
  /// Optional: fleet GPU indices of one representative group of each kind on the placement, passed
  /// on as CommGroup::gpus so that a network model can cost the flows on the real topology.
  std::vector<uint32_t> tp_gpus, pp_pair_gpus, dp_gpus;
  /// Optional: representative context-parallel, expert-parallel and expert-data-parallel groups.
  std::vector<uint32_t> cp_gpus, ep_gpus, expert_dp_gpus;
  /// Optional: every group of each kind on the placement, group after group (passed on as
  /// CommGroup::concurrent_gpus).
  std::vector<uint32_t> pp_pairs_all_gpus, dp_all_gpus, cp_all_gpus, ep_all_gpus, expert_dp_all_gpus;
  /// Changes (to a new non-zero value) whenever any of the lists above does; 0: not kept (then a
  /// network model compares the lists). Passed on as CommGroup::members_revision.
  uint64_t revision = 0;
};

/// Model FLOPs per token (forward + backward, no recomputation) by the job's formula.
double model_flops_per_token(const TrainingJobSpec& job);
/// The attention core's share of model FLOPs per token: 12*L*h*s (QK^T and AV, forward and backward).
double attention_flops_per_token(const TrainingJobSpec& job);
/// The attention core's hardware FLOPs per token (with the recomputed forward, if any).
double hardware_attention_flops_per_token(const TrainingJobSpec& job);
/// Hardware FLOPs per token: model FLOPs plus recomputation.
double hardware_flops_per_token(const TrainingJobSpec& job);
/// Pipeline bubble as a fraction of the pipeline's time: (p-1)/(v*m + p-1).
double pipeline_bubble_fraction(uint32_t p, uint32_t m, uint32_t v = 1);
/// Micro-batches per DP replica per step with `dp` replicas; 0 if the batch does not divide.
uint32_t microbatches(const TrainingJobSpec& job, uint32_t dp);

struct StepBreakdown {
  uint32_t dp = 1;
  uint32_t microbatches = 0;
  double tokens = 0;           ///< per step (the global batch)
  double model_flops = 0;      ///< per step
  double hardware_flops = 0;   ///< per step
  double compute_s = 0;
  double bubble_s = 0;
  double bubble_fraction = 0;
  double tp_s = 0, pp_s = 0, dp_s = 0, ep_s = 0, cp_s = 0;  ///< full communication times
  /// Bus bandwidth of the dense gradient all-reduce, as nccl-tests defines it (bytes/s):
  /// 2(n-1)/n * bytes / time. Comparable with a published all_reduce_perf busbw; 0 without DP.
  double dp_bus_bytes_per_s = 0;
  double exposed_comm_s = 0;
  double step_s = 0;           ///< at slowdown 1
  double tokens_per_s = 0;
  double mfu = 0;
};

/// The step at `dp` active replicas (<= the spec's dp: elastic shrink keeps the global batch, so the
/// remaining replicas run more micro-batches). Throws std::invalid_argument if the batch does not
/// divide into micro-batches.
StepBreakdown step_breakdown(const TrainingJobSpec& job, uint32_t dp, const PlacementShape& where, const CommCost& comm);

/// Per-GPU memory (bytes), following Rajbhandari et al. 2020 (ZeRO, §3: 2 + 2 + 12 bytes per
/// parameter for mixed-precision Adam, partitioned over DP by stage) and Korthikanti et al. 2022
/// (activations s*b*h*coefficient/t per layer, 1F1B keeping p micro-batches in flight on the first
/// stage, interleaving adding (p-1)/(p*v) of that; full recomputation keeps 2*s*b*h per layer).
struct MemoryBreakdown {
  double parameters_per_gpu = 0;
  double weights = 0, gradients = 0, optimizer = 0, activations = 0;
  double hbm = 0;
  double total() const { return weights + gradients + optimizer + activations; }
  bool fits() const { return total() <= hbm; }
  /// "layout TP8/PP16/DP128 (ZeRO-1, recompute selective) needs 87.5 GB per GPU (weights 6.33 GB,
  /// gradients 6.33 GB, optimizer 0.3 GB, activations 74.6 GB) but H100 has 80 GB of HBM"
  std::string describe(const TrainingJobSpec& job) const;
};
MemoryBreakdown memory_per_gpu(const TrainingJobSpec& job);

/// Checks the job's shape (divisibility, positive sizes, memory); returns an empty string if it is
/// sound, else one message with the numbers.
std::string validate_job(const TrainingJobSpec& job);

/// "TP8/PP16/DP128" (with /CP, /EP when above 1).
std::string layout_name(const Parallelism& p);

}  // namespace fleetsim
