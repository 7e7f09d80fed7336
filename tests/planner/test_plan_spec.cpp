// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/reader.hpp"
#include "tools/planner/plan_spec.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;
using namespace fleetsim::planner;
using nlohmann::json;

namespace {
std::string errors_of(const json& plan) {
  Diagnostics diags("plan.json");
  (void)read_plan(Reader::root(plan, diags));
  return diags.empty() ? "" : diags.render();
}
}  // namespace

TEST_CASE("a plan's variables, constraints and objective are read with their defaults", "[planner]") {
  const json plan = json::parse(R"({
    "seeds": {"min": 2, "max": 8},
    "variables": [
      {"name": "replicas", "pointer": "/inference/services/0/regions/0/replicas", "integer": [1, 64], "monotone": "helps"},
      {"name": "interval", "pointer": "/training/jobs/0/checkpoint/interval", "continuous": [600, 7200], "unit": "s"},
      {"name": "gpu", "pointer": "/x", "set": ["H100", "GB200"]},
      {"name": "arrival", "pointer": "/y", "date": ["2026-01-01", "2026-01-31"], "step": "7d"}],
    "variants": [{"name": "normal"}, {"name": "outage", "set": {"/failures/presets": ["p"]}}],
    "constraints": [{"metric": "/a/b", "at_least": 0.999, "over_seeds": "p90", "variants": ["outage"]},
                    {"metric": "/c", "at_most": 2}],
    "objective": {"minimize": "/cost/total_usd"}})");
  Diagnostics diags("plan.json");
  const PlanSpec spec = read_plan(Reader::root(plan, diags));
  REQUIRE(diags.empty());
  CHECK(spec.seeds_min == 2);
  CHECK(spec.seeds_max == 8);
  CHECK(spec.max_evaluations == 200);
  REQUIRE(spec.variables.size() == 4);
  CHECK(spec.variables[0].points() == 64);
  CHECK(spec.variables[0].monotone);
  CHECK(spec.variables[0].point(63) == json(64));
  CHECK(spec.variables[1].at_fraction(0.5) == json("3900 s"));
  CHECK(spec.variables[2].points() == 2);
  CHECK(spec.variables[3].points() == 5);  // 1, 8, 15, 22, 29 January
  CHECK(spec.variables[3].point(1) == json("2026-01-08T00:00:00Z"));
  REQUIRE(spec.constraints.size() == 2);
  CHECK(spec.constraints[0].over.percentile);
  CHECK(spec.constraints[0].over.p == 90);
  CHECK(spec.constraints[0].variants == std::vector<size_t>{1});
  CHECK(spec.constraints[1].variants == std::vector<size_t>{0, 1});  // every variant by default
  CHECK(!spec.constraints[1].at_least);
  CHECK(spec.objective.minimize);
  CHECK(spec.metrics() == std::vector<std::string>{"/cost/total_usd", "/a/b", "/c"});
}

TEST_CASE("plan errors name the JSON pointer, the value and what was expected", "[planner]") {
  CHECK_THAT(errors_of(json::parse(R"({"variables": [{"name": "r", "pointer": "/a", "integer": [5, 1]}],
                                      "objective": {"minimize": "/x"}})")),
             Catch::Contains("/variables/0/integer: min 5 is above max 1"));
  CHECK_THAT(errors_of(json::parse(R"({"variables": [{"name": "r", "pointer": "a", "integer": [1, 2]}],
                                      "objective": {"minimize": "/x"}})")),
             Catch::Contains("/variables/0/pointer: expected a JSON pointer"));
  CHECK_THAT(errors_of(json::parse(R"({"variables": [{"name": "r", "pointer": "/a", "integer": [1, 2], "set": [1]}],
                                      "objective": {"minimize": "/x"}})")),
             Catch::Contains("/variables/0: expected exactly one of"));
  CHECK_THAT(errors_of(json::parse(R"({"variables": [{"name": "r", "pointer": "/a", "integer": [1, 2]}],
                                      "variants": [{"name": "normal"}, {"name": "outage"}],
                                      "constraints": [{"metric": "/m", "at_least": 1, "variants": ["outgae"]}],
                                      "objective": {"minimize": "/x"}})")),
             Catch::Contains("/constraints/0/variants/0: no variant named \"outgae\" (did you mean \"outage\"?)"));
  CHECK_THAT(errors_of(json::parse(R"({"variables": [{"name": "r", "pointer": "/a", "integer": [1, 2]}],
                                      "constraints": [{"metric": "/m", "at_least": 1, "over_seeds": "p190"}],
                                      "objective": {"minimize": "/x"}})")),
             Catch::Contains("/constraints/0/over_seeds: expected \"mean\", \"median\" or a percentile"));
  CHECK_THAT(errors_of(json::parse(R"({"variables": [{"name": "r", "pointer": "/a", "continuous": [1, 2]}],
                                      "objective": {"minimize": "/x"}, "second_objective": {"maximize": "/y"}})")),
             Catch::Contains("variable \"r\" is continuous"));
  CHECK_THAT(errors_of(json::parse(R"({"variables": [{"name": "r", "pointer": "/a", "set": [1]}],
                                      "objective": {"minimize": "/x", "maximize": "/y"}})")),
             Catch::Contains("/objective: expected exactly one of \"minimize\" and \"maximize\""));
}

