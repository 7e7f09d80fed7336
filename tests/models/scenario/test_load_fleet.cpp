// SPDX-License-Identifier: Apache-2.0
#include "models/hardware/fleet.hpp"
#include "tests/models/failures/loader_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;
using fleetsim::test::load_parts;
using fleetsim::test::with_fleet;

TEST_CASE("catalog: built-in figures are read in SI units", "[catalog]") {
  const Catalog cat = builtin_catalog();
  const AcceleratorSpec& h100 = cat.accelerator("H100");
  CHECK(h100.bf16_dense_flop_per_s == Approx(989.4e12));
  CHECK(h100.fp8_dense_flop_per_s == Approx(1978.9e12));
  CHECK(h100.hbm_bytes == Approx(80e9));
  CHECK(h100.hbm_bytes_per_s == Approx(3.35e12));
  CHECK(h100.power_tdp_w == 700);
  CHECK(h100.scale_up_domain_gpus == 8);
  CHECK(cat.accelerator("GB200").scale_up_domain_gpus == 72);
  CHECK(cat.accelerator("Trainium2").hbm_bytes == Approx(96.0 * (1ull << 30)));
  const InstanceSpec& p5 = cat.instance("p5.48xlarge");
  CHECK(p5.accelerator == "H100");
  CHECK(p5.gpus == 8);
  CHECK(p5.network_bytes_per_s == Approx(3200e9 / 8));
  REQUIRE(p5.price_usd_per_s.has_value());
  CHECK(*p5.price_usd_per_s * 3600 == Approx(55.04));
  CHECK(p5.price_date == "2025-12-21");
  CHECK_FALSE(cat.instance("p6e-gb200.36xlarge").price_usd_per_s.has_value());
  CHECK(cat.instance("p6e-gb200.36xlarge").nodes_per_rack == 18);
  CHECK(cat.accelerator_names() == std::vector<std::string>{"A100", "A100-40GB", "A800", "B200", "GB200", "GB300", "H100",
                                                            "H200", "H800", "Trainium2"});
  // Issue 20 item 7: the GPUs of most published large-scale training measurements.
  CHECK(cat.accelerator("A100").bf16_dense_flop_per_s == Approx(312e12));
  CHECK(cat.accelerator("A100-40GB").hbm_bytes == Approx(40e9));
  CHECK(cat.accelerator("A800").scale_up_bytes_per_s == Approx(200e9));
  CHECK(cat.accelerator("H800").scale_up_bytes_per_s == Approx(200e9));
  CHECK(cat.instances.size() == 6);
  CHECK(cat.instance("p6e-gb300.36xlarge").accelerator == "GB300");
  CHECK(cat.find_accelerator("H900") == nullptr);
  CHECK_THROWS_AS(cat.accelerator("H900"), std::out_of_range);
}

TEST_CASE("catalog: a scenario overrides fields and adds entries", "[catalog]") {
  const auto l = load_parts(R"({"catalog": {
      "accelerators": {"H100": {"power_idle": "90 W"},
                       "B300": {"bf16_dense": "2.5 PFLOPS", "fp8_dense": "5 PFLOPS", "hbm_capacity": "288 GB",
                                "hbm_bandwidth": "8 TB/s", "scale_up_domain": 8, "scale_up_bandwidth": "900 GB/s",
                                "power_idle": "110 W", "power_tdp": "1100 W"}},
      "instances": {"p6e-gb200.36xlarge": {"price": "$42/h", "price_date": "2026-01-05"}}}})");
  REQUIRE(l.errors.empty());
  CHECK(l.catalog.accelerator("H100").power_idle_w == 90);
  CHECK(l.catalog.accelerator("H100").power_tdp_w == 700);  // untouched
  CHECK(l.catalog.accelerator("B300").hbm_bytes == Approx(288e9));
  CHECK(*l.catalog.instance("p6e-gb200.36xlarge").price_usd_per_s * 3600 == Approx(42));
  CHECK(l.catalog.instance("p6e-gb200.36xlarge").price_date == "2026-01-05");
}

