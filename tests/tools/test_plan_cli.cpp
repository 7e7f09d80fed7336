// SPDX-License-Identifier: Apache-2.0
// `fleetsim plan` from the command line: errors before anything runs, the outputs, --resume.
#include "tests/support/cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace fleetsim::test;
using nlohmann::json;

namespace {
// The inference-shape plan cut to one accelerator and one shape, so each test runs in a second.
std::string small_plan(const TempDir& tmp, const std::string& metric) {
  const json plan = {
      {"variables", {{{"name", "replicas"}, {"pointer", "/inference/services/0/regions/0/replicas"}, {"integer", {1, 64}}, {"monotone", "helps"}}}},
      {"constraints", {{{"metric", metric}, {"at_least", 0.99}}}},
      {"objective", {{"minimize", "/cost/usd_per_million_tokens/services/chat"}}}};
  const auto path = tmp.path / "plan.json";
  std::ofstream(path) << plan.dump(2);
  return path.string();
}
}  // namespace

TEST_CASE("plan: a metric the scenario does not produce is an error with its pointer, before any run", "[cli][plan]") {
  TempDir tmp("plan-err");
  const auto plan = small_plan(tmp, "/inference/chat/slo_attainmnet");
  const auto out = tmp.path / "out";
  const auto r = run_fleetsim(fmt::format("plan scenarios/plans/inference-shape.json '{}' -o '{}'", plan, out.string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("/constraints/0/metric: summary.json of this scenario has no number at "
                                    "\"/inference/chat/slo_attainmnet\" (did you mean \"/inference/chat/slo_attainment\"?)"));
  CHECK_THAT(r.err, Catch::Contains("nothing was run"));
  CHECK(!std::filesystem::exists(out));
}

TEST_CASE("plan: a variable at a pointer the scenario lacks is an error, exit 65", "[cli][plan]") {
  TempDir tmp("plan-ptr");
  const json plan = {{"variables", {{{"name", "r"}, {"pointer", "/inference/services/0/regions/0/replica"}, {"integer", {1, 4}}}}},
                     {"objective", {{"minimize", "/cost/total_usd"}}}};
  std::ofstream(tmp.path / "p.json") << plan.dump();
  const auto r = run_fleetsim(fmt::format("plan scenarios/plans/inference-shape.json '{}' -o '{}'",
                                          (tmp.path / "p.json").string(), (tmp.path / "out").string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("/variables/0/pointer: the scenario has no value at \"/inference/services/0/regions/0/replica\""));
}

TEST_CASE("plan: a date variable that cannot be read or set is an error with its pointer, exit 65", "[cli][plan]") {
  TempDir tmp("plan-date");
  // A day that does not exist, and dates written where the scenario has a replica count.
  const json plan = {{"variables", {{{"name", "arrival"}, {"pointer", "/inference/services/0/regions/0/replicas"},
                                     {"date", {"2026-01-01", "2026-02-30"}}, {"step", "7d"}, {"monotone", "hurts"}}}},
                     {"objective", {{"minimize", "/cost/total_usd"}}}};
  std::ofstream(tmp.path / "p.json") << plan.dump();
  const auto out = tmp.path / "out";
  auto r = run_fleetsim(fmt::format("plan scenarios/plans/inference-shape.json '{}' -o '{}'", (tmp.path / "p.json").string(),
                                    out.string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("/variables/0/date/1: invalid UTC time \"2026-02-30\""));
  CHECK(!std::filesystem::exists(out));
  json fixed = plan;
  fixed["variables"][0]["date"] = {"2026-01-01", "2026-02-01"};
  std::ofstream(tmp.path / "p.json") << fixed.dump();
  r = run_fleetsim(fmt::format("plan scenarios/plans/inference-shape.json '{}' -o '{}'", (tmp.path / "p.json").string(),
                               out.string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("/variables/0: the value \"2026-01-01T00:00:00Z\" cannot be set at "
                                    "/inference/services/0/regions/0/replicas"));
  CHECK_THAT(r.err, Catch::Contains("nothing was run"));
  CHECK(!std::filesystem::exists(out));
}

TEST_CASE("plan: writes the best plan, its scenario and every run; --resume runs nothing twice", "[cli][plan]") {
  TempDir tmp("plan-ok");
  const auto plan = small_plan(tmp, "/inference/chat/slo_attainment");
  const auto out = tmp.path / "out";
  const std::string args = fmt::format("plan scenarios/plans/inference-shape.json '{}' -o '{}' -j 2", plan, out.string());
  const auto r = run_fleetsim(args, tmp);
  REQUIRE(r.code == 0);
  const json doc = json::parse(read_all(out / "plan.json"));
  CHECK(doc["complete"] == true);
  CHECK(doc["found"] == true);
  const int replicas = doc["best"]["values"]["replicas"].get<int>();
  CHECK(replicas > 1);
  CHECK(doc["best"]["constraints"][0]["holds"] == true);
  CHECK(doc["best"]["constraints"][0]["binding"] == true);
  CHECK(doc["best"]["set"][0] == fmt::format("/inference/services/0/regions/0/replicas={}", replicas));
  // best-scenario.json runs as it is and meets the constraint.
  const auto run = run_fleetsim(fmt::format("run '{}' -o '{}' --quiet", (out / "best-scenario.json").string(),
                                            (tmp.path / "best").string()), tmp);
  REQUIRE(run.code == 0);
  const json summary = json::parse(read_all(tmp.path / "best" / "summary.json"));
  CHECK(summary["inference"]["chat"]["slo_attainment"].get<double>() >= 0.99);
  // One header line and one line per run.
  const std::string csv = read_all(out / "candidates.csv");
  const size_t lines = static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n'));
  CHECK(lines == 1 + doc["evaluations"]["runs"].get<size_t>());
  CHECK_THAT(csv, Catch::StartsWith("run,candidate,replicas,variant,replication,seed,status,"));

  const auto again = run_fleetsim(args + " --resume", tmp);
  REQUIRE(again.code == 0);
  const json resumed = json::parse(read_all(out / "plan.json"));
  CHECK(resumed["evaluations"]["runs"] == 0);
  CHECK(resumed["evaluations"]["runs_reused"] == doc["evaluations"]["runs"]);
  CHECK(resumed["best"] == doc["best"]);
  CHECK(read_all(out / "candidates.csv") == csv);
}
