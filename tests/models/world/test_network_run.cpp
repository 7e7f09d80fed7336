// SPDX-License-Identifier: Apache-2.0
// A whole run of a topology scenario with fabric link failures and flow-level collective costing:
// network.link_failures and network.collective_costing reach the training job's step time.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>
#include <string>

using namespace fleetsim;

namespace {

nlohmann::json run(const std::vector<std::string>& sets) {
  LoadOptions lo;
  lo.until = "1h";
  for (const auto& s : sets) lo.overrides.push_back(parse_override(s));
  const Scenario s = load_scenario(std::string(FLEETSIM_SOURCE_DIR) + "/scenarios/topologies/h100-fat-tree-2to1.json", lo);
  return simulate(s, SimulationOptions{}).summary;
}

double step_s(const nlohmann::json& summary) { return summary["training"]["jobs"]["llm-70b"]["step_time_s"].get<double>(); }

}  // namespace

TEST_CASE("network run: 1% of fabric links failed slows the flow-costed step of a 16,384-GPU job",
          "[world][network]") {
  const auto healthy = run({"/network/collective_costing=\"flows\""});
  const auto failed = run({"/network/collective_costing=\"flows\"", "/network/link_failures=[{\"fraction\": 0.01}]"});
  const auto aggregate = run({});
  // 1% of the 8,610 leaf-spine and 8,736 spine-core links of this fat-tree: round(173.46) = 173.
  const auto& lf = failed["network"]["link_failures"];
  CHECK(lf["links_down_at_end"] == 173);
  CHECK(lf["by_kind"]["leaf_spine"]["eligible_links"].get<int>() + lf["by_kind"]["spine_core"]["eligible_links"].get<int>() == 17346);
  // Every collective of the job is costed on the fabric (none by the alpha-beta fallback).
  CHECK(healthy["network"]["collectives_costed_by_fallback"] == 0);
  CHECK(failed["network"]["collectives_costed_by_fallback"] == 0);
  // Flows costing sees the ECMP collisions between the 32 concurrent DP rings that the aggregate
  // costing (one ring alone) cannot; failed links move more flows onto fewer links.
  CHECK(step_s(healthy) > step_s(aggregate) * 1.05);
  CHECK(step_s(failed) > step_s(healthy) * 1.01);
  CHECK(failed["training"]["jobs"]["llm-70b"]["interruptions"] == 0);  // no partition at 1%
}

TEST_CASE("network run: bad link failure specs are rejected with their pointers", "[world][network]") {
  auto errors_of = [](const std::string& set) {
    LoadOptions lo;
    lo.overrides.push_back(parse_override(set));
    try {
      load_scenario(std::string(FLEETSIM_SOURCE_DIR) + "/scenarios/topologies/h100-fat-tree-2to1.json", lo);
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK_THAT(errors_of("/network/link_failures=[{\"fraction\": 0.01, \"count\": 3}]"),
             Catch::Contains("/network/link_failures/0: give exactly one of \"fraction\""));
  CHECK_THAT(errors_of("/network/link_failures=[{\"fraction\": 0.01, \"tiers\": [\"access\"]}]"),
             Catch::Contains("/network/link_failures/0/tiers/0: \"access\" links are not fabric-internal"));
  CHECK_THAT(errors_of("/network/link_failures=[{\"count\": 3, \"cluster\": \"trian\"}]"),
             Catch::Contains("unknown cluster \"trian\" (did you mean \"train\"?)"));
  CHECK_THAT(errors_of("/network/link_failures=[{\"fraction\": 0}]"), Catch::Contains("/network/link_failures/0/fraction"));
  CHECK_THAT(errors_of("/network/link_failures=[{\"mtbf\": \"1000h\", \"at\": \"1h\"}]"),
             Catch::Contains("/network/link_failures/0/at: \"at\" belongs to a set"));
  CHECK_THAT(errors_of("/network/link_failures=[{\"count\": 2, \"tiers\": [\"leaf_spin\"]}]"),
             Catch::Contains("leaf_spine"));
  CHECK_THAT(errors_of("/network/collective_costing=\"flow\""), Catch::Contains("/network/collective_costing"));
}

TEST_CASE("network run: links failing mid-run re-cost the running job's step, and their repair restores it",
          "[world][network]") {
  // The same 1% of links (the run's seed) from 15 min to 35 min: the step in training.csv goes from the
  // healthy flows-costed value to the value of a run with them down from the start, and back.
  const auto degraded_from_start =
      run({"/network/collective_costing=\"flows\"", "/network/link_failures=[{\"fraction\": 0.01}]"});
  const auto healthy = run({"/network/collective_costing=\"flows\""});
  const test::TempDir tmp("network-run");
  LoadOptions lo;
  lo.until = "1h";
  for (const char* set : {"/network/collective_costing=\"flows\"", "/sample_interval=\"10min\"",
                          "/network/link_failures=[{\"fraction\": 0.01, \"at\": \"15min\", \"for\": \"20min\"}]"})
    lo.overrides.push_back(parse_override(set));
  const Scenario s = load_scenario(std::string(FLEETSIM_SOURCE_DIR) + "/scenarios/topologies/h100-fat-tree-2to1.json", lo);
  SimulationOptions opt;
  opt.directory = tmp.path;
  const auto summary = simulate(s, opt).summary;
  CHECK(summary["network"]["link_failures"]["links_down_at_end"] == 0);
  // training.csv: time_ns,job,state,tokens,tokens_committed,dp,step_time_s,ettr
  std::map<int64_t, double> step_at;  // minute -> step_time_s
  std::istringstream csv(test::read_all(tmp.path / "training.csv"));
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    std::vector<std::string> f;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) f.push_back(c);
    REQUIRE(f.size() == 8);
    step_at[std::stoll(f[0]) / 60'000'000'000] = std::stod(f[6]);
  }
  const double h = step_s(healthy), d = step_s(degraded_from_start);
  REQUIRE(d > h * 1.01);
  CHECK(step_at.at(10) == Approx(h).epsilon(1e-6));
  CHECK(step_at.at(20) == Approx(d).epsilon(1e-6));
  CHECK(step_at.at(30) == Approx(d).epsilon(1e-6));
  CHECK(step_at.at(40) == Approx(h).epsilon(1e-6));
  CHECK(summary["training"]["jobs"]["llm-70b"]["interruptions"] == 0);
}

TEST_CASE("network run: fabric links failing under a placement split it and interrupt the job until repaired",
          "[world][network]") {
  // Every spine-core link down from 15 min to 35 min: the pods of the fat-tree cannot reach one
  // another, the 16,384-GPU job spanning all of them is interrupted ("network partition") and resumes
  // once the links are back.
  const auto summary = run({"/network/link_failures=[{\"count\": 1000000, \"tiers\": [\"spine_core\"], \"at\": \"15min\", \"for\": \"20min\"}]"});
  const auto& job = summary["training"]["jobs"]["llm-70b"];
  CHECK(job["interruptions"] == 1);
  REQUIRE(job["by_cause"].contains("network partition"));
  CHECK(job["by_cause"]["network partition"]["interruptions"] == 1);
  CHECK(job["state"] == "running");
  CHECK(summary["network"]["link_failures"]["by_kind"]["spine_core"]["failures"] == 8736);
}