TEST_CASE("catalog: unknown entries and bad fields are rejected with pointers", "[catalog][errors]") {
  const auto l = load_parts(R"({"catalog": {
      "accelerators": {"H10": {"power_idle": "90 W"}, "H100": {"power_tdp": "700 parsecs", "tflops": 3}},
      "instances": {"p5.48xlarge": {"accelerator": "H1000"}},
      "gpus": {}}})");
  std::string all;
  for (const auto& e : l.errors) all += e + "\n";
  INFO(all);
  REQUIRE(l.errors.size() == 12);
  // The unit error's wording belongs to units.hpp; check where it lands and what it names.
  CHECK(l.errors[8].rfind("/catalog/accelerators/H100/power_tdp: ", 0) == 0);
  CHECK(l.errors[8].find("parsecs") != std::string::npos);
  auto others = l.errors;
  others.erase(others.begin() + 8);
  CHECK(others == std::vector<std::string>{
                        "/catalog/accelerators/H10: missing required property \"bf16_dense\"",
                        "/catalog/accelerators/H10: missing required property \"fp8_dense\"",
                        "/catalog/accelerators/H10: missing required property \"hbm_bandwidth\"",
                        "/catalog/accelerators/H10: missing required property \"hbm_capacity\"",
                        "/catalog/accelerators/H10: missing required property \"power_tdp\"",
                        "/catalog/accelerators/H10: missing required property \"scale_up_bandwidth\"",
                        "/catalog/accelerators/H10: missing required property \"scale_up_domain\"",
                        "/catalog/accelerators/H10: not a built-in accelerator (did you mean \"H100\"?); a new "
                        "accelerator needs every field",
                        "/catalog/accelerators/H100/tflops: unknown property \"tflops\" (allowed: \"description\", "
                        "\"bf16_dense\", \"fp8_dense\", \"hbm_capacity\", \"hbm_bandwidth\", \"scale_up_domain\", "
                        "\"scale_up_bandwidth\", \"power_idle\", \"power_tdp\", \"sources\")",
                        "/catalog/gpus: unknown property \"gpus\" (allowed: \"accelerators\", \"instances\")",
                        "/catalog/instances/p5.48xlarge/accelerator: unknown accelerator \"H1000\" (did you mean "
                        "\"H100\"?)"});
}

TEST_CASE("fleet: regions zones datacenters resolve against the catalog", "[fleet][loader]") {
  const auto l = load_parts(with_fleet(""));
  REQUIRE(l.errors.empty());
  REQUIRE(l.fleet.regions.size() == 2);
  const DatacenterSpec& dc1 = l.fleet.regions[0].zones[0].datacenters[0];
  CHECK(dc1.instance == "p6e-gb200.36xlarge");
  CHECK(dc1.accelerator == "GB200");
  CHECK(dc1.gpus_per_node == 4);
  CHECK(dc1.nodes_per_rack == 18);
  CHECK(dc1.scale_up_nodes == 18);
  CHECK(dc1.nodes == 72);
  CHECK(dc1.gpus() == 288);
  const DatacenterSpec& west = l.fleet.regions[1].zones[0].datacenters[0];
  CHECK(west.instance == "p5.48xlarge");  // the first instance type carrying H100
  CHECK(west.nodes == 3);                 // 20 GPUs, rounded up to whole nodes of 8
  CHECK(l.fleet.total_gpus() == 288 + 16 + 24);
  const Fleet f = Fleet::build(l.fleet);
  CHECK(f.path(ref(GpuId{287})) == "us-east-1/use1-az4/dc1/rack3/node17/gpu3");
}

