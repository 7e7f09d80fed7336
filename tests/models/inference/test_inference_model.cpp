// SPDX-License-Identifier: Apache-2.0
#include "models/inference/inference_model.hpp"
#include "tests/models/inference/inference_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace fleetsim;

namespace {

struct Rig {
  Fleet fleet;
  Catalog catalog = test::h100_catalog();
  Engine engine;
  RngStreams streams;
  Recorder recorder;
  std::unique_ptr<InferenceModel> model;

  Rig(FleetSpec fs, InferenceSpec spec, uint64_t seed = 1, InferenceOptions opt = {})
      : fleet(Fleet::build(fs)), streams(seed), recorder(RecorderOptions{}) {
    model = std::make_unique<InferenceModel>(spec, fleet, catalog, engine, streams, recorder, opt);
  }
  void run(Duration d) {
    model->start(SimTime::zero() + d);
    engine.run(SimTime::zero() + d);
  }
};

InferenceSpec one(InferenceServiceSpec s) {
  InferenceSpec spec;
  spec.services.push_back(std::move(s));
  return spec;
}

/// Output lengths geometric with the given mean (an exponential service time in iterations).
LengthSpec geometric(double mean, uint32_t cap) {
  LengthSpec l;
  l.kind = LengthSpec::Kind::Empirical;
  const double p = 1.0 / mean;
  for (uint32_t k = 1; k <= cap; ++k) l.points.emplace_back(k, std::pow(1 - p, k - 1) * p);
  return l;
}

}  // namespace

TEST_CASE("an M/M/c configuration matches the Erlang-C mean wait", "[inference]") {
  // c = 8 replicas that each serve one request at a time (max_seqs = 1); a one-token prompt; KV too
  // small to matter, so every iteration takes the same time s (the weights over HBM bandwidth) and a
  // request's service time is s times its output length, geometric with mean 100: exponential in the
  // limit (squared coefficient of variation 0.99). Load 0.8.
  auto s = test::small_service({{"r1", 8}}, 1);
  s.batching.max_seqs = 1;
  s.prompt = LengthSpec::fixed(1);
  s.output = geometric(100, 3000);
  s.model.kv_bytes_per_token_override = 1;
  const AlphaBetaComm comm(1e-6, 450e9);
  const IterationCost cost(s.model, s.replica, test::h100(), comm);
  const double step = cost.step_seconds(1.0, 0.0, 1.0);
  CHECK(step == Approx(cost.step_seconds(0.0, 1.0, 3000.0)).epsilon(1e-6));
  LengthSampler out(s.output);
  const double mu = 1.0 / (out.mean() * step);
  const double c = 8, lambda = 0.8 * c * mu;
  s.arrivals.rate_per_s = lambda;
  const double expected = mmc_mean_wait(c, lambda, mu);
  // 10 independent replications of 40,000 requests; the wait is TTFT minus the prefill iteration.
  std::vector<double> means;
  const Duration horizon = Duration::from_seconds(40000 / lambda);
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Rig rig(test::h100_regions({"r1"}, 1), one(s), seed);
    rig.run(horizon);
    means.push_back(rig.model->stats(0).ttft.mean() - step);
  }
  double m = 0, v = 0;
  for (double x : means) m += x / means.size();
  for (double x : means) v += (x - m) * (x - m) / (means.size() - 1);
  const double half = 2.262 * std::sqrt(v / means.size());  // t(0.975, 9 df)
  INFO("simulated mean wait " << m << " s +- " << half << ", Erlang C " << expected << " s");
  CHECK(std::abs(m - expected) < half);
  CHECK(half < 0.15 * expected);  // the interval is tight enough to mean something
}

namespace {
/// The saturation throughput of one replica of a service (requests/s), from a model built to ask.
double saturation_rps(const InferenceServiceSpec& s) {
  std::vector<std::string> names;
  for (const auto& r : s.regions) names.push_back(r.region);
  Rig probe(test::h100_regions(names, 64), one(s));
  return probe.model->stats(0).replica_saturation_rps;
}
double cell(const Cell& c) {
  if (const auto* d = std::get_if<double>(&c)) return *d;
  if (const auto* i = std::get_if<int64_t>(&c)) return double(*i);
  return 0;
}
}  // namespace

