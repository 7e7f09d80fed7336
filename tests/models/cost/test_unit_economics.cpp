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

// The same outage and a failed node inside one daily sample interval: both are billed from the
// instant they happen, not from the next sample. By hand, 4 nodes (32 H100) at $8/GPU-h, energy
// included, 24 busy: node 3 fails at 1 h and is repaired at 5 h (8 GPUs unusable for 4 h, of which
// the busy count keeps 24 of the 24 usable, so idle drops from 8 to 0); the region's outage runs
// 2 h to 8.5 h, so paid idle during it is 8 GPUs x (8.5 - 5) h x $8 = $224 and paid failed
// 8 x (5 - 2) x $8 = $192. With billing only at samples (every 24 h) all of this is invisible.
TEST_CASE("cost: changes between samples are billed from the instant they happen", "[cost][economics]") {
  const FleetSpec fs = fleetsim::test::h100_region(4);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  Recorder rec;
  CostSpec spec = fleetsim::test::round_cost_spec();
  spec.energy.billed_separately = false;
  CostModel cost(spec, fleet, engine, rec, Duration::hours(24), 0);
  cost.set_busy([](RegionId, uint32_t) { return uint64_t{24}; });
  cost.start();
  const auto at = [](double h) { return SimTime::zero() + Duration::minutes(static_cast<int64_t>(h * 60)); };
  engine.schedule_at(at(1), Phase::Failure, [&] {
    fleet.set_health(ref(NodeId{3}), Health::Failed);
    cost.changed();
  });
  engine.schedule_at(at(2), Phase::Failure, [&] { cost.outage(RegionId{0}, true); });
  engine.schedule_at(at(5), Phase::Repair, [&] {
    fleet.set_health(ref(NodeId{3}), Health::Healthy);
    cost.changed();
  });
  engine.schedule_at(at(8.5), Phase::Failure, [&] { cost.outage(RegionId{0}, false); });
  engine.run(at(24));
  cost.write_summary({});
  const auto& s = rec.summary()["cost"];
  CHECK(s["gpu_hours"]["paid"].get<double>() == Approx(32 * 24));
  CHECK(s["gpu_hours"]["failed"].get<double>() == Approx(8 * 4));
  CHECK(s["gpu_hours"]["idle"].get<double>() == Approx(8 * 20));
  CHECK(s["gpu_hours"]["busy"].get<double>() == Approx(24 * 24));
  CHECK(s["outage"]["paid_failed_usd"].get<double>() == Approx(8 * 3 * 8));
  CHECK(s["outage"]["paid_idle_usd"].get<double>() == Approx(8 * 3.5 * 8));
  // One row per sample, as before: the changes add no rows.
  CHECK(rec.rows(*rec.find_table("cost")).size() == 2);
}
