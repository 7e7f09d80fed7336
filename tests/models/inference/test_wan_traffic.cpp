// SPDX-License-Identifier: Apache-2.0
// Re-routed requests on the WAN (WanFabric): what failover publishes, checked against the requests it
// moved (their prompts out at kWanBytesPerToken, their outputs back).
#include "models/inference/inference_model.hpp"
#include "tests/models/inference/inference_fixtures.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace fleetsim;

namespace {

/// Keeps every publish: when, and the flows.
struct RecordingWan final : WanFabric {
  const Engine* engine = nullptr;
  std::vector<std::pair<SimTime, std::vector<WanFlow>>> published;
  void publish(size_t service, std::span<const WanFlow> flows) override {
    CHECK(service == 0);
    published.emplace_back(engine->now(), std::vector<WanFlow>(flows.begin(), flows.end()));
  }
  /// Bytes per (from, to) over the run: every publish holds one sample interval's average.
  std::map<std::pair<uint32_t, uint32_t>, double> bytes(double interval_s) const {
    std::map<std::pair<uint32_t, uint32_t>, double> out;
    for (const auto& [t, flows] : published)
      for (const WanFlow& f : flows) out[{f.from_region, f.to_region}] += f.bytes_per_s * interval_s;
    return out;
  }
};

struct Outcome {
  RecordingWan wan;
  InferenceServiceStats stats;
  double prompt_mean = 0, output_mean = 0;
};

/// r1 and r2 at 35% load each; r1 is dark from minute 10 to 20; one-minute rows; no spill-over, so
/// everything re-routed is failover from r1 to r2.
void run_outage(InferenceMode mode, Outcome& out) {
  auto s = test::small_service({{"r1", 8}, {"r2", 8}}, 1);
  s.mode = mode;
  s.routing.spillover = false;
  s.sample_interval = Duration::minutes(1);
  Engine engine;
  RngStreams streams(7);
  Recorder recorder{RecorderOptions{}};
  Fleet fleet = Fleet::build(test::h100_regions({"r1", "r2"}, 1));
  const Catalog catalog = test::h100_catalog();
  double sat = 0;
  {
    Engine e;
    Recorder r{RecorderOptions{}};
    Fleet f = Fleet::build(test::h100_regions({"r1", "r2"}, 64));
    InferenceSpec probe;
    probe.services.push_back(s);
    sat = InferenceModel(probe, f, catalog, e, streams, r).stats(0).replica_saturation_rps;
  }
  s.arrivals.rate_per_s = 0.35 * 16 * sat;
  InferenceSpec spec;
  spec.services.push_back(s);
  out.wan.engine = &engine;
  InferenceOptions opt;
  opt.wan_fabric = &out.wan;
  InferenceModel model(spec, fleet, catalog, engine, streams, recorder, opt);
  const auto r1 = *fleet.find_region("r1");
  engine.schedule_at(SimTime::zero() + Duration::minutes(10), Phase::Failure, [&] {
    fleet.begin_outage(ref(r1));
    model.on_fleet_change(ref(r1));
  });
  engine.schedule_at(SimTime::zero() + Duration::minutes(20), Phase::Repair, [&] {
    fleet.end_outage(ref(r1));
    model.on_fleet_change(ref(r1));
  });
  model.start(SimTime::zero() + Duration::minutes(30));
  engine.run(SimTime::zero() + Duration::minutes(30));
  out.stats = model.stats(0);
  out.prompt_mean = LengthSampler(s.prompt).mean();
  out.output_mean = LengthSampler(s.output).mean();
}

void check_windows(const RecordingWan& wan) {
  REQUIRE(wan.published.size() >= 2);
  // Nothing before r1 goes dark (the row at minute 10 comes after the outage's first instant, whose
  // running requests start over at r2).
  CHECK(wan.published.front().first >= SimTime::zero() + Duration::minutes(10));
  // Once r1 serves again the WAN is cleared, once, and nothing more is published.
  CHECK(wan.published.back().second.empty());
  CHECK(wan.published.back().first > SimTime::zero() + Duration::minutes(20));
  CHECK(wan.published.back().first <= SimTime::zero() + Duration::minutes(23));  // after the weight load
  for (const auto& [t, flows] : wan.published)
    for (const WanFlow& f : flows) CHECK(((f.from_region == 0 && f.to_region == 1) || (f.from_region == 1 && f.to_region == 0)));
}

}  // namespace

TEST_CASE("failover in request mode puts the moved prompts out and their outputs back on the WAN", "[inference][wan]") {
  Outcome o;
  run_outage(InferenceMode::Request, o);
  check_windows(o.wan);
  const auto bytes = o.wan.bytes(60);
  const double moved = o.stats.regions[0].counters.rerouted_out;  // r1's requests served at r2 (once each)
  REQUIRE(moved > 1000);
  INFO("moved " << moved << " requests; out " << bytes.at({0, 1}) << " B, back " << bytes.at({1, 0}) << " B");
  // The published averages add up to what the service counted, to rounding.
  CHECK(bytes.at({0, 1}) + bytes.at({1, 0}) == Approx(o.stats.wan_bytes).epsilon(1e-9));
  // Independent of the bookkeeping: the moved requests' sampled lengths average the distributions' means
  // (lognormal, CV about 0.9: over 1,000+ requests the sample mean is within 10% at far beyond 3 sigma).
  CHECK(bytes.at({0, 1}) == Approx(moved * o.prompt_mean * kWanBytesPerToken).epsilon(0.10));
  CHECK(bytes.at({1, 0}) == Approx(moved * o.output_mean * kWanBytesPerToken).epsilon(0.10));
  CHECK(o.stats.wan_peak_bytes_per_s >= (bytes.at({0, 1}) + bytes.at({1, 0})) / (10 * 60.0));  // a peak is >= the mean
}

TEST_CASE("failover in fluid mode loads the WAN with the moved rate times the mean request", "[inference][wan]") {
  Outcome o;
  run_outage(InferenceMode::Fluid, o);
  check_windows(o.wan);
  const auto bytes = o.wan.bytes(60);
  const double moved = o.stats.regions[0].counters.rerouted_out;
  REQUIRE(moved > 1000);
  // The fluid mode moves expected requests: the bytes are exactly the means times the moved count.
  CHECK(bytes.at({0, 1}) == Approx(moved * o.prompt_mean * kWanBytesPerToken).epsilon(1e-9));
  CHECK(bytes.at({1, 0}) == Approx(moved * o.output_mean * kWanBytesPerToken).epsilon(1e-9));
  CHECK(o.stats.wan_bytes == Approx(bytes.at({0, 1}) + bytes.at({1, 0})).epsilon(1e-9));
}

TEST_CASE("without a WanFabric nothing is counted on the WAN", "[inference][wan]") {
  auto s = test::small_service({{"r1", 2}, {"r2", 2}}, 5);
  InferenceSpec spec;
  spec.services.push_back(s);
  Engine engine;
  RngStreams streams(1);
  Recorder recorder{RecorderOptions{}};
  Fleet fleet = Fleet::build(test::h100_regions({"r1", "r2"}, 1));
  InferenceModel model(spec, fleet, test::h100_catalog(), engine, streams, recorder);
  fleet.begin_outage(ref(*fleet.find_region("r1")));
  model.on_fleet_change(ref(*fleet.find_region("r1")));
  model.start(SimTime::zero() + Duration::minutes(5));
  engine.run(SimTime::zero() + Duration::minutes(5));
  CHECK(model.stats(0).counters.rerouted_out > 0);
  CHECK(model.stats(0).wan_bytes == 0);
}
