// SPDX-License-Identifier: Apache-2.0
// Fluid TTFT against the request level on a grid of loads (issue 20, item 8): the bounds the fluid
// percentiles hold, stated and checked. The request level is the reference (it simulates every
// iteration); the fluid mode is an approximation of it, documented in docs/inference.md.
#include "models/inference/inference_model.hpp"
#include "tests/models/inference/inference_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace fleetsim;

namespace {

struct Figures {
  double ttft50, ttft90, ttft99, e2e50, tpot50, completed;
};

Figures run(const InferenceServiceSpec& s, Duration horizon) {
  Fleet fleet = Fleet::build(test::h100_regions({"r1"}, 4));
  const Catalog catalog = test::h100_catalog();
  Engine engine;
  const RngStreams streams(7);
  Recorder recorder{RecorderOptions{}};
  InferenceSpec spec;
  spec.services.push_back(s);
  InferenceModel model(spec, fleet, catalog, engine, streams, recorder);
  model.start(SimTime::zero() + horizon);
  engine.run(SimTime::zero() + horizon);
  const auto& st = model.stats(0);
  return {st.ttft.quantile(0.5), st.ttft.quantile(0.9), st.ttft.quantile(0.99), st.e2e.quantile(0.5),
          st.tpot.quantile(0.5), st.counters.completed};
}

}  // namespace

TEST_CASE("fluid TTFT percentiles stay within stated bounds of the request level across loads", "[inference]") {
  // 16 replicas of the 8B model on one H100 each, lognormal prompts (median 500, sigma 0.8) and outputs
  // (median 150, sigma 0.8), 30 minutes at each load of the grid (0.3 to 0.9 of saturation).
  auto s = test::small_service({{"r1", 16}}, 1);
  s.sample_interval = Duration::minutes(30);
  s.fluid_step = Duration::minutes(5);
  double sat = 0;
  {
    Fleet fleet = Fleet::build(test::h100_regions({"r1"}, 4));
    Engine engine;
    Recorder recorder{RecorderOptions{}};
    InferenceSpec spec;
    spec.services.push_back(s);
    InferenceModel probe(spec, fleet, test::h100_catalog(), engine, RngStreams(1), recorder);
    sat = probe.stats(0).replica_saturation_rps;
  }
  REQUIRE(sat > 0);
  for (const double load : {0.3, 0.5, 0.7, 0.85, 0.9}) {
    s.arrivals.rate_per_s = load * 16 * sat;
    auto f = s;
    f.mode = InferenceMode::Fluid;
    const Figures a = run(s, Duration::minutes(30));
    const Figures b = run(f, Duration::minutes(30));
    INFO("load " << load << ": TTFT p50 request " << a.ttft50 << " fluid " << b.ttft50 << "; p90 " << a.ttft90 << " / "
                 << b.ttft90 << "; p99 " << a.ttft99 << " / " << b.ttft99 << "; E2E p50 " << a.e2e50 << " / " << b.e2e50
                 << "; TPOT p50 " << a.tpot50 << " / " << b.tpot50);
    // The bounds (fluid / request), measured on this grid and documented in docs/inference.md. Measured:
    // TTFT p50 0.99 / 0.98 / 0.95 / 0.91 / 0.89, p90 0.89 / 0.81 / 0.73 / 0.66 / 0.63, p99 0.88 / 0.80 /
    // 0.71 / 0.64 / 0.61 at loads 0.3 / 0.5 / 0.7 / 0.85 / 0.9: the fluid tail is low, more so with load
    // (it leaves out the variance of the iteration time, the wait behind other prompts in a replica's
    // prefill FIFO and the per-replica fluctuation of the KV cache). The stated bound is linear in the
    // load: fluid p90 and p99 at least 0.95 - 0.37 load and 0.93 - 0.37 load of the request level's.
    CHECK(b.completed == Approx(a.completed).epsilon(0.02));
    CHECK(b.ttft50 / a.ttft50 == Approx(1).margin(0.12));
    CHECK(b.ttft90 / a.ttft90 >= 0.95 - 0.37 * load);
    CHECK(b.ttft90 / a.ttft90 <= 1.05);
    CHECK(b.ttft99 / a.ttft99 >= 0.93 - 0.37 * load);
    CHECK(b.ttft99 / a.ttft99 <= 1.05);
    CHECK(b.e2e50 / a.e2e50 == Approx(1).margin(0.05));
    CHECK(b.tpot50 / a.tpot50 == Approx(1).margin(0.05));
  }
}