TEST_CASE("fleet: ramps and retirements become timed datacenters", "[fleet][loader]") {
  const auto l = load_parts(R"({
    "fleet": {"regions": [{"name": "us-east-1", "zones": [
        {"name": "use1-az4", "datacenters": [{"name": "dc1", "instance": "p5.48xlarge", "nodes": 10}]},
        {"name": "use1-az6", "datacenters": []}]}],
      "ramps": [{"at": "2025-10-21", "region": "us-east-1", "add_gpus": 20000, "accelerator": "GB200"},
                {"at": "3d", "region": "us-east-1", "zone": "use1-az6", "name": "gb300", "add_racks": 2,
                 "accelerator": "GB300", "gpus_per_node": 4}],
      "retirements": [{"at": "2025-10-25T00:00Z", "region": "us-east-1", "datacenter": "dc1"},
                      {"at": "6d", "region": "us-east-1", "gpus": 72}]}})");
  REQUIRE(l.errors.empty());
  const auto& az4 = l.fleet.regions[0].zones[0].datacenters;
  REQUIRE(az4.size() == 2);
  CHECK(az4[0].retire_at == SimTime::zero() + Duration::days(5));
  CHECK(az4[1].name == "ramp1");
  CHECK(az4[1].instance == "p6e-gb200.36xlarge");
  CHECK(az4[1].nodes == 5000);
  CHECK(az4[1].install_at == SimTime::zero() + Duration::days(1));
  const auto& az6 = l.fleet.regions[0].zones[1].datacenters;
  REQUIRE(az6.size() == 1);
  CHECK(az6[0].name == "gb300");
  CHECK(az6[0].instance == "p6e-gb300.36xlarge");  // the catalog's GB300 host
  CHECK(az6[0].nodes_per_rack == 18);  // 72-GPU scale-up domain / 4 GPUs per node
  CHECK(az6[0].nodes == 36);
  CHECK(az6[0].install_at == SimTime::zero() + Duration::days(3));
  REQUIRE(l.fleet.retirements.size() == 1);
  CHECK(l.fleet.retirements[0].gpus == 72);
}

TEST_CASE("fleet: bad specs are rejected with pointer errors", "[fleet][loader][errors]") {
  // B300 is added by the scenario's catalog without an instance type that carries it.
  const auto l = load_parts(R"({"catalog": {"accelerators": {"B300": {"bf16_dense": "2.5 PFLOPS",
      "fp8_dense": "5 PFLOPS", "hbm_capacity": "288 GB", "hbm_bandwidth": "8 TB/s", "scale_up_domain": 8,
      "scale_up_bandwidth": "900 GB/s", "power_idle": "110 W", "power_tdp": "1100 W"}}},
    "fleet": {"regions": [
      {"name": "us-east-1", "zones": [{"name": "a", "datacenters": [
        {"name": "dc1", "instance": "p5.48xlrge", "racks": 2},
        {"name": "dc1", "accelerator": "H100", "racks": -3},
        {"name": "dc/3", "instance": "p5.48xlarge", "racks": 1, "nodes": 2},
        {"name": "dc4", "accelerator": "B300", "gpus": 72}]}]}],
    "ramps": [{"at": "2026-03-01", "region": "us-esat-1", "add_gpus": 100, "accelerator": "GB200"}],
    "retirements": [{"at": "1d", "region": "us-east-1", "datacenter": "dc9"}],
    "racks": 3}})");
  CHECK(l.errors == std::vector<std::string>{
                        "/fleet/racks: unknown property \"racks\" (did you mean \"ramps\"?)",
                        "/fleet/ramps/0/at: expected an instant within the run, from 2025-10-20T00:00:00Z to "
                        "2025-10-27T00:00:00Z, got \"2026-03-01\"",
                        "/fleet/ramps/0/region: unknown region \"us-esat-1\" (did you mean \"us-east-1\"?)",
                        "/fleet/regions/0/zones/0/datacenters/0/instance: unknown instance type \"p5.48xlrge\" (did "
                        "you mean \"p5.48xlarge\"?)",
                        "/fleet/regions/0/zones/0/datacenters/1/name: duplicate name \"dc1\" (also at "
                        "/fleet/regions/0/zones/0/datacenters/0/name)",
                        "/fleet/regions/0/zones/0/datacenters/1/racks: expected an integer from 1 to 10000000, got -3",
                        "/fleet/regions/0/zones/0/datacenters/2: give only one of \"racks\", \"nodes\", \"gpus\"",
                        "/fleet/regions/0/zones/0/datacenters/2/name: expected a name without '/' (names join into "
                        "paths such as us-east-1/use1-az4/dc1), got \"dc/3\"",
                        "/fleet/regions/0/zones/0/datacenters/3: no instance type in the catalog carries \"B300\": "
                        "give \"gpus_per_node\" (or \"instance\")",
                        "/fleet/retirements/0/datacenter: unknown datacenter \"dc9\" in region \"us-east-1\" (did you "
                        "mean \"dc1\"?)"});
}
