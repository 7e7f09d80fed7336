// SPDX-License-Identifier: Apache-2.0
#include "models/inference/iteration_cost.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace fleetsim {

namespace {
std::string gb(double bytes) { return fmt::format("{:.1f} GB", bytes / 1e9); }
}  // namespace

double AlphaBetaComm::all_reduce_seconds(double bytes, uint32_t gpus) const {
  if (gpus <= 1) return 0.0;
  const double p = gpus;
  return 2.0 * (p - 1.0) * alpha_s_ + 2.0 * (p - 1.0) / p * bytes / bytes_per_s_;
}

IterationCost::IterationCost(const LlmModelSpec& model, const ReplicaSpec& r, const AcceleratorSpec& acc,
                             const TensorParallelComm& comm)
    : comm_(&comm), gpus_(r.tp * r.pp), tp_(r.tp), pp_(r.pp), layers_(model.layers) {
  const std::string who = fmt::format("model \"{}\" on {} x {} (TP {} x PP {})", model.name, r.gpus(), acc.name, r.tp, r.pp);
  if (r.tp == 0 || r.pp == 0) throw InferenceSpecError(who + ": TP and PP must be at least 1");
  if (model.params <= 0) throw InferenceSpecError(who + ": parameters must be positive");
  if (model.layers == 0) throw InferenceSpecError(who + ": layers must be positive");
  if (model.kv_bytes_per_token() <= 0)
    throw InferenceSpecError(who + ": KV bytes per token must be positive (give kv_heads and head_dim, or kv_bytes_per_token)");
  if (r.tp > acc.scale_up_domain_gpus)
    throw InferenceSpecError(fmt::format("{}: tensor parallelism {} exceeds the {} scale-up (NVLink) domain of {} GPUs",
                                         who, r.tp, acc.name, acc.scale_up_domain_gpus));
  if (!(r.compute_efficiency > 0 && r.compute_efficiency <= 1) || !(r.memory_efficiency > 0 && r.memory_efficiency <= 1))
    throw InferenceSpecError(who + ": compute and memory efficiencies must be in (0, 1]");
  if (!(r.hbm_reserved_fraction >= 0 && r.hbm_reserved_fraction < 1))
    throw InferenceSpecError(who + ": reserved HBM fraction must be in [0, 1)");
  const double peak = r.fp8_compute ? acc.fp8_dense_flop_per_s : acc.bf16_dense_flop_per_s;
  if (peak <= 0 || acc.hbm_bytes <= 0 || acc.hbm_bytes_per_s <= 0)
    throw InferenceSpecError(who + ": the accelerator has no peak FLOP/s, HBM size or HBM bandwidth in the catalog");

  const double g = gpus_;
  weight_bytes_per_gpu_ = model.weight_bytes() / g;
  usable_hbm_per_gpu_ = acc.hbm_bytes * (1.0 - r.hbm_reserved_fraction);
  kv_bytes_per_token_ = model.kv_bytes_per_token();
  if (weight_bytes_per_gpu_ >= usable_hbm_per_gpu_) {
    throw InferenceSpecError(fmt::format(
        "{}: the weights do not fit: {} of weights is {} per GPU, but an {} has {} of HBM of which {} is usable "
        "({}% reserved); use more GPUs per replica (at least {}) or smaller weights",
        who, gb(model.weight_bytes()), gb(weight_bytes_per_gpu_), acc.name, gb(acc.hbm_bytes), gb(usable_hbm_per_gpu_),
        r.hbm_reserved_fraction * 100, static_cast<uint64_t>(std::floor(model.weight_bytes() / usable_hbm_per_gpu_)) + 1));
  }
  kv_capacity_bytes_ = g * usable_hbm_per_gpu_ - model.weight_bytes();
  kv_capacity_tokens_ = static_cast<uint64_t>(std::floor(kv_capacity_bytes_ / kv_bytes_per_token_));
  if (kv_capacity_tokens_ == 0)
    throw InferenceSpecError(fmt::format("{}: no room for the KV cache: {} left after the weights, {} bytes per token", who,
                                         gb(kv_capacity_bytes_), kv_bytes_per_token_));

  compute_s_per_token_ = model.flops_per_token() / (g * peak * r.compute_efficiency);
  const double bw = g * acc.hbm_bytes_per_s * r.memory_efficiency;
  memory_fixed_s_ = model.weight_bytes() / bw;
  memory_s_per_kv_token_ = kv_bytes_per_token_ / bw;
  overhead_s_ = r.iteration_overhead.seconds();
  hidden_act_bytes_ = double(model.hidden) * r.activation_bytes;
}

