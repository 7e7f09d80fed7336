// SPDX-License-Identifier: Apache-2.0
#include "models/inference/distributions.hpp"
#include "models/inference/iteration_cost.hpp"
#include "tests/models/inference/inference_fixtures.hpp"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>

using namespace fleetsim;

TEST_CASE("decode step time grows with the batch KV bytes", "[inference]") {
  const auto model = LlmModelSpec::dense("llama-70b", 70.6e9, 80, 8192, 8, 128);
  ReplicaSpec r;
  r.accelerator = "H100";
  r.tp = 4;
  const AlphaBetaComm comm(1e-6, 450e9);
  const IterationCost cost(model, r, test::h100(), comm);
  // KV bytes per token from the shapes: 2 * 80 layers * 8 heads * 128 * 2 bytes = 327,680.
  CHECK(cost.kv_bytes_per_token() == 327680.0);
  const double s0 = cost.step_seconds({.prefill_tokens = 0, .decode_seqs = 64, .kv_tokens_read = 0});
  const double s1 = cost.step_seconds({.prefill_tokens = 0, .decode_seqs = 64, .kv_tokens_read = 64 * 1000});
  const double s2 = cost.step_seconds({.prefill_tokens = 0, .decode_seqs = 64, .kv_tokens_read = 64 * 4000});
  CHECK(s1 > s0);
  CHECK(s2 > s1);
  // Memory-bound: each extra KV byte costs 1 / (4 GPUs * 3.35 TB/s * 0.8).
  const double per_token = 327680.0 / (4 * 3.35e12 * 0.8);
  CHECK(s2 - s1 == Approx(64 * 3000 * per_token).epsilon(1e-9));
  const auto b = cost.breakdown({.prefill_tokens = 0, .decode_seqs = 64, .kv_tokens_read = 64 * 4000});
  CHECK(b.memory_bound);
  // Weights 141.2 GB over 4 GPUs at 80% of 3.35 TB/s: 13.17 ms before KV and communication.
  CHECK(cost.breakdown({.prefill_tokens = 0, .decode_seqs = 1, .kv_tokens_read = 0}).memory_s ==
        Approx(141.2e9 / (4 * 3.35e12 * 0.8)));
}

TEST_CASE("prefill is compute bound and the roofline takes the larger bound", "[inference]") {
  const auto model = LlmModelSpec::dense("llama-70b", 70.6e9, 80, 8192, 8, 128);
  ReplicaSpec r;
  r.accelerator = "H100";
  r.tp = 4;
  const AlphaBetaComm comm(1e-6, 450e9);
  const IterationCost cost(model, r, test::h100(), comm);
  const auto b = cost.breakdown({.prefill_tokens = 8192, .decode_seqs = 0, .kv_tokens_read = 8192});
  CHECK_FALSE(b.memory_bound);
  CHECK(b.compute_s == Approx(2 * 70.6e9 * 8192 / (4 * 989.4e12 * 0.5)));
  CHECK(b.total_s == Approx(b.compute_s + b.comm_s));
  // TP all-reduce: 2 per layer, ring over 4 GPUs.
  const double bytes = 8192.0 * 8192 * 2;
  CHECK(b.comm_s == Approx(2 * 80 * (2 * 3 * 1e-6 + 2 * 0.75 * bytes / 450e9)));
}

TEST_CASE("a model that does not fit the replica HBM is rejected with the numbers", "[inference]") {
  const auto model = LlmModelSpec::dense("llama-405b", 405e9, 126, 16384, 8, 128);
  ReplicaSpec r;
  r.accelerator = "H100";
  r.tp = 4;
  const AlphaBetaComm comm(1e-6, 450e9);
  try {
    IterationCost cost(model, r, test::h100(), comm);
    FAIL("expected InferenceSpecError");
  } catch (const InferenceSpecError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::Contains("810.0 GB of weights"));
    CHECK_THAT(msg, Catch::Contains("202.5 GB per GPU"));
    CHECK_THAT(msg, Catch::Contains("80.0 GB of HBM"));
    CHECK_THAT(msg, Catch::Contains("72.0 GB is usable"));
    CHECK_THAT(msg, Catch::Contains("at least 12"));
  }
  r.tp = 16;
  CHECK_THROWS_WITH(IterationCost(model, r, test::h100(), comm), Catch::Contains("exceeds the H100 scale-up"));
}