TEST_CASE("monotone directions, the monotone search and date ranges are read and checked", "[planner]") {
  const json plan = json::parse(R"({
    "variables": [
      {"name": "size", "pointer": "/fleet/ramps/0/add_gpus", "integer": [7200, 64800], "step": 7200, "monotone": "helps"},
      {"name": "arrival", "pointer": "/fleet/ramps/0/at", "date": ["2026-07-15", "2027-07-15"], "step": "91d", "monotone": "hurts"},
      {"name": "other", "pointer": "/fleet/ramps/1/at", "date": ["2026-07-15", "2027-07-15"], "step": "91d", "monotone": "hurts"}],
    "objective": {"minimize": "/cost/total_usd"}})");
  Diagnostics diags("plan.json");
  const PlanSpec spec = read_plan(Reader::root(plan, diags));
  REQUIRE(diags.empty());
  CHECK(spec.variables[0].monotone);
  CHECK(!spec.variables[0].larger_hurts);
  CHECK(spec.variables[1].monotone);
  CHECK(spec.variables[1].larger_hurts);
  CHECK(spec.variables[1].points() == 5);  // 15 July, 14 October, 13 January, 14 April, 14 July
  CHECK(spec.variables[1].point(4) == json("2027-07-14T00:00:00Z"));
  // A range of exactly two steps holds three dates (it held two while the step was read as ns * 1e-9).
  json exact = plan;
  exact["variables"][1]["date"] = {"2026-09-15", "2027-03-16"};
  const PlanSpec three = read_plan(Reader::root(exact, diags));
  REQUIRE(three.variables[1].points() == 3);
  CHECK(three.variables[1].point(2) == json("2027-03-16T00:00:00Z"));
  CHECK(spec.monotone_search == MonotoneSearch::Coordinate);  // three monotone variables
  json two = plan;
  two["variables"].erase(2);
  CHECK(read_plan(Reader::root(two, diags)).monotone_search == MonotoneSearch::Frontier);
  two["monotone_search"] = "coordinate";
  CHECK(read_plan(Reader::root(two, diags)).monotone_search == MonotoneSearch::Coordinate);
  CHECK(diags.empty());

  auto one_variable = [](const std::string& variable, const std::string& extra = "") {
    return json::parse(R"({"variables": [)" + variable + R"(], "objective": {"minimize": "/x"})" + extra + "}");
  };
  CHECK_THAT(errors_of(one_variable(R"({"name": "a", "pointer": "/a", "date": ["2026-13-01", "2027-01-01"]})")),
             Catch::Contains("/variables/0/date/0") && Catch::Contains("2026-13-01"));
  CHECK_THAT(errors_of(one_variable(R"({"name": "a", "pointer": "/a", "date": ["2027-01-01", "2026-01-01"]})")),
             Catch::Contains("/variables/0/date: min 2027-01-01T00:00:00Z is above max 2026-01-01T00:00:00Z"));
  // A bound that does not read is one error, not also a range "above" the zero it left behind.
  const std::string bad_day = errors_of(one_variable(R"({"name": "a", "pointer": "/a", "date": ["2026-01-01", "2026-02-30"]})"));
  CHECK_THAT(bad_day, Catch::Contains("/variables/0/date/1: invalid UTC time \"2026-02-30\": day 30 does not exist"));
  CHECK_THAT(bad_day, !Catch::Contains("above max"));
  CHECK_THAT(errors_of(one_variable(R"({"name": "a", "pointer": "/a", "date": ["2026-01-01", "2027-01-01"], "step": "30x"})")),
             Catch::Contains("/variables/0/step") && Catch::Contains("30x"));
  CHECK_THAT(errors_of(one_variable(R"({"name": "a", "pointer": "/a", "date": "2026-01-01"})")),
             Catch::Contains("/variables/0/date: expected [min, max]"));
  CHECK_THAT(errors_of(one_variable(R"({"name": "a", "pointer": "/a", "set": [1, 2], "monotone": "hurts"})")),
             Catch::Contains("/variables/0/monotone: \"monotone\": \"hurts\" applies to \"integer\" and \"date\" variables"));
  CHECK_THAT(errors_of(one_variable(R"({"name": "a", "pointer": "/a", "integer": [1, 2], "monotone": "later"})")),
             Catch::Contains("/variables/0/monotone") && Catch::Contains("later") && Catch::Contains("hurts"));
  CHECK_THAT(errors_of(one_variable(R"({"name": "a", "pointer": "/a", "integer": [1, 2]})", R"(, "monotone_search": "grid")")),
             Catch::Contains("/monotone_search") && Catch::Contains("grid") && Catch::Contains("frontier"));
}
