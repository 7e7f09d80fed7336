// SPDX-License-Identifier: Apache-2.0
// The scenario loader as a whole: a table of malformed scenarios, each checked for the exact JSON
// pointer and message of its first error, plus overrides, defaults in resolved.json and the hash.
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/load_scenario.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <vector>

using namespace fleetsim;

namespace {

// A small valid scenario every malformed case starts from.
const char* const kBase = R"({
  "name": "base",
  "seed": 7,
  "start": "2025-10-01T00:00:00Z",
  "horizon": "30d",
  "fleet": {"regions": [
    {"name": "us-east-1", "zones": [{"name": "use1-az4", "datacenters": [
      {"name": "dc1", "instance": "p5.48xlarge", "nodes": 16}]}]},
    {"name": "us-west-2", "zones": [{"name": "usw2-az1", "datacenters": [
      {"name": "dc1", "accelerator": "GB200", "racks": 2}]}]}]},
  "failures": {"processes": [{"name": "gpu", "class": "gpu", "mtbf": "50000h", "repair": "24h"}]}
})";

struct BadCase {
  const char* what;
  const char* patch;    // RFC 7396 merge patch applied to kBase; null removes a key
  const char* pointer;  // expected pointer of the first (sorted) error
  const char* message;  // expected message of that error, exactly
};

