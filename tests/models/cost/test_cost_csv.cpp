// SPDX-License-Identifier: Apache-2.0
// cost.csv's columns are a contract with its readers (the report, users' notebooks): this test pins
// them. Adding a column at the end is fine (update the list here and docs/outputs.md); renaming or
// reordering one breaks readers.
#include "tests/models/cost/cost_fixtures.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace fleetsim;

TEST_CASE("cost.csv: the header is stable", "[cost][csv]") {
  const std::string header =
      "time_ns,region,accelerator,gpus_paid,gpus_busy,gpus_idle,gpus_failed,power_kw,energy_kwh,energy_usd,"
      "compute_usd,total_usd,cumulative_usd,commitment_plan_usd,fleet_cumulative_usd,carbon_kg,usd_per_gpu_hour";
  std::string joined;
  for (const auto& c : cost_csv_columns()) joined += (joined.empty() ? "" : ",") + c;
  CHECK(joined == header);

  // And the file a run writes starts with exactly that line.
  const fleetsim::test::TempDir tmp("cost-csv");
  const auto& dir = tmp.path;
  {
    const FleetSpec fs = fleetsim::test::h100_region(1);
    Fleet fleet = Fleet::build(fs);
    Engine engine;
    Recorder rec(RecorderOptions{.directory = dir});
    CostModel cost(fleetsim::test::round_cost_spec(), fleet, engine, rec, Duration::hours(1), 0);
    cost.start();
    engine.run(SimTime::zero() + Duration::hours(2));
    cost.write_summary({});
    rec.finish(RunInfo{});
  }
  std::ifstream in(dir / "cost.csv");
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  CHECK(first == header);
  // Without a commitment the plan column is empty; with carbon set, carbon_kg is filled.
  CHECK(second == "0,r1,H100,8,0,8,0,1.632,0,0,0,0,0,,0,0,8");
}
