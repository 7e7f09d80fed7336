// SPDX-License-Identifier: Apache-2.0
// Tests of models/scenario/load_network.cpp: cluster shapes, limits and the errors' pointers.
#include "models/network/topology.hpp"
#include "models/scenario/load_network.hpp"
#include "models/scenario/reader.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>

#include <fstream>
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

TEST_CASE("network loader: link failures and collective costing", "[network][loader]") {
  Diagnostics diags("test.json");
  const nlohmann::json doc = parse_json_text(R"({"network": {
      "clusters": [{"name": "train", "gpus": 1024, "scale_out": {"design": "fat_tree", "switch_radix": 16}}],
      "link_failures": [{"fraction": "1%"},
                        {"count": 3, "tiers": ["spine_core", "wan"], "at": "2h", "for": "30min", "seed": 9, "cluster": "train"},
                        {"mtbf": "50000h", "tiers": ["leaf_spine"]}],
      "collective_costing": "flows"}})", diags);
  nlohmann::json resolved = doc;
  const Reader root = Reader::root(doc, diags, &resolved);
  const NetworkSpec spec = load_network(root.section("network"), {}, Catalog{});
  const NetworkRunOptions o = load_network_run(root.section("network"), spec);
  REQUIRE(diags.sorted().empty());
  REQUIRE(o.link_failures.size() == 3);
  CHECK(o.collective_costing == CollectiveCosting::Flows);
  const LinkFailureSpec& a = o.link_failures[0];
  CHECK(a.fraction == Approx(0.01));
  CHECK(a.kinds == std::vector<LinkKind>{LinkKind::LeafSpine, LinkKind::SpineCore});
  CHECK(a.at == Duration::zero());
  CHECK(a.duration == Duration::max());
  CHECK_FALSE(a.seed.has_value());
  const LinkFailureSpec& b = o.link_failures[1];
  CHECK(b.count == 3);
  CHECK(b.kinds == std::vector<LinkKind>{LinkKind::SpineCore, LinkKind::Wan});
  CHECK(b.at == Duration::hours(2));
  CHECK(b.duration == Duration::minutes(30));
  CHECK(b.seed == 9u);
  CHECK(b.cluster == "train");
  const LinkFailureSpec& c = o.link_failures[2];
  CHECK(c.mtbf == Duration::hours(50000));
  CHECK(c.repair == Duration::hours(4));
  // Absent: aggregate, written into resolved.json.
  Diagnostics d2("test.json");
  const nlohmann::json doc2 = parse_json_text(R"({"network": {"clusters": []}})", d2);
  nlohmann::json resolved2 = doc2;
  const Reader root2 = Reader::root(doc2, d2, &resolved2);
  CHECK(load_network_run(root2.section("network"), NetworkSpec{}).collective_costing == CollectiveCosting::Aggregate);
  CHECK(resolved2["network"]["collective_costing"] == "aggregate");
}

TEST_CASE("network loader: routing policies per cluster, pinned routes checked with file, line and element",
          "[network][loader][routing]") {
  fleetsim::test::TempDir dir("routes");
  {
    std::ofstream(dir.path / "good.routes") << "# gpu0 to gpu2 through spine 1\n"
                                               "lab/gpu0 lab/p0/leaf0 lab/p0/spine1 lab/p0/leaf1 lab/gpu2\n";
    std::ofstream(dir.path / "bad.routes") << "lab/gpu0 lab/p0/leaf0 lab/p0/spine1 lab/p0/leaf1 lab/gpu2\n"
                                              "lab/gpu1 lab/p0/leaf0 lab/p0/spine7 lab/p0/leaf1 lab/gpu3\n";
  }
  const std::string scenario = (dir.path / "s.json").string();
  auto load_run = [&](const std::string& routing, std::vector<Diagnostic>& errors) {
    Diagnostics diags(scenario);
    const nlohmann::json doc = parse_json_text(
        R"({"network": {"clusters": [{"name": "lab", "gpus": 8, "gpus_per_host": 1,
            "scale_out": {"design": "leaf_spine", "switch_radix": 4}, "routing": )" + routing + R"(},
            {"name": "other", "gpus": 4, "gpus_per_host": 1, "scale_out": {"design": "leaf_spine", "switch_radix": 4}}]}})",
        diags);
    const Reader root = Reader::root(doc, diags);
    const NetworkSpec spec = load_network(root.section("network"), {}, Catalog{});
    NetworkRunOptions o = load_network_run(root.section("network"), spec);
    errors = diags.sorted();
    return o;
  };
  std::vector<Diagnostic> errors;
  NetworkRunOptions o = load_run(R"({"policy": "spray"})", errors);
  REQUIRE(errors.empty());
  REQUIRE(o.routing.size() == 1);
  CHECK(o.routing[0].cluster == 0);
  CHECK(o.routing[0].policy == RoutingPolicy::Spray);

  o = load_run(R"({"policy": "pinned", "routes": "good.routes"})", errors);
  REQUIRE(errors.empty());
  REQUIRE(o.routing[0].routes.size() == 1);
  CHECK(o.routing[0].routes[0].line == 2);
  CHECK(o.routing[0].routes[0].hops.size() == 5);

  o = load_run(R"({"policy": "pinned", "routes": "bad.routes"})", errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/network/clusters/0/routing/routes");
  CHECK(errors[0].message ==
        "bad.routes: line 2, element 3 \"lab/p0/spine7\": no vertex of this name in the fabric");

  o = load_run(R"({"policy": "pinned", "routes": "missing.routes"})", errors);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0].message, Catch::StartsWith("cannot read routes file"));

  // A directory opens as a file and reads as nothing: refused, not an empty list of routes.
  load_run(R"({"policy": "pinned", "routes": "."})", errors);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0].message, Catch::StartsWith("cannot read routes file"));

  load_run(R"({"policy": "pinned"})", errors);  // a missing key is reported on its object
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/network/clusters/0/routing");
  CHECK_THAT(errors[0].message, Catch::Contains("\"routes\""));

  load_run(R"({"policy": "spray", "routes": "good.routes"})", errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/network/clusters/0/routing/routes");
  CHECK_THAT(errors[0].message, Catch::Contains("belongs to the \"pinned\" policy"));

  load_run(R"({"policy": "random"})", errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/network/clusters/0/routing/policy");
  CHECK_THAT(errors[0].message, Catch::Contains("\"ecmp\", \"pinned\", \"spray\", \"adaptive\""));
}

TEST_CASE("network loader: a caller can lower the cluster size limit (the fuzz harness does)", "[network][loader]") {
  Diagnostics diags("test.json");
  const nlohmann::json doc = parse_json_text(
      R"({"network": {"clusters": [{"name": "train", "gpus": 1024, "scale_out": {"design": "fat_tree", "switch_radix": 16}}]}})",
      diags);
  const Reader root = Reader::root(doc, diags);
  (void)load_network(root.section("network"), {}, Catalog{}, 1024);
  CHECK(diags.sorted().empty());
  (void)load_network(root.section("network"), {}, Catalog{}, 512);
  const auto errors = diags.sorted();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].pointer == "/network/clusters/0");
  CHECK_THAT(errors[0].message, Catch::Contains("more than the limit of 512 GPUs per network cluster"));
}
