// SPDX-License-Identifier: Apache-2.0
// Tests of models/world/load_network.cpp. Waiting for fleetsim_world to link fleetsim_network (see
// notes/requests.md): then move to tests/models/world/test_load_network.cpp (it needs the world library).
#include "models/network/topology.hpp"
#include "models/world/load_network.hpp"
#include "models/world/reader.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace fleetsim;

namespace {

struct Loaded {
  NetworkSpec spec;
  std::vector<Diagnostic> errors;
};

Loaded load(const std::string& text, const FleetSpec& fleet = {}) {
  Diagnostics diags("test.json");
  const nlohmann::json doc = parse_json_text(text, diags);
  Catalog cat;
  AcceleratorSpec h100;
  h100.name = "H100";
  h100.scale_up_domain_gpus = 8;
  h100.scale_up_bytes_per_s = 450e9;
  cat.accelerators.push_back(h100);
  Loaded l;
  l.spec = load_network(Reader::root(doc, diags).section("network"), fleet, cat);
  l.errors = diags.sorted();
  return l;
}

FleetSpec two_regions() {
  FleetSpec f;
  auto& dc = f.add_region("us-east-1").add_zone("use1-az4").add_datacenter("dc1");
  dc.accelerator = "H100";
  dc.gpus_per_node = 8;
  dc.nodes = 128;
  f.add_region("eu-west-1").add_zone("euw1-az1");
  return f;
}

}  // namespace

TEST_CASE("network loader: a rail-optimized cluster in human units", "[network][loader]") {
  const Loaded l = load(R"({"network": {"clusters": [{"name": "train", "gpus": 1024, "gpus_per_host": 8,
      "scale_up": {"accelerator": "H100"},
      "scale_out": {"design": "rail_optimized", "switch_radix": 64, "port_speed": "400 Gbps", "planes": 2,
                    "leaf_oversubscription": "1:1", "link_latency": "700ns"}}]}})");
  REQUIRE(l.errors.empty());
  REQUIRE(l.spec.clusters.size() == 1);
  const ClusterSpec& c = l.spec.clusters[0];
  CHECK(c.gpus == 1024);
  CHECK(c.scale_up.gpus_per_domain == 8);
  CHECK(c.scale_up.bytes_per_s == 450e9);
  CHECK(c.scale_out.attach == Attach::Rail);
  CHECK(c.scale_out.tiers == 2);
  CHECK(c.scale_out.port_bytes_per_s == 50e9);
  CHECK(c.scale_out.planes == 2);
  CHECK(c.scale_out.link_latency == Duration::ns(700));
  CHECK_NOTHROW(build_topology(l.spec));
}

TEST_CASE("network loader: a cluster from a fleet datacenter and WAN links", "[network][loader]") {
  const Loaded l = load(R"({"network": {
      "clusters": [{"name": "dc1", "datacenter": "us-east-1/use1-az4/dc1",
                    "scale_out": {"design": "fat_tree", "switch_radix": 32, "leaf_oversubscription": "2:1"}}],
      "wan": [{"between": ["us-east-1", "eu-west-1"], "bandwidth": "1.6 Tbps", "latency": "38ms", "links": 2},
              {"between": ["use1-az4", "us-east-1"], "bandwidth": "12.8 Tbps", "latency": "1ms"}]}})",
                        two_regions());
  REQUIRE(l.errors.empty());
  const ClusterSpec& c = l.spec.clusters[0];
  CHECK(c.gpus == 1024);
  CHECK(c.site == "use1-az4");
  CHECK(c.scale_out.tiers == 3);
  CHECK(c.scale_out.leaf_oversubscription == 2);
  REQUIRE(l.spec.wan_links.size() == 2);
  CHECK(l.spec.wan_links[0].bytes_per_s == 200e9);
  CHECK(l.spec.wan_links[0].count == 2);
  const Topology t = build_topology(l.spec);
  CHECK(t.sites().size() == 4);
}

TEST_CASE("network loader: bad specs are rejected with pointers", "[network][loader]") {
  const Loaded l = load(R"({"network": {
      "clusters": [{"name": "big", "gpus": 100000, "gpus_per_host": 8,
                    "scale_out": {"design": "leaf_spine", "switch_radix": 64}},
                   {"name": "zero", "gpus": 64, "scale_out": {"port_speed": "0 Gbps"}},
                   {"name": "typo", "gpus": 64, "scale_out": {"design": "fat_tre"}}],
      "wan": [{"between": ["us-east-1", "eu-west-9"], "bandwidth": "100 Gbps", "latency": "40ms"}]}})",
                        two_regions());
  REQUIRE(l.errors.size() == 4);
  CHECK(l.errors[0].pointer == "/network/clusters/0");
  CHECK_THAT(l.errors[0].message, Catch::Contains("radix 64 is too small for 100000 GPUs in 2 tiers"));
  CHECK(l.errors[1].pointer == "/network/clusters/1/scale_out/port_speed");
  CHECK(l.errors[2].pointer == "/network/clusters/2/scale_out/design");
  CHECK_THAT(l.errors[2].message, Catch::Contains("did you mean \"fat_tree\""));
  CHECK(l.errors[3].pointer == "/network/wan/0/between/1");
  CHECK_THAT(l.errors[3].message, Catch::Contains("unknown region or zone \"eu-west-9\" (did you mean \"eu-west-1\"?)"));
}
