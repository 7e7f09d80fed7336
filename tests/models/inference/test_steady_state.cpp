// SPDX-License-Identifier: Apache-2.0
// The replica steady state (models/inference/steady_state.hpp) as pure functions: the fixed point
// obeys Little's law, saturation is the largest sustained rate, and where a closed form exists the
// functions agree with it: the idle replica's single-prompt iteration, the KV-bound batch, the M/M/1
// waiting-time quantile (Kleinrock, Queueing Systems vol. 1, 1975, eq. 3.28: P(W > t) = rho
// exp(-(mu - lambda) t)), and the lognormal's squared coefficient of variation exp(sigma^2) - 1.
#include "models/inference/steady_state.hpp"
#include "tests/models/inference/inference_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace fleetsim;

namespace {

/// The Llama-8B-like service of the other inference tests on one H100, with its own samplers.
struct Rig {
  InferenceServiceSpec spec = test::small_service({{"r1", 1}}, 1);
  AlphaBetaComm comm{1e-6, 450e9};
  IterationCost cost{spec.model, spec.replica, test::h100(), comm};
  LengthSampler prompt{spec.prompt};
  LengthSampler output{spec.output};
  SteadyInputs in() const { return {cost, prompt, output, spec.batching}; }
};

}  // namespace

TEST_CASE("steady state: the fixed point satisfies Little's law B = x (E[o] - 1) s") {
  const Rig rig;
  const double max_batch = max_batch_at_saturation(rig.in(), rig.cost.kv_capacity_tokens());
  const double sat = find_saturation_rps(rig.in(), max_batch);
  REQUIRE(sat > 0);
  for (double f : {0.05, 0.3, 0.6, 0.9, 1.0}) {
    const double x = f * sat;
    const SteadyState st = steady_state_at(rig.in(), x);
    INFO("x = " << x);
    // Below saturation the iteration stops when s moves by less than 1e-12 of itself (1e-9 leaves
    // room). At saturation the damped iteration converges slowly and ends at its 200-iteration cap,
    // 2e-7 from the fixed point here.
    const double tolerance = f < 1 ? 1e-9 : 1e-6;
    CHECK(st.batch == Approx(x * (rig.output.mean() - 1) * st.s).epsilon(tolerance));
    CHECK(st.s > 0);
    CHECK(st.s_pf >= rig.cost.step_seconds(0.0, st.batch, 0.0));
    CHECK(st.avail == Approx(std::max(rig.spec.batching.max_batch_tokens - st.batch, 1.0)).epsilon(1e-12));
    // The residual wait is at most half an iteration (the replica busy with probability below 1).
    CHECK(st.residual >= 0);
    CHECK(st.residual <= st.s / 2);
  }
}

TEST_CASE("steady state: an idle replica runs the single-prompt iteration") {
  // At x = 0 there is no decode batch and one prompt per (conditional) iteration: s is the cost of an
  // iteration holding one mean prompt, exactly, and nobody waits for an iteration in progress.
  const Rig rig;
  const SteadyState st = steady_state_at(rig.in(), 0.0);
  const double ep = rig.prompt.mean();
  CHECK(st.batch == 0);
  CHECK(st.residual == 0);
  CHECK(st.s == rig.cost.step_seconds(std::min(ep, double(rig.spec.batching.max_batch_tokens)), 0.0, ep));
  CHECK(st.s_pf == st.s);
}

TEST_CASE("steady state: saturation is the largest sustained rate") {
  const Rig rig;
  const double max_batch = max_batch_at_saturation(rig.in(), rig.cost.kv_capacity_tokens());
  const double sat = find_saturation_rps(rig.in(), max_batch);
  SteadyState st;
  CHECK(sustains_rate(rig.in(), max_batch, sat, &st));
  CHECK_FALSE(sustains_rate(rig.in(), max_batch, sat * (1 + 1e-6), nullptr));
  CHECK(sustains_rate(rig.in(), max_batch, 0.5 * sat, nullptr));
  // At saturation a limit binds: the batch reaches max_batch or the prompts fill the token budget.
  const double budget_use =
      sat * rig.prompt.mean() * st.s / std::max(rig.spec.batching.max_batch_tokens - st.batch, 1.0);
  CHECK(std::max(st.batch / max_batch, budget_use) == Approx(1.0).epsilon(1e-6));
}

