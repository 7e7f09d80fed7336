// SPDX-License-Identifier: Apache-2.0
// IterationCost: how long one continuous-batching iteration of a replica takes (a roofline), and how
// many KV-cache tokens fit in the HBM the weights leave free.
//
//   AlphaBetaComm comm(1e-6, 450e9);                       // TP all-reduce: 1 us per hop, 450 GB/s
//   IterationCost cost(model, replica, catalog.accelerator("H100"), comm);   // throws InferenceSpecError
//   double s = cost.step_seconds({.prefill_tokens = 512, .decode_seqs = 64, .kv_tokens_read = 80'000});
//   uint64_t kv = cost.kv_capacity_tokens();
//
// The equations (docs/inference.md):
//   compute  = flops_per_token * (prefill_tokens + decode_seqs) / (G * peak * compute_efficiency)
//   memory   = (weight_bytes + kv_tokens_read * kv_bytes_per_token) / (G * hbm_bw * memory_efficiency)
//   comm     = 2 * layers * allreduce(tokens * hidden * activation_bytes, tp)      (two per layer)
//              + (pp - 1) * p2p(tokens * hidden * activation_bytes)
//   step     = max(compute, memory) + comm + iteration_overhead
// G = tp * pp GPUs. The larger of compute and memory wins (roofline); communication is not overlapped
// with either (conservative: Megatron-style TP all-reduces sit on the critical path). Pipeline stages
// are modelled as perfectly pipelined: they add HBM and FLOPs, not latency (optimistic for latency).
// KV capacity = G * hbm * (1 - reserved) - weight_bytes, in tokens of kv_bytes_per_token.
#pragma once

#include "models/hardware/catalog.hpp"
#include "models/inference/inference_spec.hpp"
#include "sim/rounding.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace fleetsim {

/// The TP collective cost, a narrow interface the network model's collectives can implement later.
class TensorParallelComm {
 public:
  virtual ~TensorParallelComm() = default;
  /// Seconds for an all-reduce of `bytes` (per GPU) over `gpus` GPUs of one scale-up domain.
  virtual double all_reduce_seconds(double bytes, uint32_t gpus) const = 0;
  /// Seconds to send `bytes` from one pipeline stage to the next.
  virtual double send_seconds(double bytes) const = 0;
};

/// Ring all-reduce in the alpha-beta model (Thakur, Rabenseifner and Gropp, "Optimization of
/// Collective Communication Operations in MPICH", IJHPCA 2005): 2(p-1) steps, each alpha plus
/// bytes/p over beta: T = 2(p-1) alpha + 2 (p-1)/p * bytes / beta.
class AlphaBetaComm final : public TensorParallelComm {
 public:
  AlphaBetaComm(double alpha_s, double bytes_per_s) : alpha_s_(alpha_s), bytes_per_s_(bytes_per_s) {}
  double all_reduce_seconds(double bytes, uint32_t gpus) const override;
  double send_seconds(double bytes) const override { return alpha_s_ + bytes / bytes_per_s_; }

 private:
  double alpha_s_;
  double bytes_per_s_;
};

/// What one iteration does.
struct IterationLoad {
  uint32_t prefill_tokens = 0;  ///< prompt tokens computed in this iteration
  uint32_t decode_seqs = 0;     ///< sequences producing one token each
  double kv_tokens_read = 0;    ///< context tokens whose KV the attention reads
};

struct IterationBreakdown {
  double compute_s = 0;
  double memory_s = 0;
  double comm_s = 0;
  double overhead_s = 0;
  double total_s = 0;
  bool memory_bound = false;
};

class IterationCost {
 public:
  /// Checks the shape (TP within the scale-up domain, weights fit the HBM) and throws
  /// InferenceSpecError with the numbers otherwise. `comm` must outlive this object.
  IterationCost(const LlmModelSpec& model, const ReplicaSpec& replica, const AcceleratorSpec& acc,
                const TensorParallelComm& comm);

