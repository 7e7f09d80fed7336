// SPDX-License-Identifier: Apache-2.0
// The steady state of one inference replica under continuous batching, as pure functions of the
// iteration cost, the prompt and output length distributions and the batching limits: what the fluid
// mode steps through and what the summary reports (saturation, batch at saturation). The equations
// are in docs/inference.md ("Fluid mode").
//
//   const SteadyInputs in{cost, prompt, output, spec.batching};
//   const double batch = max_batch_at_saturation(in, cost.kv_capacity_tokens());
//   const double x_max = find_saturation_rps(in, batch);      // requests/s one replica sustains
//   const SteadyState st = steady_state_at(in, 0.5 * x_max);  // iteration time, batch, residual wait
#pragma once

#include "models/inference/distributions.hpp"
#include "models/inference/inference_spec.hpp"
#include "models/inference/iteration_cost.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fleetsim {

/// Quantile levels the fluid mode inserts into its sketches; 0.5, 0.9 and 0.99 are levels, so the
/// mixture's p50, p90 and p99 fall on them.
inline constexpr std::array<double, 17> kQuantLevels = {0.005, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
                                                        0.7,   0.8,  0.9,  0.95, 0.98, 0.99, 0.995, 0.999};
using LevelValues = std::array<double, kQuantLevels.size()>;
inline constexpr size_t kLevelP50 = 7, kLevelP99 = 14;

/// The probability mass of each level's cell (cells split halfway between levels); they sum to 1.
constexpr LevelValues quantile_level_weights() {
  LevelValues w{};
  for (size_t i = 0; i < kQuantLevels.size(); ++i) {
    const double lo = i == 0 ? 0.0 : (kQuantLevels[i - 1] + kQuantLevels[i]) / 2;
    const double hi = i + 1 == kQuantLevels.size() ? 1.0 : (kQuantLevels[i] + kQuantLevels[i + 1]) / 2;
    w[i] = hi - lo;
  }
  return w;
}
inline constexpr LevelValues kQuantWeights = quantile_level_weights();

/// Steady state of one replica at a per-replica arrival rate x (requests/s).
struct SteadyState {
  double s = 0;         ///< mean iteration time (seconds)
  double s_pf = 0;      ///< mean time of an iteration holding a given prompt
  double batch = 0;     ///< mean decoding sequences
  double avail = 1;     ///< prompt tokens per iteration left by the decode tokens
  double residual = 0;  ///< mean wait for the iteration in progress to end
  LevelValues pf_level{};  ///< from first chunk to first token of a prompt at each length level
};

/// What a replica's steady state depends on (all referenced, none owned).
struct SteadyInputs {
  const IterationCost& cost;
  const LengthSampler& prompt;
  const LengthSampler& output;
  const BatchingSpec& batching;
};

/// The mean context a decoding sequence reads: E[p] + E[o^2] / (2 E[o]) (length-biased: a sequence
/// is seen in the batch in proportion to its output length, halfway through it on average).
double mean_decode_context(const LengthSampler& prompt, const LengthSampler& output);

/// One replica's steady state at arrival rate x: fixed point of s = E[step], B = x (E[o] - 1) s, with
/// the number of prompts per iteration Poisson(x s). pf_level is left at zero (add_prefill_levels).
SteadyState steady_state_at(const SteadyInputs& in, double x);

/// Whether a replica sustains x requests/s with at most `max_batch` decoding sequences and its prompt
/// tokens within the iteration budget; `out` (if not null) receives steady_state_at(in, x).
bool sustains_rate(const SteadyInputs& in, double max_batch, double x, SteadyState* out);

/// Sequences at saturation: the slot limit, or the KV cache at the mean context (kept 5% below full,
/// as the request level keeps a watermark and preempts near the limit); at least 1.
double max_batch_at_saturation(const SteadyInputs& in, uint64_t kv_capacity_tokens);

/// The largest rate sustains_rate() accepts (bisection to 2^-60 of the bracket, from below: the
/// result itself is sustained).
double find_saturation_rps(const SteadyInputs& in, double max_batch);

/// Squared coefficient of variation of a length distribution, Var / E^2 (1 when the mean is 0).
double squared_cv(const LengthSampler& lengths);

/// A length distribution at the quantile levels; output lengths are rounded to whole tokens.
LevelValues prompt_level_quantiles(const LengthSampler& prompt);
LevelValues output_level_quantiles(const LengthSampler& output);

/// Fills st.pf_level at arrival rate x: from a prompt's first chunk to its first token, for a prompt
/// at each length level: its full-budget chunks, then an iteration holding its last chunk, the decode
/// batch and the other prompts of that iteration (Poisson, mean length).
void add_prefill_levels(const SteadyInputs& in, const LevelValues& prompt_quantiles, SteadyState& st, double x);

/// steady_state_at() with prefill levels at n + 1 evenly spaced rates from 0 to saturation_rps.
std::vector<SteadyState> build_steady_table(const SteadyInputs& in, const LevelValues& prompt_quantiles,
                                            double saturation_rps, int n = 256);

/// The table's steady state at rate x, linear between its rates (clamped to [0, saturation_rps]).
SteadyState steady_lookup(const std::vector<SteadyState>& table, double saturation_rps, double x);

/// Disaggregation: requests/s one prefill replica sustains (full token-budget prompt iterations) and
/// one decode replica (max_batch sequences at the mean context, one token each per iteration).
double prefill_saturation_rps(const SteadyInputs& in);
double decode_saturation_rps(const SteadyInputs& in, double max_batch);

/// The fluid mode's queueing wait in a region: over sequence slots an M/G/c queue with c = replicas *
/// max_batch and per-slot rate saturation_rps / max_batch, whose wait quantiles are Erlang C's
/// exponential tail scaled by Allen-Cunneen's (1 + cs^2) / 2; above capacity, the backlog's FIFO
/// drain time (a shift of every quantile).
struct SlotQueueWait {
  double shift = 0;       ///< backlog / capacity (seconds), when there is a backlog
  double p_wait = 0;      ///< Erlang C: probability of waiting at all
  double drain_rate = 0;  ///< c mu - lambda (1/s)
  double scale = 1;       ///< Allen-Cunneen (1 + cs^2) / 2
  /// The wait at quantile level q.
  double at_level(double q) const;
};
SlotQueueWait slot_queue_wait(double backlog, double capacity_rps, double load_rps, uint32_t replicas_up,
                              double max_batch, double saturation_rps, double output_scv);

}  // namespace fleetsim
