// SPDX-License-Identifier: Apache-2.0
// The command line a newcomer meets first: `fleetsim init`, did-you-mean for commands and options,
// and warnings from validate (docs/first-scenario.md).
#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

using fleetsim::test::read_all;
using fleetsim::test::run_fleetsim;
using fleetsim::test::TempDir;

TEST_CASE("cli: init writes a starting scenario that validates and runs, with its schema", "[cli][init]") {
  TempDir tmp("cli-init");
  const auto dir = tmp.path / "work";
  const std::string file = (dir / "my-fleet.json").string();
  auto r = run_fleetsim("init '" + file + "'", tmp);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("my-fleet.json") && Catch::Contains("fleetsim.schema.json"));
  // The scenario: the guide's, named after the file, its "$schema" the file beside it.
  const auto doc = nlohmann::json::parse(read_all(dir / "my-fleet.json"));
  CHECK(doc["name"] == "my-fleet");
  CHECK(doc["$schema"] == "./fleetsim.schema.json");
  CHECK(doc.contains("$comment"));
  for (const char* section : {"fleet", "failures", "training", "inference", "cost"}) CHECK(doc.contains(section));
  // The schema beside it is the one `fleetsim schema` prints.
  const auto schema = run_fleetsim("schema", tmp);
  CHECK(read_all(dir / "fleetsim.schema.json") == schema.out);
  // It validates and runs (three days, past its outage on day 2, to keep the test quick).
  r = run_fleetsim("validate '" + file + "'", tmp);
  CHECK(r.code == 0);
  CHECK(r.err.empty());  // no warning either
  r = run_fleetsim("run '" + file + "' -o '" + (dir / "out").string() + "' --until 3d --quiet --no-report", tmp);
  CHECK(r.code == 0);
  CHECK(std::filesystem::exists(dir / "out" / "summary.json"));
  // It does not replace what is there without --force.
  std::ofstream(dir / "my-fleet.json") << "{\"edited\": true}";
  r = run_fleetsim("init '" + file + "'", tmp);
  CHECK(r.code == 73);
  CHECK_THAT(r.err, Catch::Contains("my-fleet.json exists; pass --force to replace it"));
  CHECK(read_all(dir / "my-fleet.json") == "{\"edited\": true}");
  r = run_fleetsim("init '" + file + "' --force", tmp);
  CHECK(r.code == 0);
  CHECK(nlohmann::json::parse(read_all(dir / "my-fleet.json"))["name"] == "my-fleet");
  // A different schema file of the same name is the user's: refused too.
  std::ofstream(dir / "fleetsim.schema.json") << "{}";
  r = run_fleetsim("init '" + (dir / "other.json").string() + "'", tmp);
  CHECK(r.code == 73);
  CHECK_FALSE(std::filesystem::exists(dir / "other.json"));
}

TEST_CASE("cli: did you mean, for commands and options", "[cli][did-you-mean]") {
  TempDir tmp("cli-dym");
  auto r = run_fleetsim("rnu scenarios/first-scenario.json", tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("error: unknown command \"rnu\" (did you mean \"run\"?)"));
  r = run_fleetsim("validaet scenarios/first-scenario.json", tmp);
  CHECK_THAT(r.err, Catch::Contains("(did you mean \"validate\"?)"));
  r = run_fleetsim("run scenarios/first-scenario.json --forse", tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("unrecognised option '--forse' (did you mean \"--force\"?)"));
  r = run_fleetsim("sweep scenarios/first-scenario.json --parma /seed=1,2", tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("(did you mean \"--param\"?)"));
  r = run_fleetsim("compare a b --metrik /x", tmp);
  CHECK_THAT(r.err, Catch::Contains("(did you mean \"--metric\"?)"));
}

TEST_CASE("cli: validate prints warnings and still succeeds", "[cli][warnings]") {
  TempDir tmp("cli-warn");
  auto r = run_fleetsim("validate scenarios/first-scenario.json --set '/cost/pricing/1/price=$6.88/h'", tmp);
  CHECK(r.code == 0);
  CHECK_THAT(r.err, Catch::StartsWith("warning: scenarios/first-scenario.json: /cost/pricing/1/price: \"$6.88/h\" is "
                                      "a price per instance-hour"));
  r = run_fleetsim("validate --format json scenarios/first-scenario.json --set '/cost/pricing/1/price=$6.88/h'", tmp);
  CHECK(r.code == 0);
  const auto report = nlohmann::json::parse(r.out);
  REQUIRE(report["warnings"].size() == 1);
  CHECK(report["warnings"][0]["pointer"] == "/cost/pricing/1/price");
}
