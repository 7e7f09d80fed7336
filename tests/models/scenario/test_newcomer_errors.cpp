// SPDX-License-Identifier: Apache-2.0
// What a newcomer hits first (docs/first-scenario.md), on the guide's own scenario: a did-you-mean for
// every name typed in a scenario (regions, zones, instance types, accelerators, presets, job names,
// --set pointers), errors listed cause first, a hint on a JSON comment, and the warning for a price
// that looks like the other kind (per instance-hour vs per GPU-hour).
#include "models/scenario/diagnostics.hpp"
#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/load_scenario.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace fleetsim;

namespace {

const std::string kFirst = FLEETSIM_SOURCE_DIR "/scenarios/first-scenario.json";

LoadOptions with(const std::vector<std::string>& sets) {
  LoadOptions o;
  for (const auto& s : sets) o.overrides.push_back(parse_override(s));
  return o;
}

/// The errors of the guide's scenario with `sets` applied (empty when it loads).
std::vector<Diagnostic> errors_with(const std::vector<std::string>& sets) {
  try {
    load_scenario(kFirst, with(sets));
  } catch (const ScenarioError& e) {
    return e.diagnostics().sorted();
  }
  return {};
}

/// The one error of the guide's scenario with `set` applied, as "pointer: message".
std::string sole_error(const std::string& set) {
  const auto errors = errors_with({set});
  REQUIRE(errors.size() == 1);
  return errors.front().pointer + ": " + errors.front().message;
}

}  // namespace

TEST_CASE("did you mean: one helper, quoted like every message", "[world][did-you-mean]") {
  CHECK(did_you_mean("us-esat-1", std::vector<std::string>{"us-east-1", "us-west-2"}) ==
        " (did you mean \"us-east-1\"?)");
  CHECK(did_you_mean("eu-central-1", std::vector<std::string>{"us-east-1", "us-west-2"}).empty());
  CHECK(did_you_mean("rnu", {"run", "validate"}) == " (did you mean \"run\"?)");
}

TEST_CASE("did you mean: every name a scenario refers to", "[world][did-you-mean]") {
  REQUIRE(errors_with({}).empty());
  // Regions, wherever they are named.
  CHECK(sole_error("/inference/services/0/regions/1/region=us-wset-2") ==
        "/inference/services/0/regions/1/region: expected a region of the fleet (\"us-east-1\", \"us-west-2\"), "
        "got \"us-wset-2\" (did you mean \"us-west-2\"?)");
  CHECK(sole_error("/training/jobs/0/region=us-eats-1") ==
        "/training/jobs/0/region: expected a region of the fleet, got \"us-eats-1\" (did you mean \"us-east-1\"?)");
  CHECK_THAT(sole_error("/cost/pricing/0/region=us-east-2"),
             Catch::EndsWith("got \"us-east-2\" (did you mean \"us-east-1\"?)"));
  CHECK(sole_error("/failures/outages/0/region=us-est-1") ==
        "/failures/outages/0/region: unknown region \"us-est-1\" (did you mean \"us-east-1\"?)");
  CHECK_THAT(sole_error("/inference/services/0/routing/rtt/0/between/1=us-west-1"),
             Catch::EndsWith("expected a region of this service, got \"us-west-1\" (did you mean \"us-west-2\"?)"));
  // A burst's region was not checked at all: a typo silently applied the burst nowhere.
  CHECK(sole_error(R"(/inference/services/0/arrivals/bursts=[{"start": "1d", "duration": "1h", "factor": 2, "region": "us-west2"}])") ==
        "/inference/services/0/arrivals/bursts/0/region: expected a region of this service, got \"us-west2\" "
        "(did you mean \"us-west-2\"?)");
  // Zones, instance types, accelerators, presets, jobs.
  CHECK_THAT(sole_error("/failures/outages/0/zone=use1-az5"),
             Catch::EndsWith("unknown zone \"use1-az5\" in region \"us-east-1\" (did you mean \"use1-az4\"?)"));
  CHECK(sole_error("/fleet/regions/1/zones/0/datacenters/0/instance=p5.48xlarg") ==
        "/fleet/regions/1/zones/0/datacenters/0/instance: unknown instance type \"p5.48xlarg\" "
        "(did you mean \"p5.48xlarge\"?)");
  CHECK_THAT(sole_error("/training/jobs/0/accelerator=H10"), Catch::EndsWith("got \"H10\" (did you mean \"H100\"?)"));
  CHECK_THAT(sole_error("/inference/services/0/replica/accelerator=h100"),
             Catch::EndsWith("got \"h100\" (did you mean \"H100\"?)"));
  CHECK(sole_error("/failures/presets/0=llama3-450b") ==
        "/failures/presets/0: unknown failure preset \"llama3-450b\" (did you mean \"llama3-405b\"?)");
  CHECK(sole_error("/training/jobs/0/after=llm-07b") ==
        "/training/jobs/0/after: expected the name of another training job, got \"llm-07b\" "
        "(did you mean \"llm-70b\"?)");
}

TEST_CASE("did you mean: --set names an array item by its name", "[world][did-you-mean]") {
  // summary.json names jobs and services, so people type the name where the scenario wants an index.
  CHECK_THAT(sole_error("/training/jobs/llm-70b/total_tokens=1e11"),
             Catch::Contains("(an array takes an index: did you mean /training/jobs/0/total_tokens, the item "
                             "named \"llm-70b\"?)"));
  CHECK_THAT(sole_error("/inference/services/caht/mode=request"),
             Catch::Contains("did you mean /inference/services/0/mode, the item named \"chat\"?"));
}