double IterationCost::comm_seconds(double tokens) const {
  if (tokens <= 0) return 0.0;
  const double bytes = tokens * hidden_act_bytes_;
  double s = 0.0;
  if (tp_ > 1) s += 2.0 * layers_ * comm_->all_reduce_seconds(bytes, tp_);
  if (pp_ > 1) s += (pp_ - 1.0) * comm_->send_seconds(bytes);
  return s;
}

// Every iteration is rounded to whole ns as round_ns does, and the sums are the very same integers.
//
// It runs for every one of the request-level week's 290 M iterations, so it is written for speed
// (hand-written rather than a library call: no library rounds a batch this way):
// - only locals are read (no reloads through `this`), and a fixed array is written (no push_back);
// - the rounding stays in double: n = (x + 1.5 * 2^52) - 1.5 * 2^52 is x rounded to the nearest
//   integer, ties to even, exact for 0 <= x < 2^51; llround rounds ties away from zero, so a tie
//   below (x - n == 0.5, exact) adds one. No integer conversions, so the first loop vectorizes;
// - KV counts and ns sums stay exact in double below 2^53, like the integers they stand for.
// Iterations of 19 hours or more (x >= 2^46 ns) take round_ns instead; the step grows with
// the KV read, so the last iteration is the longest and the only one to check. The magic-number
// rounding needs x rounded to a double before the addition, so a build for a CPU with FMA must not
// contract x * 1e9 + kMagic (g++ contracts only with -mfma or -march naming such a CPU; the project's
// builds target x86-64 without it).
int64_t IterationCost::decode_run_ends_ns(const DecodeRun& run, double kv0, double kv_step, uint64_t k, double* ends) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  constexpr double kExact = 70368744177664.0;     // 2^46: 64 of them sum exactly (below 2^53)
  if (!(step_seconds(run, kv0 + double(k - 1) * kv_step) * 1e9 < kExact)) {
    int64_t total = 0;
    for (uint64_t j = 0; j < k; ++j) {
      total += round_ns(step_seconds(run, kv0 + double(j) * kv_step));
      ends[j] = static_cast<double>(total);  // exact: below 2^53
    }
    return total;
  }
  std::array<double, kMaxDecodeRun> ns;
  const auto kn = static_cast<int32_t>(k);  // SSE2 converts packed 32-bit integers to double, not 64-bit
  for (int32_t j = 0; j < kn; ++j) {
    const double x = step_seconds(run, kv0 + double(j) * kv_step) * 1e9;
    const double n = (x + kMagic) - kMagic;
    const double r = n + static_cast<double>(x - n == 0.5);
    ns[j] = std::max(r, 1.0);
  }
  double total = 0;
  for (uint64_t j = 0; j < k; ++j) {
    total += ns[j];
    ends[j] = total;
  }
  return static_cast<int64_t>(total);
}

IterationBreakdown IterationCost::breakdown(const IterationLoad& load) const {
  IterationBreakdown b;
  const double tokens = double(load.prefill_tokens) + load.decode_seqs;
  b.compute_s = tokens * compute_s_per_token_;
  b.memory_s = memory_fixed_s_ + load.kv_tokens_read * memory_s_per_kv_token_;
  b.comm_s = comm_seconds(tokens);
  b.overhead_s = overhead_s_;
  b.memory_bound = b.memory_s >= b.compute_s;
  b.total_s = std::max(b.compute_s, b.memory_s) + b.comm_s + b.overhead_s;
  return b;
}

namespace {
void check_length(const LengthSpec& l, const std::string& what) {
  if (l.min < 1 || l.max < l.min)
    throw InferenceSpecError(fmt::format("{} lengths: need 1 <= min <= max, got min {} and max {}", what, l.min, l.max));
  switch (l.kind) {
    case LengthSpec::Kind::Fixed:
      if (!(l.value >= 1)) throw InferenceSpecError(fmt::format("{} length must be at least 1 token, got {}", what, l.value));
      break;
    case LengthSpec::Kind::Lognormal:
      if (!(l.median >= 1) || !(l.sigma >= 0))
        throw InferenceSpecError(fmt::format("{} lengths: lognormal needs median >= 1 and sigma >= 0, got {} and {}", what,
                                             l.median, l.sigma));
      break;
    case LengthSpec::Kind::Empirical: {
      double w = 0;
      for (const auto& [tokens, weight] : l.points) {
        if (tokens < 1 || !(weight >= 0))
          throw InferenceSpecError(fmt::format("{} lengths: empirical points need tokens >= 1 and weight >= 0", what));
        w += weight;
      }
      if (!(w > 0)) throw InferenceSpecError(fmt::format("{} lengths: empirical distribution has no positive weight", what));
      break;
    }
  }
}
}  // namespace