TEST_CASE("a region outage moves traffic and shows the latency bump and its end", "[inference]") {
  auto s = test::small_service({{"r1", 8}, {"r2", 8}}, 1);
  s.routing.default_rtt = Duration::ms(70);
  s.sample_interval = Duration::minutes(1);
  const double sat = saturation_rps(s);
  REQUIRE(sat > 1);
  s.arrivals.rate_per_s = 0.35 * 16 * sat;  // each region at 35%; r2 at 70% while r1 is down
  Rig rig(test::h100_regions({"r1", "r2"}, 1), one(s));
  const auto r1 = *rig.fleet.find_region("r1");
  rig.engine.schedule_at(SimTime::zero() + Duration::minutes(10), Phase::Failure, [&] {
    rig.fleet.begin_outage(ref(r1));
    rig.model->on_fleet_change(ref(r1));
  });
  rig.engine.schedule_at(SimTime::zero() + Duration::minutes(20), Phase::Repair, [&] {
    rig.fleet.end_outage(ref(r1));
    rig.model->on_fleet_change(ref(r1));
  });
  rig.run(Duration::minutes(30));
  const auto& st = rig.model->stats(0);
  REQUIRE(st.outages.size() == 1);
  const auto& w = st.outages[0];
  CHECK(w.region == 0);
  CHECK(w.start == SimTime::zero() + Duration::minutes(10));
  // Back when the region is, plus the replicas' weight load (8B bf16 on one GPU: 16 GB at 2 GB/s).
  CHECK(st.weight_load_s == Approx(st.regions.empty() ? 0 : rig.model->cost(0).weight_bytes_per_gpu() / 2e9));
  CHECK(w.end == SimTime::zero() + Duration::minutes(20) + Duration::from_seconds(st.weight_load_s));
  // Everything arriving at r1 during the window went to r2 and was served there.
  CHECK(w.arrived > 1000);
  CHECK(w.rerouted == w.arrived);
  CHECK(w.failed == 0);
  CHECK(w.served >= 0.99 * w.arrived);
  CHECK(st.counters.retried > 0);  // requests running on r1 when it went dark started over on r2
  CHECK(st.regions[1].counters.rerouted_in == Approx(w.rerouted + st.counters.retried).epsilon(0.01));
  // The window's TTFT carries the 70 ms round trip; r2's TTFT rises while it serves both regions.
  const auto table = *rig.recorder.find_table("inference");
  const auto& rows = rig.recorder.rows(table);
  const size_t c_time = rig.recorder.column_index(table, "time_ns");
  const size_t c_region = rig.recorder.column_index(table, "region");
  const size_t c_ttft = rig.recorder.column_index(table, "ttft_p50_s");
  const size_t c_done = rig.recorder.column_index(table, "completed");
  const size_t c_in = rig.recorder.column_index(table, "rerouted_in");
  double r2_before = 0, r2_during = 0, r2_after = 0, r1_during_done = 0, r1_after_done = 0, in_after = 0;
  for (const auto& row : rows) {
    const double minute = cell(row[c_time]) / 60e9;
    const bool is_r2 = std::get<std::string>(row[c_region]) == "r2";
    if (is_r2) {
      if (minute >= 3 && minute <= 10) r2_before = std::max(r2_before, cell(row[c_ttft]));
      if (minute >= 13 && minute <= 20) r2_during += cell(row[c_ttft]) / 8;
      if (minute >= 24) r2_after = std::max(r2_after, cell(row[c_ttft]));
      if (minute >= 22) in_after += cell(row[c_in]);
    } else {
      if (minute >= 12 && minute <= 20) r1_during_done += cell(row[c_done]);
      if (minute >= 22) r1_after_done += cell(row[c_done]);
    }
  }
  INFO("r2 TTFT p50 before " << r2_before << " during " << r2_during << " after " << r2_after);
  CHECK(r2_during > r2_before);        // the bump
  CHECK(r2_after < r2_during);         // and its end
  CHECK(r1_during_done == 0);          // r1 served nothing while down
  CHECK(r1_after_done > 1000);         // and serves again after
  CHECK(in_after == 0);                // no more failover once r1 is back
  CHECK(w.ttft.quantile(0.5) > 0.07);  // includes the WAN round trip
}

TEST_CASE("per-region token counts add up to the service's", "[inference]") {
  // Regions report the prompt tokens that entered at them and the output tokens served by their
  // replicas; both sum to the service's totals, also while one region serves the other's traffic.
  auto s = test::small_service({{"r1", 8}, {"r2", 8}}, 1);
  s.arrivals.rate_per_s = 0.3 * 16 * saturation_rps(s);
  Rig rig(test::h100_regions({"r1", "r2"}, 1), one(s));
  const auto r1 = *rig.fleet.find_region("r1");
  rig.engine.schedule_at(SimTime::zero() + Duration::minutes(5), Phase::Failure, [&] {
    rig.fleet.begin_outage(ref(r1));
    rig.model->on_fleet_change(ref(r1));
  });
  rig.run(Duration::minutes(10));
  const auto& st = rig.model->stats(0);
  REQUIRE(st.regions.size() == 2);
  const auto& a = st.regions[0].counters;
  const auto& b = st.regions[1].counters;
  CHECK(st.counters.output_tokens > 0);
  CHECK(a.output_tokens > 0);
  CHECK(b.output_tokens > a.output_tokens);  // r2 served alone for the second half
  CHECK(a.output_tokens + b.output_tokens == Approx(st.counters.output_tokens));
  CHECK(a.prompt_tokens + b.prompt_tokens == Approx(st.counters.prompt_tokens));
}