TEST_CASE("KV capacity is the HBM left after the weights", "[inference]") {
  const auto model = LlmModelSpec::dense("llama-8b", 8.03e9, 32, 4096, 8, 128);
  ReplicaSpec r;
  r.accelerator = "H100";
  const AlphaBetaComm comm(1e-6, 450e9);
  const IterationCost cost(model, r, test::h100(), comm);
  const double free_bytes = 80e9 * 0.9 - 8.03e9 * 2;
  CHECK(cost.kv_capacity_tokens() == static_cast<uint64_t>(std::floor(free_bytes / 131072.0)));
}

TEST_CASE("bad service specs are rejected clearly", "[inference]") {
  auto s = test::small_service({{"r1", 0}}, 10);
  CHECK_THROWS_WITH(validate_service(s), Catch::Contains("zero replicas"));
  s = test::small_service({{"r1", 2}}, -5);
  CHECK_THROWS_WITH(validate_service(s), Catch::Contains("must be non-negative, got -5/s"));
  s = test::small_service({{"r1", 2}}, 5);
  s.arrivals.diurnal.fill(0);
  CHECK_THROWS_WITH(validate_service(s), Catch::Contains("all zero"));
  s = test::small_service({{"r1", 2}}, 5);
  s.batching.max_seqs = 10000;
  CHECK_THROWS_WITH(validate_service(s), Catch::Contains("exceeds the token budget"));
  s = test::small_service({{"r1", 2}}, 5);
  s.trace = std::vector<TraceRequest>{{SimTime::zero() + Duration::s(2), 10, 10, -1}, {SimTime::zero() + Duration::s(1), 10, 10, -1}};
  CHECK_THROWS_WITH(validate_service(s), Catch::Contains("trace request 1 arrives before"));
}

TEST_CASE("the inverse normal CDF inverts the CDF", "[inference]") {
  for (double p : {1e-9, 0.001, 0.02, 0.3, 0.5, 0.77, 0.975, 0.999999}) CHECK(normal_cdf(normal_quantile(p)) == Approx(p).epsilon(1e-9));
  CHECK(normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
}

TEST_CASE("length samplers match their described distribution", "[inference]") {
  LengthSpec spec = LengthSpec::lognormal(200, 0.8);
  LengthSampler s(spec);
  Rng rng(7);
  double sum = 0;
  int below = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const uint32_t v = s.sample(rng);
    sum += v;
    below += v <= 200 ? 1 : 0;
  }
  CHECK(sum / n == Approx(s.mean()).epsilon(0.01));
  CHECK(s.mean() == Approx(200 * std::exp(0.32)).epsilon(0.005));
  CHECK(double(below) / n == Approx(0.5).margin(0.01));
  LengthSpec emp;
  emp.kind = LengthSpec::Kind::Empirical;
  emp.points = {{10, 1}, {100, 3}};
  LengthSampler e(emp);
  CHECK(e.mean() == Approx(77.5));
  CHECK(e.quantile(0.2) == 10);
  CHECK(e.quantile(0.3) == 100);
}

TEST_CASE("thinning reproduces the diurnal and growing arrival rate", "[inference]") {
  ArrivalSpec a;
  a.rate_per_s = 50;
  for (int h = 0; h < 24; ++h) a.diurnal[static_cast<size_t>(h)] = h < 12 ? 0.5 : 1.5;
  a.growth_per_month = 0.5;
  // UTC-2: local hour 0 is 02:00 UTC.
  ArrivalProcess p(a, 1.0, -120, 0, {});
  CHECK(p.rate_at(SimTime::zero() + Duration::hours(2)) == Approx(25 * std::pow(1.5, 2.0 / 730)));
  CHECK(p.rate_at(SimTime::zero() + Duration::hours(14)) == Approx(75 * std::pow(1.5, 14.0 / 730)));
  Rng rng(3);
  // Count arrivals over 3 days starting 30 days in, against the exact expectation.
  const SimTime a0 = SimTime::zero() + Duration::days(30), a1 = a0 + Duration::days(3);
  SimTime t = a0;
  double n = 0;
  while (true) {
    t = p.next(t, rng, a1);
    if (t >= a1) break;
    ++n;
  }
  const double expect = p.expected(a0, a1);
  CHECK(expect == Approx(50 * 3 * 86400 * std::pow(1.5, (30 * 24 + 36) / 730.0)).epsilon(0.01));
  CHECK(std::abs(n - expect) < 4 * std::sqrt(expect));
}