// Every row is a mistake a user could make; the message is what they will read.
const std::vector<BadCase> kBadCases = {
    {"missing name", R"({"name": null})", "", "missing required property \"name\""},
    {"missing horizon", R"({"horizon": null})", "", "missing required property \"horizon\""},
    {"name not a string", R"({"name": 5})", "/name", "expected a non-empty string, got 5"},
    {"empty name", R"({"name": ""})", "/name", "expected a non-empty string, got \"\""},
    {"name with a slash", R"({"name": "a/b"})", "/name",
     "expected a name without spaces or slashes, control characters, \".\" or \"..\" (it names the output "
     "directory), got \"a/b\""},
    {"unknown top-level key", R"({"horizn": "5d"})", "/horizn", "unknown property \"horizn\" (did you mean \"horizon\"?)"},
    {"negative seed", R"({"seed": -1})", "/seed", "expected a non-negative integer, got -1"},
    {"fractional seed", R"({"seed": 1.5})", "/seed", "expected a non-negative integer, got 1.5"},
    {"seed as a string", R"({"seed": "7"})", "/seed", "expected a non-negative integer, got \"7\""},
    {"horizon without unit", R"({"horizon": "30"})", "/horizon",
     "invalid duration \"30\": missing unit (a bare number is ambiguous); expected a number with a unit such as \"250us\", \"1.5 s\", \"15h\", \"54d\" or \"1h30m\" (units: ns us ms s min h d w)"},
    {"horizon with a bad unit", R"({"horizon": "30 parsecs"})", "/horizon",
     "invalid duration \"30 parsecs\": unknown unit \"parsecs\"; expected a number with a unit such as \"250us\", \"1.5 s\", \"15h\", \"54d\" or \"1h30m\" (units: ns us ms s min h d w)"},
    {"zero horizon", R"({"horizon": "0s"})", "/horizon",
     "expected a positive duration, got \"0s\""},
    {"negative horizon", R"({"horizon": "-5d"})", "/horizon",
     "expected a positive duration, got \"-5d\""},
    {"horizon as an object", R"({"horizon": {"d": 5}})", "/horizon",
     "expected a duration such as \"15h\" or \"250us\", got {\"d\":5}"},
    {"bad start date", R"({"start": "2025-13-01"})", "/start",
     "invalid UTC time \"2025-13-01\": month 13 is not in 1..12; expected ISO-8601 UTC such as \"2025-10-20T06:48:00Z\", \"2025-10-20T06:48Z\" or \"2025-10-20\""},
    {"start not a string", R"({"start": 20251001})", "/start",
     "expected a UTC time such as \"2025-10-20T06:48:00Z\", got 20251001"},
    {"zero sample interval", R"({"sample_interval": "0s"})", "/sample_interval",
     "expected a positive duration, got \"0s\""},
    {"fleet not an object", R"({"fleet": []})", "/fleet",
     "expected an object, got []"},
    {"regions not an array", R"({"fleet": {"regions": {}}})", "/fleet/regions",
     "expected an array, got {}"},
    {"unknown fleet key", R"({"fleet": {"region": []}})", "/fleet/region",
     "unknown property \"region\" (did you mean \"regions\"?)"},
    {"unknown instance type", R"({"fleet": {"regions": [{"name": "r", "zones": [{"name": "z", "datacenters": [
        {"name": "dc1", "instance": "p5.48xlarg", "nodes": 1}]}]}]}})",
     "/fleet/regions/0/zones/0/datacenters/0/instance",
     "unknown instance type \"p5.48xlarg\" (did you mean \"p5.48xlarge\"?)"},
    {"unknown accelerator", R"({"fleet": {"regions": [{"name": "r", "zones": [{"name": "z", "datacenters": [
        {"name": "dc1", "accelerator": "H1000", "nodes": 1}]}]}]}})",
     "/fleet/regions/0/zones/0/datacenters/0/accelerator",
     "unknown accelerator \"H1000\" (did you mean \"H100\"?)"},
    {"negative node count", R"({"fleet": {"regions": [{"name": "r", "zones": [{"name": "z", "datacenters": [
        {"name": "dc1", "instance": "p5.48xlarge", "nodes": -8}]}]}]}})",
     "/fleet/regions/0/zones/0/datacenters/0/nodes",
     "expected an integer from 1 to 1250000, got -8"},
    {"two sizes for one datacenter", R"({"fleet": {"regions": [{"name": "r", "zones": [{"name": "z", "datacenters": [
        {"name": "dc1", "instance": "p5.48xlarge", "nodes": 8, "racks": 2}]}]}]}})",
     "/fleet/regions/0/zones/0/datacenters/0",
     "give only one of \"racks\", \"nodes\", \"gpus\""},
    {"duplicate region names", R"({"fleet": {"regions": [
        {"name": "r", "zones": [{"name": "z", "datacenters": [{"name": "dc1", "instance": "p5.48xlarge", "nodes": 1}]}]},
        {"name": "r", "zones": [{"name": "z", "datacenters": [{"name": "dc1", "instance": "p5.48xlarge", "nodes": 1}]}]}]}})",
     "/fleet/regions/1/name",
     "duplicate name \"r\" (also at /fleet/regions/0/name)"},
    {"zero MTBF", R"({"failures": {"processes": [{"name": "gpu", "class": "gpu", "mtbf": "0h", "repair": "24h"}]}})",
     "/failures/processes/0/mtbf",
     "expected a positive duration such as \"50000h\", got \"0h\""},
    {"negative MTBF", R"({"failures": {"processes": [{"name": "gpu", "class": "gpu", "mtbf": "-5h", "repair": "24h"}]}})",
     "/failures/processes/0/mtbf",
     "expected a positive duration such as \"50000h\", got \"-5h\""},
    {"Weibull shape zero", R"({"failures": {"processes": [{"name": "gpu", "class": "gpu", "distribution": "weibull",
        "shape": 0, "mtbf": "50000h", "repair": "24h"}]}})",
     "/failures/processes/0/shape",
     "expected a positive number, got 0"},
    {"unknown component class", R"({"failures": {"processes": [{"name": "gpu", "class": "gpuu", "mtbf": "5h", "repair": "1h"}]}})",
     "/failures/processes/0/class",
     "unknown component class \"gpuu\" (did you mean \"gpu\"?)"},
    {"outage in an unknown region", R"({"failures": {"outages": [{"region": "us-east-2", "from": "2025-10-20T06:48Z",
        "duration": "14.5h"}]}})",
     "/failures/outages/0/region",
     "unknown region \"us-east-2\" (did you mean \"us-east-1\"?)"},
    {"outage outside the horizon", R"({"failures": {"outages": [{"region": "us-east-1", "from": "2026-10-20T06:48Z",
        "duration": "14.5h"}]}})",
     "/failures/outages/0/from",
     "expected an instant within the run, from 2025-10-01T00:00:00Z to 2025-10-31T00:00:00Z, got \"2026-10-20T06:48Z\""},
    {"unknown failure preset", R"({"failures": {"presets": ["llama3-404b"]}})", "/failures/presets/0",
     "unknown failure preset \"llama3-404b\" (did you mean \"llama3-405b\"?)"},
    {"catalog override of an unknown field", R"({"catalog": {"accelerators": {"H100": {"tflops": 3}}}})",
     "/catalog/accelerators/H100/tflops",
     "unknown property \"tflops\" (allowed: \"description\", \"bf16_dense\", \"fp8_dense\", \"hbm_capacity\", \"hbm_bandwidth\", \"scale_up_domain\", \"scale_up_bandwidth\", \"power_idle\", \"power_tdp\", \"sources\")"},
};

