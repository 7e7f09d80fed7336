// SPDX-License-Identifier: Apache-2.0
// A replica's steady state (steady_state.hpp). Moved out of InferenceModel::Service unchanged in
// arithmetic: the golden runs compare the fluid mode's figures byte for byte, so every expression
// keeps its operand order.
#include "models/inference/steady_state.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fleetsim {

double mean_decode_context(const LengthSampler& prompt, const LengthSampler& output) {
  const double ep = prompt.mean(), eo = output.mean();
  return ep + output.second_moment() / (2 * eo);
}

SteadyState steady_state_at(const SteadyInputs& in, double x) {
  const IterationCost& cost = in.cost;
  const double ep = in.prompt.mean(), eo = in.output.mean();
  const double ctx = mean_decode_context(in.prompt, in.output);
  const double budget = in.batching.max_batch_tokens;
  SteadyState st;
  double s = cost.step_seconds(1.0, 0.0, ep);
  // Damped fixed-point iteration: the batch follows from s by Little's law, s from the batch through
  // the cost model; the 0.5 damping keeps it from oscillating near saturation.
  for (int iter = 0; iter < 200; ++iter) {
    const double b = x * (eo - 1) * s;
    const double avail = std::max(budget - b, 1.0);
    const double lam = x * s;
    double es = 0, espf = 0, p = std::exp(-lam), cum = 0;
    for (int k = 0; k < 400; ++k) {
      const double pf = std::min(k * ep, avail);
      const double pf1 = std::min((k + 1) * ep, avail);
      es += p * (k == 0 && b <= 0 ? 0.0 : cost.step_seconds(pf, b, b * ctx + k * ep));
      espf += p * cost.step_seconds(pf1, b, b * ctx + (k + 1) * ep);
      cum += p;
      if (cum > 1 - 1e-12 && k > lam) break;
      p *= lam / (k + 1);
    }
    // An idle replica (no decode, no prompt) runs no iteration: es counts only busy ones; scale to
    // the mean over iterations that happen.
    const double p_busy = b > 0 ? 1.0 : 1.0 - std::exp(-lam);
    const double s_new = p_busy > 0 ? es / p_busy : espf;
    st.s = s_new;
    st.s_pf = espf;
    st.batch = b;
    st.avail = avail;
    if (std::abs(s_new - s) < 1e-12 * s_new) break;
    s = 0.5 * s + 0.5 * s_new;
  }
  // Residual wait of an arrival for the iteration in progress: the replica is busy with probability
  // 1 - exp(-N), N = mean requests in it (Poisson occupancy of an infinite-server system).
  const double n_in = x * (st.s_pf + (eo - 1) * st.s);
  st.residual = (1 - std::exp(-n_in)) * st.s / 2;
  return st;
}

bool sustains_rate(const SteadyInputs& in, double max_batch, double x, SteadyState* out) {
  const SteadyState st = steady_state_at(in, x);
  if (out) *out = st;
  if (!std::isfinite(st.s) || st.s <= 0) return false;
  if (st.batch > max_batch) return false;
  if (x * in.prompt.mean() * st.s > std::max(in.batching.max_batch_tokens - st.batch, 1.0)) return false;
  return true;
}

double max_batch_at_saturation(const SteadyInputs& in, uint64_t kv_capacity_tokens) {
  const double ctx = mean_decode_context(in.prompt, in.output);
  const double batch = std::min<double>(in.batching.max_seqs, 0.95 * double(kv_capacity_tokens) / ctx);
  return std::max(batch, 1.0);
}

double find_saturation_rps(const SteadyInputs& in, double max_batch) {
  double lo = 0, hi = 1.0;
  while (sustains_rate(in, max_batch, hi, nullptr) && hi < 1e9) hi *= 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = (lo + hi) / 2;
    if (sustains_rate(in, max_batch, mid, nullptr)) lo = mid;
    else hi = mid;
  }
  return lo;
}

double squared_cv(const LengthSampler& lengths) {
  const double mean = lengths.mean();
  const double var = lengths.second_moment() - mean * mean;
  return mean > 0 ? std::max(var, 0.0) / (mean * mean) : 1.0;
}

LevelValues prompt_level_quantiles(const LengthSampler& prompt) {
  LevelValues q{};
  for (size_t i = 0; i < kQuantLevels.size(); ++i) q[i] = prompt.quantile(kQuantLevels[i]);
  return q;
}

LevelValues output_level_quantiles(const LengthSampler& output) {
  LevelValues q{};
  for (size_t i = 0; i < kQuantLevels.size(); ++i) q[i] = std::nearbyint(output.quantile(kQuantLevels[i]));
  return q;
}