  IterationBreakdown breakdown(const IterationLoad& load) const;
  double step_seconds(const IterationLoad& load) const {
    return step_seconds(double(load.prefill_tokens), double(load.decode_seqs), load.kv_tokens_read);
  }
  /// The same with fractional counts (the fluid mode's mean batch).
  double step_seconds(double prefill_tokens, double decode_seqs, double kv_tokens_read) const {
    const double tokens = prefill_tokens + decode_seqs;
    const double compute = tokens * compute_s_per_token_;
    const double memory = memory_fixed_s_ + kv_tokens_read * memory_s_per_kv_token_;
    return (compute > memory ? compute : memory) + comm_seconds(tokens) + overhead_s_;
  }
  double comm_seconds(double tokens) const;

  /// What stays the same over a run of decode-only iterations of `decode_seqs` sequences (a request-
  /// mode segment): their compute and communication, and the memory term's coefficients copied, so
  /// that a loop over the run's iterations reads only locals (no reloads through `this`).
  /// step_seconds(run, kv) is then one multiply-add and a compare per iteration, and the very same
  /// double as step_seconds(0, decode_seqs, kv).
  struct DecodeRun {
    double compute_s = 0;
    double comm_s = 0;
    double memory_fixed_s = 0;
    double memory_s_per_kv_token = 0;
    double overhead_s = 0;
  };
  DecodeRun decode_run(uint32_t decode_seqs) const {
    const double tokens = 0.0 + double(decode_seqs);  // as step_seconds forms it
    return {tokens * compute_s_per_token_, comm_seconds(tokens), memory_fixed_s_, memory_s_per_kv_token_, overhead_s_};
  }
  static double step_seconds(const DecodeRun& run, double kv_tokens_read) {
    const double memory = run.memory_fixed_s + kv_tokens_read * run.memory_s_per_kv_token;
    return (run.compute_s > memory ? run.compute_s : memory) + run.comm_s + run.overhead_s;
  }

  /// An iteration's duration in whole ns (at least 1): max(1, llround(s * 1e9)), without the libm
  /// call on the hot path (it was a fifth of the request-level week's time; sim/rounding.hpp).
  static int64_t round_ns(double s) {
    const double x = s * 1e9;
    if (!(x >= 0 && x < 4.6e18)) return std::max<int64_t>(1, static_cast<int64_t>(std::llround(x)));
    return std::max<int64_t>(1, round_half_away(x));
  }
  /// The most iterations decode_run_ends_ns takes at once.
  static constexpr uint64_t kMaxDecodeRun = 64;
  /// The ends of k (1 to kMaxDecodeRun) decode-only iterations of `run`, the first reading kv0 KV tokens
  /// and each next one kv_step more: ends[j] = the sum of round_ns(step_seconds(run, kv0 + i * kv_step))
  /// over i <= j, in whole ns (exact in double); returns ends[k - 1]. The request mode's segments.
  static int64_t decode_run_ends_ns(const DecodeRun& run, double kv0, double kv_step, uint64_t k, double* ends);

  uint64_t kv_capacity_tokens() const { return kv_capacity_tokens_; }
  double kv_capacity_bytes() const { return kv_capacity_bytes_; }
  double kv_bytes_per_token() const { return kv_bytes_per_token_; }
  double weight_bytes_per_gpu() const { return weight_bytes_per_gpu_; }
  double usable_hbm_bytes_per_gpu() const { return usable_hbm_per_gpu_; }
  uint32_t gpus() const { return gpus_; }

 private:
  const TensorParallelComm* comm_;
  uint32_t gpus_, tp_, pp_, layers_;
  double hidden_act_bytes_;
  double compute_s_per_token_;
  double memory_fixed_s_;
  double memory_s_per_kv_token_;
  double overhead_s_;
  double kv_bytes_per_token_;
  double weight_bytes_per_gpu_;
  double usable_hbm_per_gpu_;
  double kv_capacity_bytes_;
  uint64_t kv_capacity_tokens_;
};

/// Checks a service spec on its own (counts, rates, lengths, regions); throws InferenceSpecError.
void validate_service(const InferenceServiceSpec& spec);

}  // namespace fleetsim