TEST_CASE("steady state: the batch at saturation is the slot or the KV limit") {
  // Fixed lengths: the mean decode context is E[p] + E[o^2] / (2 E[o]) = 1000 + 200 / 2 = 1100 tokens.
  Rig rig;
  rig.prompt = LengthSampler(LengthSpec::fixed(1000));
  rig.output = LengthSampler(LengthSpec::fixed(200));
  CHECK(mean_decode_context(rig.prompt, rig.output) == Approx(1100));
  rig.spec.batching.max_seqs = 256;
  CHECK(max_batch_at_saturation(rig.in(), 110'000) == Approx(0.95 * 100));  // KV-bound
  CHECK(max_batch_at_saturation(rig.in(), 1'100'000'000) == 256);         // slot-bound
  CHECK(max_batch_at_saturation(rig.in(), 10) == 1);                      // at least one sequence
}

TEST_CASE("steady state: squared coefficient of variation of the lengths") {
  CHECK(squared_cv(LengthSampler(LengthSpec::fixed(300))) == Approx(0).margin(1e-12));
  // A lognormal far from its rounding and clamps: exp(sigma^2) - 1; the sampler's moments come from a
  // 4096-point quadrature of the quantile function, hence the 2% tolerance.
  LengthSpec l = LengthSpec::lognormal(2000, 0.5);
  l.max = 1u << 24;
  CHECK(squared_cv(LengthSampler(l)) == Approx(std::exp(0.25) - 1).epsilon(0.02));
}

TEST_CASE("steady state: prefill levels of an idle replica are the prompt's own iteration") {
  // At x = 0 a prompt of p <= budget tokens is prefilled in one iteration alone: step(p, 0, p).
  const Rig rig;
  const LevelValues pq = prompt_level_quantiles(rig.prompt);
  SteadyState st = steady_state_at(rig.in(), 0.0);
  add_prefill_levels(rig.in(), pq, st, 0.0);
  for (size_t i = 0; i < kQuantLevels.size(); ++i) {
    const double p = std::max(pq[i], 1.0);
    INFO("level " << kQuantLevels[i] << ", prompt " << p);
    if (p <= rig.spec.batching.max_batch_tokens)
      CHECK(st.pf_level[i] == Approx(rig.cost.step_seconds(p, 0.0, p)).epsilon(1e-12));
    if (i > 0) CHECK(st.pf_level[i] >= st.pf_level[i - 1]);  // a longer prompt never prefills sooner
  }
}

TEST_CASE("steady state: the table interpolates between its rates") {
  const Rig rig;
  const double max_batch = max_batch_at_saturation(rig.in(), rig.cost.kv_capacity_tokens());
  const double sat = find_saturation_rps(rig.in(), max_batch);
  const LevelValues pq = prompt_level_quantiles(rig.prompt);
  const std::vector<SteadyState> table = build_steady_table(rig.in(), pq, sat, 8);
  REQUIRE(table.size() == 9);
  SteadyState at3 = steady_state_at(rig.in(), sat * 3 / 8);
  add_prefill_levels(rig.in(), pq, at3, sat * 3 / 8);
  const SteadyState node = steady_lookup(table, sat, sat * 3 / 8);
  CHECK(node.s == Approx(at3.s).epsilon(1e-12));
  CHECK(node.pf_level[kLevelP99] == Approx(at3.pf_level[kLevelP99]).epsilon(1e-12));
  const SteadyState mid = steady_lookup(table, sat, sat * 3.5 / 8);
  CHECK(mid.s == Approx((table[3].s + table[4].s) / 2).epsilon(1e-9));
  CHECK(mid.batch == Approx((table[3].batch + table[4].batch) / 2).epsilon(1e-9));
  // Clamped at both ends.
  CHECK(steady_lookup(table, sat, -1.0).s == table.front().s);
  CHECK(steady_lookup(table, sat, 10 * sat).s == table.back().s);
}

TEST_CASE("steady state: quantile levels and their weights") {
  double total = 0;
  for (double w : kQuantWeights) total += w;
  CHECK(total == Approx(1.0).epsilon(1e-15));
  CHECK(kQuantLevels[kLevelP50] == 0.5);
  CHECK(kQuantLevels[kLevelP99] == 0.99);
  const LevelValues oq = output_level_quantiles(LengthSampler(LengthSpec::fixed(300)));
  for (double v : oq) CHECK(v == 300);
}

TEST_CASE("steady state: slot queue wait against M/M/1 and M/M/c") {
  // One replica of one slot: M/M/1 with mu = saturation, P(W > t) = rho exp(-(mu - lambda) t), so the
  // q-quantile is ln(rho / (1 - q)) / (mu - lambda) where rho > 1 - q, else 0; scaled by (1 + cs^2) / 2.
  const double mu = 2.0, lambda = 1.6, rho = lambda / mu, scv = 0.5;
  const SlotQueueWait w1 = slot_queue_wait(0.0, mu, lambda, 1, 1.0, mu, scv);
  CHECK(w1.p_wait == Approx(rho).epsilon(1e-12));
  CHECK(w1.scale == 0.75);
  for (double q : {0.5, 0.9, 0.99}) {
    const double closed = rho > 1 - q ? std::log(rho / (1 - q)) / (mu - lambda) * (1 + scv) / 2 : 0.0;
    CHECK(w1.at_level(q) == Approx(closed).epsilon(1e-12).margin(1e-15));
  }
  // Many slots: the same as distributions.hpp's mmc_wait_quantile over c = replicas * batch.
  const double batch = 40, sat = 8, load = 0.9 * 4 * sat;
  const SlotQueueWait wc = slot_queue_wait(0.0, 4 * sat, load, 4, batch, sat, 1.0);
  for (double q : {0.9, 0.99, 0.999})
    CHECK(wc.at_level(q) ==
          Approx(mmc_wait_quantile(q, 4 * batch, load, sat / batch, 1.0)).epsilon(1e-12).margin(1e-15));
  // A backlog: its FIFO drain time shifts every level, and no Erlang tail is added.
  const SlotQueueWait wb = slot_queue_wait(30.0, 10.0, 12.0, 2, batch, 5.0, 1.0);
  CHECK(wb.at_level(0.5) == 3.0);
  CHECK(wb.at_level(0.99) == 3.0);
}

TEST_CASE("steady state: disaggregated pools' saturation") {
  const Rig rig;
  const double max_batch = max_batch_at_saturation(rig.in(), rig.cost.kv_capacity_tokens());
  // A decode replica at its saturation holds max_batch sequences (Little's law at one token per
  // iteration of the full batch at the mean context).
  const double xd = decode_saturation_rps(rig.in(), max_batch);
  const double ctx = mean_decode_context(rig.prompt, rig.output);
  CHECK(xd * (rig.output.mean() - 1) * rig.cost.step_seconds(0.0, max_batch, max_batch * ctx) ==
        Approx(max_batch).epsilon(1e-12));
  // A prefill replica runs full token budgets: budget / E[p] prompts per iteration.
  const double budget = rig.spec.batching.max_batch_tokens;
  CHECK(prefill_saturation_rps(rig.in()) ==
        Approx(budget / rig.prompt.mean() / rig.cost.step_seconds(budget, 0.0, budget)).epsilon(1e-12));
}
