// SPDX-License-Identifier: Apache-2.0
// Topology files (models/scenario/topology_file.hpp): every built-in fabric written to GraphML and DOT
// reads back as the same vertices and links; hosts expand into GPUs; bad files name element and attribute.
#include "models/scenario/topology_file.hpp"

#include "models/network/routing.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>

using namespace fleetsim;

namespace {

NetworkSpec rail_spec() {
  ClusterSpec c;
  c.name = "rail";
  c.gpus = 128;
  c.gpus_per_host = 8;
  c.scale_up = {.gpus_per_domain = 8, .bytes_per_s = 450e9, .latency = Duration::ns(250)};
  c.scale_out = {.attach = Attach::Rail, .tiers = 2, .radix = 32, .port_bytes_per_s = 50e9, .planes = 2};
  return NetworkSpec{{c}, {}, {}};
}

NetworkSpec fat_tree_spec() {
  ClusterSpec c;
  c.name = "ft";
  c.gpus = 128;
  c.gpus_per_host = 1;
  c.scale_up.gpus_per_domain = 1;
  c.scale_out = {.attach = Attach::Tor, .tiers = 3, .radix = 8, .port_bytes_per_s = 50e9, .leaf_oversubscription = 1,
                 .spine_oversubscription = 2};
  return NetworkSpec{{c}, {}, {}};
}

NetworkSpec wan_spec() {
  NetworkSpec s;
  for (const char* site : {"east", "west"}) {
    ClusterSpec c;
    c.name = std::string("dc-") + site;
    c.site = site;
    c.gpus = 32;
    c.gpus_per_host = 8;
    c.scale_out.radix = 16;
    c.wan_uplink_bytes_per_s = 12.5e9;
    s.clusters.push_back(c);
    s.sites.push_back({site, ""});
  }
  s.wan_links.push_back({"east", "west", 1.25e10 / 3, Duration::us(31'415), 2});
  return s;
}

Topology round_trip(const Topology& t, TopologyFormat f, std::string* text = nullptr) {
  std::ostringstream out;
  write_topology(t, f, out);
  if (text != nullptr) *text = out.str();
  std::istringstream in(out.str());
  return read_topology(in, f, "round-trip");
}

void require_same(const Topology& a, const Topology& b) {
  REQUIRE(a.vertices() == b.vertices());
  for (VertexId v = 0; v < a.vertices(); ++v) {
    INFO(a.vertex(v).name);
    REQUIRE(a.vertex(v).kind == b.vertex(v).kind);
    REQUIRE(a.vertex(v).name == b.vertex(v).name);
    REQUIRE(a.vertex(v).cluster == b.vertex(v).cluster);
    REQUIRE(a.vertex(v).plane == b.vertex(v).plane);
    REQUIRE(a.vertex(v).index == b.vertex(v).index);
  }
  REQUIRE(a.directed_edges() == b.directed_edges());
  for (EdgeIndex e = 0; e < a.directed_edges(); ++e) {
    REQUIRE(a.edge(e).source == b.edge(e).source);
    REQUIRE(a.edge(e).target == b.edge(e).target);
    REQUIRE(a.edge(e).bytes_per_s == b.edge(e).bytes_per_s);  // exact: capacities are written exactly
    REQUIRE(a.edge(e).latency == b.edge(e).latency);
    REQUIRE(a.edge(e).kind == b.edge(e).kind);
  }
  REQUIRE(a.clusters() == b.clusters());
  for (uint32_t c = 0; c < a.clusters(); ++c) {
    REQUIRE(a.gpus(c) == b.gpus(c));
    REQUIRE(a.endpoint(c, 0) == b.endpoint(c, 0));
    REQUIRE(a.report().clusters[c].name == b.report().clusters[c].name);
  }
  REQUIRE(a.sites() == b.sites());
  REQUIRE(a.report().links_per_kind == b.report().links_per_kind);
}

Topology read_text(const std::string& text, TopologyFormat f) {
  std::istringstream in(text);
  return read_topology(in, f, "test.dot");
}

}  // namespace

TEST_CASE("topology files: every built-in fabric round-trips through GraphML and DOT", "[network][topology_file]") {
  for (const NetworkSpec& spec : {rail_spec(), fat_tree_spec(), wan_spec()}) {
    const Topology t = build_topology(spec);
    for (TopologyFormat f : {TopologyFormat::GraphMl, TopologyFormat::Dot}) {
      std::string first, second;
      const Topology back = round_trip(t, f, &first);
      require_same(t, back);
      round_trip(back, f, &second);
      CHECK(first == second);  // the file of the re-imported topology is the same file
    }
  }
}

TEST_CASE("topology files: a hand-written DOT fabric with hosts and storage routes", "[network][topology_file]") {
  const std::string dot = R"(graph lab {
    h1 [kind=host, gpus=4]; h2 [kind=host, gpus=4]; nas [kind=storage];
    sw1 [kind=leaf]; sw2 [kind=leaf]; sp [kind=spine];
    h1 -- sw1 [capacity="400 Gbps", latency="1us"];
    h2 -- sw2 [capacity="400 Gbps", latency="1us"];
    nas -- sw2 [capacity="100 Gbps"];
    sw1 -- sp [capacity="800 Gbps", latency="500ns"];
    sw2 -- sp [capacity="800 Gbps", latency="500ns"];
  })";
  const Topology t = read_text(dot, TopologyFormat::Dot);
  REQUIRE(t.clusters() == 1);
  CHECK(t.report().clusters[0].name == "test");
  REQUIRE(t.gpus(0) == 8);
  CHECK(t.vertex(t.endpoint(0, 5)).name == "h2/gpu1");
  const auto nas = t.find("nas");
  REQUIRE(nas);
  CHECK(!t.forwards(*nas));
  CHECK(t.forwards(*t.find("h1")));  // the host's NIC
  Router r(t);
  std::vector<EdgeIndex> path;
  REQUIRE(r.route(t.endpoint(0, 0), t.endpoint(0, 7), 1, path));
  // gpu -> h1 -> sw1 -> sp -> sw2 -> h2 -> gpu
  CHECK(path.size() == 6);
  CHECK(t.edge(path[1]).bytes_per_s == 50e9);
  CHECK(t.edge(path[1]).latency == Duration::us(1));
  CHECK(t.edge(path[0]).bytes_per_s == 50e9);  // gpu_bandwidth defaults to the host's links
  REQUIRE(r.route(t.endpoint(0, 0), *nas, 1, path));
  CHECK(path.size() == 5);
}

TEST_CASE("topology files: errors name the element and the attribute", "[network][topology_file]") {
  auto message = [](const std::string& text, TopologyFormat f) -> std::string {
    try {
      read_text(text, f);
    } catch (const TopologyFileError& e) {
      return e.what();
    }
    return "no error";
  };
  using Catch::Matchers::Contains;
  CHECK_THAT(message(R"(graph g { a [kind=leaf]; a -- ghost [capacity="1 Gbps"]; })", TopologyFormat::Dot),
             Contains("test.dot") && Contains("\"ghost\"") && Contains("dangling edge"));
  CHECK_THAT(message(R"(graph g { h [kind=host]; s [kind=leaf]; h -- s [capacity="1 Gbps"]; })", TopologyFormat::Dot),
             Contains("node \"h\"") && Contains("\"gpus\"") && Contains("at least 1 GPU"));
  CHECK_THAT(message(R"(graph g { h [kind=gpu]; s [kind=leaf]; h -- s [capacity="400"]; })", TopologyFormat::Dot),
             Contains("edge \"h\" -- \"s\"") && Contains("\"capacity\"") && Contains("no unit"));
  CHECK_THAT(message(R"(graph g { h [kind=gpu]; s [kind=router]; h -- s [capacity="4 Gbps"]; })", TopologyFormat::Dot),
             Contains("node \"s\"") && Contains("\"kind\"") && Contains("\"router\""));
  CHECK_THAT(message(R"(graph g { h [kind=gpu]; s [kind=leaf]; h -- s [capacity="4 Gbps", latency="3"]; })",
                     TopologyFormat::Dot),
             Contains("\"latency\""));
  const std::string graphml = R"(<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="k0" for="node" attr.name="name" attr.type="string"/>
  <key id="k1" for="node" attr.name="kind" attr.type="string"/>
  <key id="k2" for="edge" attr.name="capacity" attr.type="string"/>
  <graph id="G" edgedefault="undirected">
    <node id="n0"><data key="k0">g0</data><data key="k1">gpu</data></node>
    <node id="n1"><data key="k0">leaf0</data><data key="k1">leaf</data></node>
    <edge id="e0" source="n0" target="n1"><data key="k2">50e9</data></edge>
  </graph>
</graphml>)";
  CHECK_THAT(message(graphml, TopologyFormat::GraphMl), Contains("edge \"g0\" -- \"leaf0\"") && Contains("no unit"));
}
