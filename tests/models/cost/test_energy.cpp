// SPDX-License-Identifier: Apache-2.0
#include "tests/models/cost/cost_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace fleetsim;
using fleetsim::test::h100_region;
using fleetsim::test::round_cost_spec;

TEST_CASE("energy: GPU power is linear from idle to TDP", "[cost][energy]") {
  const AcceleratorPower p{"H100", 70, 700, 100};
  CHECK(gpu_power_w(p, 0) == 70);
  CHECK(gpu_power_w(p, 1) == 700);
  CHECK(gpu_power_w(p, 0.5) == Approx(385));
  // 10 busy at u = 0.5, 5 idle, 2 unusable (powered, idle): 10*385 + 7*70 + 17*100.
  CHECK(group_it_power_w(p, {.busy = 10, .idle = 5, .unusable = 2}, 0.5) == Approx(10 * 385 + 7 * 70 + 17 * 100));
}

// Utilization u(t) = (1 - cos(2 pi t / T)) / 2 over whole periods. Closed form of the energy:
//   E = N x (idle + (tdp - idle) x mean(u) + overhead) x PUE x duration, with mean(u) = 1/2,
// because the cosine integrates to zero over a period. The model samples the curve every T/n and
// holds each value until the next sample (left Riemann sum); for n >= 2 the sum of cos(2 pi k / n)
// over k = 0..n-1 is also exactly zero, so the sampled integral must equal the closed form. With
// N = 2000 GPUs, n = 4 and n = 6 give whole numbers of busy GPUs (0, 1000, 2000, 1000 and 0, 500,
// 1500, 2000, 1500, 500), so nothing is rounded.
TEST_CASE("energy: the integral over a diurnal utilization curve equals the closed form", "[cost][energy]") {
  for (const int n : {4, 6}) {
    CAPTURE(n);
    const FleetSpec fs = h100_region(250);
    Fleet fleet = Fleet::build(fs);
    Engine engine;
    Recorder rec;
    const Duration period = Duration::days(1);
    const Duration dt = Duration::ns(period.ticks() / n);
    CostModel cost(round_cost_spec(), fleet, engine, rec, dt, 0);
    const double N = 2000;
    cost.set_busy([&](RegionId, uint32_t) {
      const double t = static_cast<double>(engine.now().ticks()) / static_cast<double>(period.ticks());
      return static_cast<uint64_t>(std::llround(N * (1 - std::cos(2 * M_PI * t)) / 2));
    });
    cost.start();
    const int periods = 3;
    engine.run(SimTime::zero() + period * periods);
    cost.finish();
    const double seconds = 86400.0 * periods;
    const double closed_form_j = N * (70 + (700 - 70) * 0.5 + 100) * 1.2 * seconds;
    CHECK(cost.energy_j() == Approx(closed_form_j).epsilon(1e-12));
    CHECK(cost.energy_usd() == Approx(closed_form_j / 3.6e6 * 0.10).epsilon(1e-12));
    // The rows of cost.csv add up to the same energy.
    const TableId t = *rec.find_table("cost");
    double kwh = 0;
    for (const auto& row : rec.rows(t)) kwh += std::get<double>(row[rec.column_index(t, "energy_kwh")]);
    CHECK(kwh * 3.6e6 == Approx(closed_form_j).epsilon(1e-12));
    CHECK(rec.rows(t).size() == static_cast<size_t>(n * periods + 1));  // a row at 0 and after each interval
  }
}

TEST_CASE("energy: billing included leaves energy out of the total", "[cost][energy]") {
  const FleetSpec fs = h100_region(1);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  Recorder rec;
  CostSpec spec = round_cost_spec();
  spec.energy.billed_separately = false;
  CostModel cost(spec, fleet, engine, rec, Duration::hours(1), 0);
  cost.start();
  engine.run(SimTime::zero() + Duration::hours(10));
  // 8 idle GPUs for 10 h: (70 + 100) W x 8 x 1.2 x 10 h = 16.32 kWh; compute 8 x $8 x 10 h = $640.
  CHECK(cost.energy_j() / 3.6e6 == Approx(16.32));
  CHECK(cost.compute_usd() == Approx(640));
  CHECK(cost.total_usd() == Approx(640));
}
