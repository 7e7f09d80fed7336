// SPDX-License-Identifier: Apache-2.0
#include "models/cost/pricing.hpp"
#include "tests/models/cost/cost_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;
using fleetsim::test::h100_region;
using fleetsim::test::round_cost_spec;

namespace {
constexpr double kHour = 3600;
constexpr double kDay = 86400;
}  // namespace

TEST_CASE("pricing: rates of each model", "[cost][pricing]") {
  const double od = 6.88 / kHour;  // p5.48xlarge $55.04/h over 8 GPUs
  PricingRule reserved{.model = PricingModel::Reserved, .discount = 0.4};
  CHECK(rule_rate(reserved, od) * kHour == Approx(6.88 * 0.6));
  PricingRule block{.model = PricingModel::CapacityBlock, .usd_per_gpu_s = 39.33 / 8 / kHour};
  CHECK(rule_rate(block, od) * kHour == Approx(4.91625));
  PricingRule override_od{.model = PricingModel::OnDemand, .usd_per_gpu_s = 14.2416 / kHour};
  CHECK(rule_rate(override_od, od) * kHour == Approx(14.2416));
}

TEST_CASE("pricing: the first matching rule applies", "[cost][pricing]") {
  const std::vector<PricingRule> rules = {{.region = "us-east-1", .accelerator = "H100", .discount = 0.1},
                                          {.accelerator = "H100", .discount = 0.2},
                                          {.discount = 0.3}};
  CHECK(match_rule(rules, "us-east-1", "H100") == &rules[0]);
  CHECK(match_rule(rules, "us-west-2", "H100") == &rules[1]);
  CHECK(match_rule(rules, "us-west-2", "GB200") == &rules[2]);
  CHECK(match_rule(std::span<const PricingRule>{}, "a", "b") == nullptr);
}

// A 1-year reservation at 40% off that ends 36 h into a 48-h span: 36 h at 0.6 x r0 and 12 h at r0.
TEST_CASE("pricing: a span crossing the end of a term is split at the edge", "[cost][pricing]") {
  const double r0 = 8.0 / kHour;
  const PricingRule rule{.model = PricingModel::Reserved, .discount = 0.4, .from_s = -365 * kDay + 36 * kHour,
                         .until_s = 36 * kHour};
  CHECK(gpu_cost_usd(r0, &rule, 0, 48 * kHour) == Approx(36 * 8 * 0.6 + 12 * 8));
  CHECK(gpu_cost_usd(r0, &rule, 40 * kHour, 48 * kHour) == Approx(8 * 8));
  CHECK(gpu_cost_usd(r0, nullptr, 0, 10 * kHour) == Approx(80));
  CHECK(gpu_cost_usd(r0, &rule, 5, 5) == 0);
  CHECK(gpu_rate_at(r0, &rule, 35 * kHour) == Approx(0.6 * r0));
  CHECK(gpu_rate_at(r0, &rule, 36 * kHour) == Approx(r0));  // the window is half-open
}

// The model bills paid GPUs (installed, busy or not) at the rule's rate. 2 nodes = 16 GPUs, a
// capacity block of $4/GPU-h from hour 10 to hour 20 of a 30-h run, On-Demand $8/GPU-h outside:
// 16 x (20 x 8 + 10 x 4) = $3,200, whatever the samples (every 7 h, so edges fall mid-interval).
TEST_CASE("pricing: the cost model bills a capacity block inside its window only", "[cost][pricing]") {
  const FleetSpec fs = h100_region(2);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  Recorder rec;
  CostSpec spec = round_cost_spec();
  spec.energy.billed_separately = false;
  spec.pricing.push_back({.model = PricingModel::CapacityBlock, .usd_per_gpu_s = 4.0 / kHour, .from_s = 10 * kHour,
                          .until_s = 20 * kHour});
  CostModel cost(spec, fleet, engine, rec, Duration::hours(7), 0);
  cost.start();
  engine.run(SimTime::zero() + Duration::hours(30));
  cost.finish();
  CHECK(cost.compute_usd() == Approx(16 * (20 * 8 + 10 * 4)));
  CHECK(cost.total_usd() == Approx(cost.compute_usd()));
}

// Busy, idle and failed GPUs: the scheduler says 8 are busy; a failed node makes 8 unusable; the
// rest are idle. Paid for all 24.
TEST_CASE("pricing: paid capacity is split into busy, idle and failed", "[cost][pricing]") {
  const FleetSpec fs = h100_region(3);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  Recorder rec;
  CostModel cost(round_cost_spec(), fleet, engine, rec, Duration::hours(1), 0);
  cost.set_busy([](RegionId, uint32_t) { return uint64_t{8}; });
  fleet.set_health(ref(NodeId{2}), Health::Failed);
  cost.start();
  engine.run(SimTime::zero() + Duration::hours(2));
  const TableId t = *rec.find_table("cost");
  const auto& row = rec.rows(t).back();
  CHECK(std::get<int64_t>(row[rec.column_index(t, "gpus_paid")]) == 24);
  CHECK(std::get<int64_t>(row[rec.column_index(t, "gpus_busy")]) == 8);
  CHECK(std::get<int64_t>(row[rec.column_index(t, "gpus_idle")]) == 8);
  CHECK(std::get<int64_t>(row[rec.column_index(t, "gpus_failed")]) == 8);
  cost.write_summary({});
  const auto& s = rec.summary()["cost"];
  CHECK(s["gpu_hours"]["paid"].get<double>() == Approx(48));
  CHECK(s["gpu_hours"]["busy"].get<double>() == Approx(16));
  CHECK(s["gpu_hours"]["failed"].get<double>() == Approx(16));
  // Paid idle: 8 GPUs x 2 h x ($8 + idle energy 170 W x 1.2 x $0.1/kWh).
  CHECK(s["paid_idle_usd"].get<double>() == Approx(16 * (8 + 0.170 * 1.2 * 0.1)));
}