TEST_CASE("the latency sketch keeps its relative error", "[inference]") {
  LatencySketch s;
  for (int i = 1; i <= 10000; ++i) s.add(i * 1e-3);
  CHECK(s.quantile(0.5) == Approx(5.0).epsilon(0.006));
  CHECK(s.quantile(0.99) == Approx(9.9).epsilon(0.006));
  CHECK(s.mean() == Approx(5.0005));
  LatencySketch t;
  t.add(100.0, 3.0);
  s.merge(t);
  CHECK(s.count() == 10003);
  CHECK(s.max() == 100.0);
}

TEST_CASE("Erlang C matches known values", "[inference]") {
  // M/M/2 with a = 1: C = 1/3.
  CHECK(erlang_c(2, 1.0) == Approx(1.0 / 3));
  // M/M/1: C = rho.
  CHECK(erlang_c(1, 0.7) == Approx(0.7));
  // continuity between the exact recursion and the Halfin-Whitt limit for many servers
  const double exact = erlang_c(5000, 4900);
  const double hw = erlang_c(5001, 4901);
  CHECK(hw == Approx(exact).epsilon(0.05));
}

// The request mode's segments take their iteration ends from decode_run_ends_ns, which rounds in
// double for speed; it must give the very integers of round_ns(step_seconds(...)) summed one by one
// (and so the same outputs), including ties at half a nanosecond, where llround rounds up.
TEST_CASE("a decode run's iteration ends equal the per-iteration rounding summed", "[inference]") {
  const auto check = [](const IterationCost::DecodeRun& run, double kv0, double kv_step, uint64_t k) {
    std::array<double, IterationCost::kMaxDecodeRun> ends{};
    const int64_t total = IterationCost::decode_run_ends_ns(run, kv0, kv_step, k, ends.data());
    int64_t sum = 0;
    for (uint64_t j = 0; j < k; ++j) {
      sum += IterationCost::round_ns(IterationCost::step_seconds(run, kv0 + double(j) * kv_step));
      REQUIRE(ends[j] == double(sum));
    }
    CHECK(total == sum);
  };
  // A tie: 2.5 ns and 3.5 ns exactly (both representable), llround gives 3 and 4 (ties to even would
  // give 2 and 4): memory 1.5 ns + 1 ns per KV token from 1 token on; compute below, no comm or overhead.
  IterationCost::DecodeRun ties{.compute_s = 0, .comm_s = 0, .memory_fixed_s = 1.5e-9, .memory_s_per_kv_token = 1e-9,
                                .overhead_s = 0};
  std::array<double, 2> tie_ends{};
  CHECK(IterationCost::decode_run_ends_ns(ties, 1, 1, 2, tie_ends.data()) == 3 + 4);
  CHECK(tie_ends[0] == 3.0);
  check(ties, 1, 1, IterationCost::kMaxDecodeRun);
  // Compute-bound, then memory-bound as the KV read grows; sub-ns steps round up to 1 ns.
  check({.compute_s = 12e-3, .comm_s = 0.4e-3, .memory_fixed_s = 9e-3, .memory_s_per_kv_token = 3.3e-8, .overhead_s = 1e-4},
        40'000, 64, 64);
  check({.compute_s = 0, .comm_s = 0, .memory_fixed_s = 1e-10, .memory_s_per_kv_token = 1e-12, .overhead_s = 0}, 3, 7, 33);
  // Iterations of a day take the integer path (x >= 2^46 ns).
  check({.compute_s = 0, .comm_s = 0, .memory_fixed_s = 86400.0, .memory_s_per_kv_token = 1e-3, .overhead_s = 0.25},
        1e6, 1000, 17);
  // Many random runs of a real shape (70B on 4 x H100), against the same loop.
  const auto model = LlmModelSpec::dense("llama-70b", 70.6e9, 80, 8192, 8, 128);
  ReplicaSpec r;
  r.accelerator = "H100";
  r.tp = 4;
  const AlphaBetaComm comm(1e-6, 450e9);
  const IterationCost cost(model, r, test::h100(), comm);
  uint64_t state = 12345;
  const auto next = [&state](uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  for (int i = 0; i < 2000; ++i) {
    const auto d = static_cast<uint32_t>(1 + next(256));
    check(cost.decode_run(d), double(next(cost.kv_capacity_tokens())), double(d), 1 + next(IterationCost::kMaxDecodeRun));
  }
}