// The prompt's own length is what makes the TTFT tail: a p99 prompt is several times the mean, and
// its iteration is compute-bound (issue 20, item 8: with the mean prompt's iteration for every level,
// fluid p99 TTFT was about 60% low).
void add_prefill_levels(const SteadyInputs& in, const LevelValues& prompt_quantiles, SteadyState& st, double x) {
  const IterationCost& cost = in.cost;
  const double ep = in.prompt.mean();
  const double ctx = mean_decode_context(in.prompt, in.output);
  const double b = st.batch, avail = std::max(st.avail, 1.0), lam = x * st.s;
  for (size_t i = 0; i < kQuantLevels.size(); ++i) {
    const double p = std::max(prompt_quantiles[i], 1.0);
    const bool chunked = in.batching.chunked_prefill;
    const double chunks = !chunked || p <= avail ? 1.0 : std::ceil(p / avail);
    const double last = p - (chunks - 1) * avail;  // tokens of its last chunk
    const double room = std::max(avail, last);     // whole prompts may exceed the budget
    double e = 0, pr = std::exp(-lam), cum = 0;
    for (int k = 0; k < 400; ++k) {
      const double tokens = std::min(last + k * ep, room);
      e += pr * cost.step_seconds(tokens, b, b * ctx + tokens);
      cum += pr;
      if (cum > 1 - 1e-12 && k > lam) break;
      pr *= lam / (k + 1);
    }
    st.pf_level[i] = (chunks - 1) * cost.step_seconds(avail, b, b * ctx + avail) + e / cum;
  }
}

std::vector<SteadyState> build_steady_table(const SteadyInputs& in, const LevelValues& prompt_quantiles,
                                            double saturation_rps, int n) {
  std::vector<SteadyState> table(static_cast<size_t>(n) + 1);
  for (int i = 0; i <= n; ++i) {
    const double x = saturation_rps * i / n;
    SteadyState& st = table[static_cast<size_t>(i)];
    st = steady_state_at(in, x);
    add_prefill_levels(in, prompt_quantiles, st, x);
  }
  return table;
}

SteadyState steady_lookup(const std::vector<SteadyState>& table, double saturation_rps, double x) {
  if (saturation_rps <= 0) return table.front();
  const double pos = std::clamp(x / saturation_rps, 0.0, 1.0) * double(table.size() - 1);
  const auto i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= table.size()) return table.back();
  const double f = pos - double(i);
  const SteadyState& a = table[i];
  const SteadyState& b = table[i + 1];
  SteadyState r;
  r.s = a.s + f * (b.s - a.s);
  r.s_pf = a.s_pf + f * (b.s_pf - a.s_pf);
  r.batch = a.batch + f * (b.batch - a.batch);
  r.avail = a.avail + f * (b.avail - a.avail);
  r.residual = a.residual + f * (b.residual - a.residual);
  for (size_t k = 0; k < r.pf_level.size(); ++k) r.pf_level[k] = a.pf_level[k] + f * (b.pf_level[k] - a.pf_level[k]);
  return r;
}

double prefill_saturation_rps(const SteadyInputs& in) {
  const double ep = in.prompt.mean();
  const double budget = in.batching.max_batch_tokens;
  const double tok = in.batching.chunked_prefill ? budget : std::max(ep, 1.0);
  return tok / (ep * in.cost.step_seconds(tok, 0.0, tok));
}

double decode_saturation_rps(const SteadyInputs& in, double max_batch) {
  const double eo = in.output.mean();
  const double ctx = mean_decode_context(in.prompt, in.output);
  const double step = in.cost.step_seconds(0.0, max_batch, max_batch * ctx);
  return eo > 1 ? max_batch / ((eo - 1) * step) : std::numeric_limits<double>::infinity();
}

double SlotQueueWait::at_level(double q) const {
  double w = shift;
  if (p_wait > 1.0 - q && drain_rate > 0) w += std::log(p_wait / (1.0 - q)) / drain_rate * scale;
  return w;
}

SlotQueueWait slot_queue_wait(double backlog, double capacity_rps, double load_rps, uint32_t replicas_up,
                              double max_batch, double saturation_rps, double output_scv) {
  SlotQueueWait w;
  const double slots = replicas_up * max_batch;
  const double mu_slot = max_batch > 0 ? saturation_rps / max_batch : 0.0;
  if (backlog > 0 && capacity_rps > 0) {
    w.shift = backlog / capacity_rps;
  } else if (slots > 0 && load_rps < capacity_rps) {
    w.p_wait = erlang_c(slots, load_rps / mu_slot);
    w.drain_rate = slots * mu_slot - load_rps;
  }
  w.scale = (1.0 + output_scv) / 2.0;
  return w;
}

}  // namespace fleetsim