TEST_CASE("errors: the cause before what it causes", "[world][diagnostics]") {
  // A misspelt instance type leaves its datacenter without GPUs: the training job's accelerator, the
  // service's replicas and the price of the group all fail after it. Listed by pointer alone, /cost
  // and /failures would come before /fleet.
  Diagnostics d("x.json");
  d.error("/cost/pricing", "no price");
  d.error("/training/jobs/0/accelerator", "no such accelerator in the fleet");
  d.error("/fleet/regions/0/zones/0/datacenters/0/instance", "unknown instance type");
  d.error("/failures/outages/0/zone", "unknown zone");
  d.error("/catalog/instances/x", "incomplete");
  d.error("", "a syntax error");
  const auto s = d.sorted();
  REQUIRE(s.size() == 6);
  CHECK(s[0].pointer.empty());
  CHECK(s[1].pointer == "/catalog/instances/x");
  CHECK(s[2].pointer == "/fleet/regions/0/zones/0/datacenters/0/instance");
  CHECK(s[3].pointer == "/failures/outages/0/zone");
  CHECK(s[4].pointer == "/training/jobs/0/accelerator");
  CHECK(s[5].pointer == "/cost/pricing");

  const auto errors = errors_with({"/fleet/regions/0/zones/0/datacenters/0/instance=p5.48xlarg",
                                   "/fleet/regions/1/zones/0/datacenters/0/instance=p5.48xlarg"});
  REQUIRE(errors.size() >= 2);
  CHECK(errors[0].pointer == "/fleet/regions/0/zones/0/datacenters/0/instance");
  CHECK(errors[1].pointer == "/fleet/regions/1/zones/0/datacenters/0/instance");
  // What it causes follows (the fleet has no H100 left for the job and the prices), but nothing repeats
  // it as a price "for  in us-west-2" or as replicas in a region without GPUs.
  for (const auto& e : errors) {
    CHECK_THAT(e.message, !Catch::Contains("no price for  in"));
    CHECK(e.pointer.rfind("/inference", 0) == std::string::npos);
  }
}

TEST_CASE("errors: a JSON comment says what to write instead", "[world][diagnostics]") {
  try {
    load_scenario_text("{\"name\": \"x\", // a comment\n \"horizon\": \"5d\"}", "c.json");
    FAIL("a comment must not parse");
  } catch (const ScenarioError& e) {
    CHECK_THAT(e.what(), Catch::Contains("JSON has no comments: write a \"$comment\" key instead"));
  }
  try {
    load_scenario_text("{\"name\": \"x\", /* a comment */ \"horizon\": \"5d\"}", "c.json");
    FAIL("a comment must not parse");
  } catch (const ScenarioError& e) {
    CHECK_THAT(e.what(), Catch::Contains("JSON has no comments"));
  }
  // Other syntax errors get no such hint.
  CHECK_THROWS_WITH(load_scenario_text("{\"name\": \"x\",}", "c.json"), !Catch::Contains("comment"));
  // "$comment" keys load, as the guide's scenario shows.
  CHECK_NOTHROW(load_scenario_text(R"({"$comment": "a note", "name": "x", "horizon": "5d"})", "c.json"));
}

TEST_CASE("cost: a price that looks like the other kind warns", "[world][cost]") {
  // The guide's scenario prices p5.48xlarge (8 H100) at $55.04 per instance-hour: no warning.
  CHECK(load_scenario(kFirst).warnings.empty());
  // $6.88 is the catalog's price per GPU-hour; as "price" it would bill $0.86 per GPU-hour, 8x too little.
  const Scenario cheap = load_scenario(kFirst, with({"/cost/pricing/1/price=$6.88/h"}));
  REQUIRE(cheap.warnings.size() == 1);
  CHECK(cheap.warnings[0].pointer == "/cost/pricing/1/price");
  CHECK(cheap.warnings[0].message ==
        "\"$6.88/h\" is a price per instance-hour: $0.86 per GPU-hour on these 8-GPU nodes, far below the "
        "catalog's $6.88 per GPU-hour for H100 (p5.48xlarge On-Demand); if it is per GPU-hour, write it as "
        "\"gpu_price\"");
  CHECK(render_warnings("s.json", cheap.warnings).starts_with("warning: s.json: /cost/pricing/1/price: "));
  // A real discount does not warn: $16/h is $2 per GPU-hour, as smaller clouds charge for H100.
  CHECK(load_scenario(kFirst, with({"/cost/pricing/1/price=$16/h"})).warnings.empty());
  // The instance price given as gpu_price would bill 8x too much.
  const std::string rule = R"(/cost/pricing/1={"accelerator": "H100", "model": "on-demand", "gpu_price": "$55.04/h"})";
  const Scenario dear = load_scenario(kFirst, with({rule}));
  REQUIRE(dear.warnings.size() == 1);
  CHECK(dear.warnings[0].pointer == "/cost/pricing/1/gpu_price");
  CHECK_THAT(dear.warnings[0].message,
             Catch::StartsWith("\"$55.04/h\" is a price per GPU-hour: $440.32/h per 8-GPU instance-hour") &&
                 Catch::EndsWith("if it is per instance-hour, write it as \"price\""));
  CHECK(load_scenario(kFirst, with({R"(/cost/pricing/1={"accelerator": "H100", "model": "on-demand", "gpu_price": "$6.88/h"})"}))
            .warnings.empty());
}
