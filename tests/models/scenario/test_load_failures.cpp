// SPDX-License-Identifier: Apache-2.0
#include "tests/models/failures/loader_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>

using namespace fleetsim;
using fleetsim::test::load_parts;
using fleetsim::test::with_fleet;

TEST_CASE("failures loader: rates MTBFs and repairs in human units", "[failures][loader]") {
  const auto l = load_parts(with_fleet(R"("failures": {"processes": [
      {"name": "gpu", "class": "gpu", "mtbf": "50000h", "repair": "24h"},
      {"name": "wear", "class": "hbm", "distribution": "weibull", "shape": 1.3, "rate": "0.05/GPU-year",
       "repair": {"distribution": "lognormal", "median": "24h", "sigma": 1.0, "detect": "5min"}},
      {"name": "rsc", "class": "node", "rate": "6.5/1000 node-days", "repair": {"distribution": "exponential", "mean": "4h"},
       "regions": ["us-west-2"], "accelerators": ["H100"]},
      {"name": "power", "class": "rack_power", "rate": "1/year", "repair": "6h", "cause": "PDU trip"}]})"));
  REQUIRE(l.errors.empty());
  const auto& p = l.failures.processes;
  REQUIRE(p.size() == 4);
  CHECK(p[0].cls == ComponentClass::Gpu);
  CHECK(p[0].lifetime.kind == LifetimeSpec::Kind::Exponential);
  CHECK(p[0].lifetime.mean_s == 50000.0 * 3600);
  CHECK(p[0].repair.kind == RepairSpec::Kind::Fixed);
  CHECK(p[0].repair.value_s == 24.0 * 3600);
  CHECK(p[0].cause == "gpu");
  CHECK(p[1].lifetime.kind == LifetimeSpec::Kind::Weibull);
  CHECK(p[1].lifetime.shape == 1.3);
  CHECK(p[1].lifetime.mean_s == Approx(365.0 * 86400 / 0.05));
  CHECK(p[1].repair.kind == RepairSpec::Kind::Lognormal);
  CHECK(p[1].repair.detect == Duration::minutes(5));
  CHECK(p[2].lifetime.mean_s == Approx(1000.0 * 86400 / 6.5));
  CHECK(p[2].regions == std::vector<std::string>{"us-west-2"});
  CHECK(p[3].cause == "PDU trip");
  CHECK(l.failures.sample_interval == Duration::hours(1));
  // Defaults are written into the resolved document.
  CHECK(l.resolved["failures"]["processes"][0]["distribution"] == "exponential");
  CHECK(l.resolved["failures"]["processes"][0]["cause"] == "gpu");
}

TEST_CASE("failures loader: rate and span parsing", "[failures][loader]") {
  CHECK(parse_failure_rate("0.0611/GPU-year", ComponentClass::Gpu) == Approx(0.0611 / (365.0 * 86400)));
  CHECK(parse_failure_rate("6.5/1000 node-days", ComponentClass::Node) == Approx(6.5 / (1000.0 * 86400)));
  CHECK(parse_failure_rate("2/year", ComponentClass::Region) == Approx(2 / (365.0 * 86400)));
  CHECK(parse_failure_rate("1e-5/h", ComponentClass::Link) == Approx(1e-5 / 3600));
  CHECK(parse_failure_rate("3 / rack-month", ComponentClass::RackPower) == Approx(3 / (365.0 * 86400 / 12)));
  CHECK_THROWS_WITH(parse_failure_rate("0.06/node-year", ComponentClass::Gpu),
                    "a rate per \"node\" does not fit class \"gpu\", whose population is one per GPU (for example "
                    "\"0.06/GPU-year\")");
  CHECK_THROWS_AS(parse_failure_rate("0.06 per year", ComponentClass::Gpu), std::invalid_argument);
  CHECK_THROWS_AS(parse_failure_rate("0.06/fortnight", ComponentClass::Gpu), std::invalid_argument);
  CHECK(parse_span_seconds("10616832h") == 10616832.0 * 3600);  // beyond SimTime's 292 years: fine here
  CHECK(parse_span_seconds("16.4 y") == Approx(16.4 * 365 * 86400));
  CHECK_THROWS_AS(parse_span_seconds("5000"), std::invalid_argument);
}

TEST_CASE("failures loader: presets expand into sourced processes", "[failures][loader][presets]") {
  const auto l = load_parts(with_fleet(R"("failures": {"presets": ["llama3-405b", "meta-rsc1"]})"));
  REQUIRE(l.errors.empty());
  REQUIRE(l.failures.processes.size() == 18 + 1);
  // The Llama 3 table: 419 interruptions in 54 days on 16,384 GPUs (2,048 hosts). The expected count
  // of the expanded processes on that fleet, summed over classes, is 419 (each rate was derived from
  // its count).
  double expected = 0;
  for (const auto& p : l.failures.processes) {
    if (p.name.rfind("llama3/", 0) != 0) continue;
    const Level lvl = population_level(p.cls);
    const double n = lvl == Level::Node ? 2048 : 16384;
    expected += n * 54 * 86400 / p.lifetime.mean_s;
  }
  CHECK(expected == Approx(419).epsilon(1e-5));
  CHECK(l.failures.processes.back().lifetime.mean_s == Approx(1000.0 * 86400 / 6.5));
  CHECK(failure_preset_names() ==
        std::vector<std::string>{"aws-us-east-1-2025-10-20", "llama3-405b", "meta-rsc1", "meta-rsc2"});
}