std::vector<Diagnostic> errors_of(const std::string& text) {
  try {
    (void)load_scenario_text(text, "bad.json");
  } catch (const ScenarioError& e) {
    return e.diagnostics().sorted();
  }
  return {};
}

}  // namespace

TEST_CASE("scenario: the base scenario of the malformed table is valid", "[scenario]") {
  CHECK_NOTHROW(load_scenario_text(kBase, "base.json"));
}

TEST_CASE("scenario: malformed scenarios are rejected with their pointer and message", "[scenario][errors]") {
  REQUIRE(kBadCases.size() >= 30);
  for (const auto& c : kBadCases) {
    nlohmann::json doc = nlohmann::json::parse(kBase);
    doc.merge_patch(nlohmann::json::parse(c.patch));
    const auto errors = errors_of(doc.dump());
    INFO(c.what);
    REQUIRE_FALSE(errors.empty());
    std::string all;
    for (const auto& e : errors) all += e.pointer + ": " + e.message + "\n";
    INFO(all);
    CHECK(errors.front().pointer == c.pointer);
    CHECK(errors.front().message == c.message);
  }
}

TEST_CASE("scenario: syntax errors give the line and column", "[scenario][errors]") {
  const auto errors = errors_of("{\n  \"name\": \"x\",\n  \"horizon\": \"5d\",,\n}");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer.empty());
  CHECK_THAT(errors[0].message, Catch::Contains("line 3"));
}

TEST_CASE("scenario: several errors are reported together, sorted by pointer", "[scenario][errors]") {
  nlohmann::json doc = nlohmann::json::parse(kBase);
  doc["seed"] = -3;
  doc["horizon"] = "5 parsecs";
  doc["sampel_interval"] = "1h";
  const auto errors = errors_of(doc.dump());
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].pointer == "/horizon");
  CHECK(errors[1].pointer == "/sampel_interval");
  CHECK(errors[1].message == "unknown property \"sampel_interval\" (did you mean \"sample_interval\"?)");
  CHECK(errors[2].pointer == "/seed");
}

TEST_CASE("scenario: --set overrides apply before loading, as JSON or as strings", "[scenario]") {
  LoadOptions opt;
  opt.overrides = {parse_override("/horizon=7d"), parse_override("/seed=99"), parse_override("/description=x=y")};
  const Scenario s = load_scenario_text(kBase, "base.json", opt);
  CHECK(s.run.horizon == Duration::days(7));
  CHECK(s.run.seed == 99);
  CHECK(s.run.description == "x=y");
  CHECK_THROWS_AS(parse_override("horizon=7d"), std::invalid_argument);
  CHECK_THROWS_AS(parse_override("/horizon"), std::invalid_argument);
}