void validate_service(const InferenceServiceSpec& s) {
  const std::string who = fmt::format("inference service \"{}\"", s.name);
  if (s.regions.empty()) throw InferenceSpecError(who + ": no regions");
  uint64_t replicas = 0;
  for (const auto& r : s.regions) {
    replicas += r.replicas;
    if (r.share < 0 && r.share != -1)
      throw InferenceSpecError(fmt::format("{}: region \"{}\" has a negative traffic share {}", who, r.region, r.share));
  }
  if (replicas == 0) throw InferenceSpecError(who + ": zero replicas in every region; give at least one");
  if (s.disaggregation.enabled) {
    for (const auto& r : s.regions) {
      if (r.replicas == 0) continue;
      const uint32_t np = prefill_replicas(r, s.disaggregation);
      if (np == 0 || np >= r.replicas)
        throw InferenceSpecError(fmt::format(
            "{}: region \"{}\": disaggregation splits {} replicas into {} prefill and {} decode; it needs at least "
            "one of each",
            who, r.region, r.replicas, np, np >= r.replicas ? 0u : r.replicas - np));
    }
    if (!(s.disaggregation.kv_transfer_bytes_per_s > 0) || s.disaggregation.kv_transfer_latency < Duration::zero())
      throw InferenceSpecError(who + ": disaggregation needs a positive KV transfer bandwidth and a non-negative latency");
    if (s.mode == InferenceMode::Fluid)
      throw InferenceSpecError(who + ": prefill/decode disaggregation is implemented in request mode only, not fluid");
    if (s.autoscale.enabled)
      throw InferenceSpecError(who + ": prefill/decode disaggregation does not support autoscaling yet");
  }
  if (!(s.arrivals.rate_per_s >= 0) || !std::isfinite(s.arrivals.rate_per_s))
    throw InferenceSpecError(fmt::format("{}: the arrival rate must be non-negative, got {}/s", who, s.arrivals.rate_per_s));
  double mean = 0;
  for (double f : s.arrivals.diurnal) {
    if (!(f >= 0)) throw InferenceSpecError(fmt::format("{}: diurnal factors must be non-negative, got {}", who, f));
    mean += f / 24.0;
  }
  if (!(mean > 0)) throw InferenceSpecError(who + ": the diurnal factors are all zero");
  if (!(s.arrivals.growth_per_month > -1))
    throw InferenceSpecError(fmt::format("{}: growth per month must be above -100%, got {}", who, s.arrivals.growth_per_month));
  for (const auto& b : s.arrivals.bursts)
    if (!(b.factor > 0) || b.duration <= Duration::zero())
      throw InferenceSpecError(fmt::format("{}: a burst needs a positive factor and duration, got x{} for {}", who, b.factor,
                                           b.duration));
  check_length(s.prompt, who + ": prompt");
  check_length(s.output, who + ": output");
  if (s.batching.max_batch_tokens == 0 || s.batching.max_seqs == 0)
    throw InferenceSpecError(who + ": max_batch_tokens and max_seqs must be positive");
  if (s.batching.max_seqs > s.batching.max_batch_tokens)
    throw InferenceSpecError(fmt::format("{}: max_seqs {} exceeds the token budget max_batch_tokens {} (every running "
                                         "sequence needs one token of the budget per iteration)",
                                         who, s.batching.max_seqs, s.batching.max_batch_tokens));
  if (s.slo.ttft <= Duration::zero() || s.slo.tpot <= Duration::zero())
    throw InferenceSpecError(who + ": SLO TTFT and TPOT must be positive");
  if (s.fluid_step <= Duration::zero()) throw InferenceSpecError(who + ": the fluid step must be positive");
  if (s.autoscale.enabled && !(s.autoscale.target_utilization > 0 && s.autoscale.target_utilization <= 1))
    throw InferenceSpecError(who + ": autoscale target utilization must be in (0, 1]");
  if (s.trace) {
    for (size_t i = 0; i < s.trace->size(); ++i) {
      const auto& t = (*s.trace)[i];
      if (t.region >= static_cast<int32_t>(s.regions.size()))
        throw InferenceSpecError(fmt::format("{}: trace request {} names region index {} of {}", who, i, t.region, s.regions.size()));
      if (i > 0 && t.arrival < (*s.trace)[i - 1].arrival)
        throw InferenceSpecError(fmt::format("{}: trace request {} arrives before the one before it", who, i));
    }
  }
}

}  // namespace fleetsim
