// SPDX-License-Identifier: Apache-2.0
#include "tests/models/cost/cost_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;

// 4 nodes (32 H100) at $8/GPU-h for 10 h, energy included in the price. A training job holds 16 GPUs
// (busy), a service 8 (busy); 8 idle. By hand:
//   job: 16 x 10 h x $8 = $1,280; it lost 2 h of its 16 GPUs (32 GPU-h), 1 h of them to an outage:
//        lost work $256, of which $128 in the outage; 1e9 tokens -> $1.28 per million.
//   service: 8 x 10 x 8 = $640 over 2e8 prompt + 6e8 output tokens = $0.80 per million, $1.0667
//        per million output tokens; 100 failed x $0.01 + 1,000 late x $0.001 = $2 of penalties, of
//        which 50 failed and 200 late ($0.70) during its outage windows.
//   fleet: $2,560; busy 240 GPU-h, useful 240 - 32 = 208, $12.3077 per useful GPU-hour.
//   An outage of the region from hour 4 to hour 6: its 8 idle GPUs x 2 h x $8 = $128 paid idle.
TEST_CASE("unit economics: tokens, training runs, useful GPU-hours and outages by hand", "[cost][economics]") {
  const FleetSpec fs = fleetsim::test::h100_region(4);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  Recorder rec;
  CostSpec spec = fleetsim::test::round_cost_spec();
  spec.energy.billed_separately = false;
  spec.slo_penalty.usd_per_failed_request = 0.01;
  spec.slo_penalty.usd_per_late_request = 0.001;
  CostModel cost(spec, fleet, engine, rec, Duration::hours(1), 0);
  const uint32_t job = cost.add_consumer("training", "run1");
  const uint32_t svc = cost.add_consumer("inference", "chat");
  cost.set_busy([](RegionId, uint32_t) { return uint64_t{24}; });
  cost.set_usage([&](std::vector<CostModel::Use>& out) {
    out.push_back({job, RegionId{0}, 0, 16});
    out.push_back({svc, RegionId{0}, 0, 8});
  });
  cost.start();
  engine.schedule_at(SimTime::zero() + Duration::hours(4), Phase::Failure, [&] { cost.outage(RegionId{0}, true); });
  engine.schedule_at(SimTime::zero() + Duration::hours(6), Phase::Failure, [&] { cost.outage(RegionId{0}, false); });
  engine.run(SimTime::zero() + Duration::hours(10));
  CostInputs in;
  in.jobs.push_back({"run1", 16, 2 * 3600.0 * 16, 1 * 3600.0 * 16, 1e9, false});
  in.services.push_back({"chat", 2e8, 6e8, 100, 1000, 50, 200});
  cost.write_summary(in);
  const auto& s = rec.summary()["cost"];
  CHECK(s["total_usd"].get<double>() == Approx(2560));
  CHECK(s["training"]["run1"]["usd"].get<double>() == Approx(1280));
  CHECK(s["training"]["run1"]["lost_work_usd"].get<double>() == Approx(256));
  CHECK(s["training"]["run1"]["usd_per_million_tokens"].get<double>() == Approx(1.28));
  CHECK(s["usd_per_million_tokens"]["services"]["chat"].get<double>() == Approx(0.8));
  CHECK(s["usd_per_million_tokens"]["overall"].get<double>() == Approx(0.8));
  CHECK(s["inference"]["chat"]["usd_per_million_output_tokens"].get<double>() == Approx(640.0 / 600));
  CHECK(s["slo_penalty_usd"].get<double>() == Approx(2));
  CHECK(s["useful_gpu_hours"].get<double>() == Approx(208));
  CHECK(s["usd_per_useful_gpu_hour"].get<double>() == Approx(2560.0 / 208));
  CHECK(s["outage"]["paid_idle_usd"].get<double>() == Approx(128));
  CHECK(s["outage"]["paid_failed_usd"].get<double>() == 0);
  CHECK(s["outage"]["lost_work_usd"].get<double>() == Approx(128));
  CHECK(s["outage"]["slo_penalty_usd"].get<double>() == Approx(0.7));
  CHECK(s["outage"]["total_usd"].get<double>() == Approx(128 + 128 + 0.7));
}