TEST_CASE("segments of identical iterations give the same results as one event per iteration", "[inference]") {
  auto s = test::small_service({{"r1", 4}}, 1);
  // A replayed trace of 20,000 requests at 60% load, so both runs end with every request done.
  const double rate = 0.6 * 4 * saturation_rps(s);
  LengthSampler prompt(s.prompt), output(s.output);
  Rng rng(11);
  std::vector<TraceRequest> trace;
  double t = 0;
  for (int i = 0; i < 20000; ++i) {
    t += rng.exponential(rate);
    trace.push_back({SimTime::zero() + Duration::from_seconds(t), prompt.sample(rng), output.sample(rng), -1});
  }
  s.trace = trace;
  InferenceOptions per_iteration;
  per_iteration.segments = false;
  Rig a(test::h100_regions({"r1"}, 1), one(s));
  Rig b(test::h100_regions({"r1"}, 1), one(s), 1, per_iteration);
  a.run(Duration::from_seconds(t + 600));
  b.run(Duration::from_seconds(t + 600));
  const auto& x = a.model->stats(0);
  const auto& y = b.model->stats(0);
  REQUIRE(x.counters.completed == 20000);
  CHECK(x.counters.completed == y.counters.completed);
  CHECK(x.counters.output_tokens == y.counters.output_tokens);
  CHECK(x.iterations == y.iterations);
  CHECK(x.ttft.mean() == y.ttft.mean());
  CHECK(x.e2e.quantile(0.99) == y.e2e.quantile(0.99));
  CHECK(x.segments < y.segments);
  CHECK(y.segments == y.iterations);
}

TEST_CASE("a small KV cache preempts and recomputes", "[inference]") {
  auto s = test::small_service({{"r1", 1}}, 1);
  s.model.kv_bytes_per_token_override = 4e6;  // about 13,900 tokens of KV in the H100
  s.prompt = LengthSpec::fixed(1000);
  s.output = LengthSpec::fixed(2000);
  s.arrivals.rate_per_s = 2;
  Rig rig(test::h100_regions({"r1"}, 1), one(s));
  rig.run(Duration::minutes(5));
  const auto& st = rig.model->stats(0);
  CHECK(st.counters.preemptions > 0);
  CHECK(st.counters.completed > 0);
}

TEST_CASE("request level and fluid agree over one day of a 64-replica service", "[inference]") {
  // Llama-3-70B-like on 4 x H100 per replica, 64 replicas, a daily cycle peaking at 1.5x the mean,
  // four sequences per replica so that slots queue at the peak (and the day has only ~430,000 requests,
  // to keep the test quick).
  InferenceServiceSpec s = test::small_service({{"r1", 64}}, 1);
  s.model = LlmModelSpec::dense("llama-70b", 70.6e9, 80, 8192, 8, 128);
  s.replica.tp = 4;
  s.batching.max_seqs = 4;
  s.prompt = LengthSpec::lognormal(800, 0.7);
  s.output = LengthSpec::lognormal(1000, 0.6);
  s.output.max = 4000;
  for (int h = 0; h < 24; ++h) s.arrivals.diurnal[static_cast<size_t>(h)] = 1.0 + 0.5 * std::sin((h - 8) * M_PI / 12);
  const double sat = saturation_rps(s);
  s.arrivals.rate_per_s = 0.45 * 64 * sat;
  s.sample_interval = Duration::hours(1);
  auto fluid = s;
  fluid.mode = InferenceMode::Fluid;
  Rig req(test::h100_regions({"r1"}, 32), one(s));
  Rig flu(test::h100_regions({"r1"}, 32), one(fluid));
  req.run(Duration::days(1));
  flu.run(Duration::days(1));
  const auto& a = req.model->stats(0);
  const auto& b = flu.model->stats(0);
  INFO("replica saturation " << sat << " req/s, mean load " << s.arrivals.rate_per_s << " req/s");
  INFO("completed: request " << a.counters.completed << " fluid " << b.counters.completed);
  INFO("e2e p50: request " << a.e2e.quantile(0.5) << " fluid " << b.e2e.quantile(0.5));
  INFO("e2e p99: request " << a.e2e.quantile(0.99) << " fluid " << b.e2e.quantile(0.99));
  INFO("ttft p50: request " << a.ttft.quantile(0.5) << " fluid " << b.ttft.quantile(0.5));
  INFO("ttft p99: request " << a.ttft.quantile(0.99) << " fluid " << b.ttft.quantile(0.99));
  INFO("tpot p50: request " << a.tpot.quantile(0.5) << " fluid " << b.tpot.quantile(0.5));
  INFO("tokens: request " << a.counters.output_tokens << " fluid " << b.counters.output_tokens);
  CHECK(b.counters.completed == Approx(a.counters.completed).epsilon(0.02));
  CHECK(b.counters.output_tokens == Approx(a.counters.output_tokens).epsilon(0.02));
  CHECK(b.e2e.quantile(0.5) == Approx(a.e2e.quantile(0.5)).epsilon(0.10));
  CHECK(b.ttft.quantile(0.5) == Approx(a.ttft.quantile(0.5)).epsilon(0.25));
  CHECK(b.tpot.quantile(0.5) == Approx(a.tpot.quantile(0.5)).epsilon(0.10));
  CHECK(a.counters.completed > 3e5);
}
