// SPDX-License-Identifier: Apache-2.0
// The request level against queueing theory with the default routing settings (issue 20, defect 3: a
// 30 s max_queue_time dropped the long waiters, and the mean wait came out 51% low for M/M/1 at load
// 0.95). References: Erlang C for M/M/c (A. K. Erlang 1917; e.g. Kleinrock, Queueing Systems vol. 1,
// 1975, eq. 3.40) and, for c = 1, the Pollaczek-Khinchine mean E[W] = rho / (1 - rho) * E[S] * (1 +
// c_s^2) / 2 (Kleinrock eq. 5.72), exact for the near-exponential service used here (c_s^2 = 0.98).
#include "models/inference/inference_model.hpp"
#include "tests/models/inference/inference_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace fleetsim;

namespace {

/// Output lengths geometric with the given mean (an exponential service time in iterations).
LengthSpec geometric(double mean, uint32_t cap) {
  LengthSpec l;
  l.kind = LengthSpec::Kind::Empirical;
  const double p = 1.0 / mean;
  for (uint32_t k = 1; k <= cap; ++k) l.points.emplace_back(k, std::pow(1 - p, k - 1) * p);
  return l;
}

struct Result {
  double mean_wait, half_width, expected;
};

/// c one-sequence replicas at load rho, service time = iteration time * output length (geometric, mean
/// 50), every iteration 20 ms (the iteration overhead makes the service about 1 s, so that a 30 s queue
/// limit would matter). Replications of `per_run` requests each; the wait is TTFT minus the prefill
/// iteration. Routing is left at its defaults.
Result simulate(uint32_t c, double rho, int runs, double per_run) {
  auto s = test::small_service({{"r1", c}}, 1);
  s.batching.max_seqs = 1;
  s.prompt = LengthSpec::fixed(1);
  s.output = geometric(50, 2000);
  s.model.kv_bytes_per_token_override = 1;
  s.replica.iteration_overhead = Duration::ms(15);
  s.sample_interval = Duration::hours(1);
  const AlphaBetaComm comm(1e-6, 450e9);
  const IterationCost cost(s.model, s.replica, test::h100(), comm);
  const double step = cost.step_seconds(1.0, 0.0, 1.0);
  LengthSampler out(s.output);
  const double es = out.mean() * step;
  const double cs2 = (out.second_moment() - out.mean() * out.mean()) / (out.mean() * out.mean());
  const double mu = 1.0 / es, lambda = rho * c * mu;
  s.arrivals.rate_per_s = lambda;
  const double expected = mmc_mean_wait(c, lambda, mu) * (1 + cs2) / 2;
  std::vector<double> means;
  const Duration horizon = Duration::from_seconds(per_run / lambda);
  for (int seed = 1; seed <= runs; ++seed) {
    Fleet fleet = Fleet::build(test::h100_regions({"r1"}, 1));
    const Catalog catalog = test::h100_catalog();
    Engine engine;
    const RngStreams streams{static_cast<uint64_t>(seed)};
    Recorder recorder{RecorderOptions{}};
    InferenceSpec spec;
    spec.services.push_back(s);
    InferenceModel model(spec, fleet, catalog, engine, streams, recorder);
    model.start(SimTime::zero() + horizon);
    engine.run(SimTime::zero() + horizon);
    const auto& st = model.stats(0);
    CHECK(st.counters.timed_out == 0);
    means.push_back(st.ttft.mean() - step);
  }
  double m = 0, v = 0;
  for (double x : means) m += x / double(means.size());
  for (double x : means) v += (x - m) * (x - m) / double(means.size() - 1);
  return {m, 2.262 * std::sqrt(v / double(means.size())), expected};  // t(0.975, 9 df): 10 runs
}

}  // namespace

TEST_CASE("M/M/1 at load 0.95 with default routing matches Pollaczek-Khinchine / Erlang C", "[inference][queueing]") {
  // 10 runs of 100,000 requests. The mean wait is about 19 service times (~19 s), with a long tail: the
  // old 30 s queue limit cut about a fifth of the requests off it.
  const Result r = simulate(1, 0.95, 10, 1e5);
  INFO("simulated mean wait " << r.mean_wait << " s +- " << r.half_width << " (95%), reference " << r.expected << " s");
  CHECK(std::abs(r.mean_wait - r.expected) < r.half_width);
  CHECK(r.half_width < 0.12 * r.expected);  // the interval is tight enough to mean something
}

TEST_CASE("M/M/4 at load 0.95 with default routing matches Erlang C", "[inference][queueing]") {
  const Result r = simulate(4, 0.95, 10, 1e5);
  INFO("simulated mean wait " << r.mean_wait << " s +- " << r.half_width << " (95%), Erlang C " << r.expected << " s");
  CHECK(std::abs(r.mean_wait - r.expected) < r.half_width);
  CHECK(r.half_width < 0.08 * r.expected);
}