TEST_CASE("failures loader: the us-east-1 preset becomes partial outages", "[failures][loader][presets]") {
  const auto l = load_parts(with_fleet(R"("failures": {"presets": ["aws-us-east-1-2025-10-20"],
      "outages": [{"region": "us-east-1", "from": "2025-10-20T06:48Z", "duration": "14.5h", "kind": "full"}]})"));
  REQUIRE(l.errors.empty());
  REQUIRE(l.failures.outages.size() == 3);
  CHECK(l.failures.outages[0].kind == OutageKind::Launch);
  CHECK(l.failures.outages[0].from == SimTime::zero() + Duration::minutes(9 * 60 + 25));
  CHECK(l.failures.outages[1].kind == OutageKind::Network);
  CHECK(l.failures.outages[1].network_factor == 0.5);
  CHECK(l.failures.outages[2].target == "us-east-1");
  CHECK(l.failures.outages[2].from == SimTime::zero() + Duration::minutes(6 * 60 + 48));
  CHECK(l.failures.outages[2].duration == Duration::minutes(14 * 60 + 30));
}

TEST_CASE("failures loader: bad specs are rejected with exact pointers and messages", "[failures][loader][errors]") {
  const auto l = load_parts(with_fleet(R"("failures": {
      "presets": ["llama3-450b"],
      "processes": [
        {"name": "a", "class": "gpu", "mtbf": "0h", "repair": "1h"},
        {"name": "b", "class": "gpu", "mtbf": "-5h", "repair": "1h"},
        {"name": "c", "class": "gpu", "distribution": "weibull", "shape": 0, "mtbf": "1000h", "repair": "1h"},
        {"name": "d", "class": "gpus", "rate": "0.1/GPU-year", "repair": "1h", "regions": ["us-esat-1"]},
        {"name": "a", "class": "node", "rate": "0/node-day", "repair": "1h", "accelerators": ["GB20"]}],
      "outages": [
        {"region": "us-east-1", "from": "2025-11-20T06:48Z", "duration": "14.5h"},
        {"region": "eu-west-1", "from": "2025-10-20T06:48Z", "duration": "1h", "kind": "partial"},
        {"region": "us-east-1", "zone": "use1-az4", "datacenter": "dc3", "from": "1d", "duration": "1h"}],
      "stragglers": [
        {"component": "us-east-1/use1-az4/dc1/rack4/node0", "at": "1d", "duration": "1h", "slowdown": 1.5},
        {"name": "slow", "class": "rack_power", "rate": "1/year", "duration": "1h", "slowdown": 0.9}]})"));
  CHECK(l.errors == std::vector<std::string>{
      "/failures/outages/0/from: expected an instant within the run, from 2025-10-20T00:00:00Z to "
      "2025-10-27T00:00:00Z, got \"2025-11-20T06:48Z\"",
      "/failures/outages/1/kind: expected one of \"full\", \"launch\", \"network\", got \"partial\"",
      "/failures/outages/1/region: unknown region \"eu-west-1\" (did you mean \"us-west-2\"?)",
      "/failures/outages/2/datacenter: unknown datacenter \"dc3\" in \"us-east-1/use1-az4\" (did you mean \"dc1\"?)",
      "/failures/presets/0: unknown failure preset \"llama3-450b\" (did you mean \"llama3-405b\"?)",
      "/failures/processes/0/mtbf: expected a positive duration such as \"50000h\", got \"0h\"",
      "/failures/processes/1/mtbf: expected a positive duration such as \"50000h\", got \"-5h\"",
      "/failures/processes/2/shape: expected a positive number, got 0",
      "/failures/processes/3/class: unknown component class \"gpus\" (did you mean \"gpu\"?)",
      "/failures/processes/3/regions/0: unknown region \"us-esat-1\" (did you mean \"us-east-1\"?)",
      "/failures/processes/4/accelerators/0: unknown accelerator \"GB20\" (did you mean \"GB200\"?)",
      "/failures/processes/4/name: duplicate process name \"a\" (also at /failures/processes/0/name)",
      "/failures/processes/4/rate: expected a positive rate such as \"0.06/GPU-year\" or \"6.5/1000 node-days\", got "
      "\"0/node-day\"",
      "/failures/stragglers/0/component: unknown component \"us-east-1/use1-az4/dc1/rack4/node0\": no \"rack4\" in "
      "us-east-1/use1-az4/dc1 (it has rack0 to rack3)",
      "/failures/stragglers/1/class: expected \"gpu\" or \"node\" (a straggler is a slow GPU or host), got "
      "\"rack_power\"",
      "/failures/stragglers/1/slowdown: expected a slowdown factor above 1 (1.1 = 10% slower), got 0.9"});
}

TEST_CASE("failures loader: a preset outage on a fleet without its region is reported at the preset", "[failures][loader][errors]") {
  const auto l = load_parts(R"({"fleet": {"regions": [{"name": "eu-west-1", "zones": [{"name": "z", "datacenters": [
      {"name": "dc1", "instance": "p5.48xlarge", "nodes": 1}]}]}]},
      "failures": {"presets": ["aws-us-east-1-2025-10-20"]}})");
  REQUIRE(l.errors.size() == 2);
  CHECK(l.errors[0] ==
        "/failures/presets/0: preset outage \"2025-10-20/ec2-launch\": region: unknown region \"us-east-1\"");
}