TEST_CASE("scenario: --seed and --until win over the file", "[scenario]") {
  LoadOptions opt;
  opt.seed = 5;
  opt.until = "2d";
  const Scenario s = load_scenario_text(kBase, "base.json", opt);
  CHECK(s.run.seed == 5);
  CHECK(s.run.horizon == Duration::days(2));
  CHECK(s.resolved["seed"] == 5);
  // resolved.json keeps the file's horizon and records the cut, so it reloads as the same run.
  CHECK(s.resolved["horizon"] == "30d");
  CHECK(s.resolved["until"] == "2d");
  const Scenario again = load_scenario_text(s.resolved.dump(), "resolved.json", {});
  CHECK(again.run.horizon == Duration::days(2));
}

TEST_CASE("scenario: until takes a date as well as a span, and its errors name /until", "[scenario]") {
  LoadOptions opt;
  opt.until = "2025-10-08";  // the base starts on 2025-10-01
  const Scenario s = load_scenario_text(kBase, "base.json", opt);
  CHECK(s.run.horizon == Duration::days(7));
  CHECK(s.resolved["until"] == "2025-10-08");
  CHECK(load_scenario_text(s.resolved.dump(), "resolved.json", {}).run.horizon == Duration::days(7));
  opt.until = "2025-10-01T12:00Z";
  CHECK(load_scenario_text(kBase, "base.json", opt).run.horizon == Duration::hours(12));
  const auto errors = [&](const std::string& until) {
    nlohmann::json doc = nlohmann::json::parse(kBase);
    doc["until"] = until;
    return errors_of(doc.dump());
  };
  auto e = errors("2025-11-06x");
  REQUIRE(e.size() == 1);
  CHECK(e[0].pointer == "/until");
  CHECK(e[0].message == "expected a span such as \"7d\" or a date such as \"2026-03-01\", got \"2025-11-06x\"");
  e = errors("2025-09-30");
  REQUIRE(e.size() == 1);
  CHECK(e[0].pointer == "/until");
  CHECK(e[0].message == "expected an instant after the start (2025-10-01T00:00:00Z), got \"2025-09-30\"");
}

TEST_CASE("scenario: resolved carries the defaults that were applied", "[scenario]") {
  nlohmann::json doc = nlohmann::json::parse(kBase);
  doc.erase("start");
  const Scenario s = load_scenario_text(doc.dump(), "base.json");
  CHECK(s.resolved["sample_interval"] == "1h");
  CHECK(s.resolved["start"] == "2026-01-01T00:00:00Z");
  CHECK(s.run.sample_interval == Duration::hours(1));
  CHECK(s.run.start_unix_ns == parse_utc_ns("2026-01-01T00:00:00Z"));
}

TEST_CASE("scenario: the hash follows the content, not the formatting", "[scenario]") {
  const Scenario a = load_scenario_text(kBase, "a.json");
  const Scenario b = load_scenario_text(nlohmann::json::parse(kBase).dump(4), "b.json");
  CHECK(a.hash == b.hash);
  LoadOptions opt;
  opt.overrides = {parse_override("/seed=8")};
  CHECK(load_scenario_text(kBase, "a.json", opt).hash != a.hash);
}

TEST_CASE("scenario: a missing file is an input error, not a scenario error", "[scenario][errors]") {
  CHECK_THROWS_AS(load_scenario("/nonexistent/dir/scenario.json"), InputError);
}

// A horizon that cannot be read is one error: the growth check used to compound the arrival rate over
// the fallback horizon of 200 years and add a second, misleading error on growth_per_month.
TEST_CASE("scenario: a bad horizon is reported once, not again through the arrival growth", "[scenario][errors]") {
  std::ifstream in(std::string(FLEETSIM_SOURCE_DIR) + "/scenarios/openai-aws-38b.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  doc["horizon"] = "3y";
  const std::vector<Diagnostic> errors = errors_of(doc.dump());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/horizon");
}
