// SPDX-License-Identifier: Apache-2.0
// The router's route costs against Boost Graph's Dijkstra on the same fabric, run independently: the
// router answers from BFS distance tables to each destination's attachment switches (filled up to 64
// at a time by a bit-parallel BFS, models/network/routing.cpp), Dijkstra searches the graph itself
// with the cost rule of routing.hpp (NVLink 1, other links 2, no transit through a GPU). With random
// links and switches down, every pair must cost the same, and be unreachable in both or neither.
#include "models/network/routing.hpp"
#include "sim/rng.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <boost/graph/filtered_graph.hpp>
#include <boost/property_map/function_property_map.hpp>
#include <catch2/catch.hpp>

#include <limits>
#include <vector>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

/// Edges the router can use: the link up and both ends up.
struct UsableEdge {
  const Router* r = nullptr;
  const TopologyGraph* g = nullptr;
  bool operator()(boost::graph_traits<TopologyGraph>::edge_descriptor e) const { return r->usable((*g)[e].id); }
};

/// Vertices a route from src to dst may pass: every one that forwards, and the two ends.
struct MayPass {
  const Topology* t = nullptr;
  VertexId src = 0, dst = 0;
  bool operator()(VertexId v) const { return v == src || v == dst || t->forwards(v); }
};

/// Cost of the cheapest path from src to dst by Dijkstra, or UINT32_MAX.
uint32_t dijkstra_cost(const Topology& t, const Router& r, VertexId src, VertexId dst) {
  const TopologyGraph& g = t.graph();
  const boost::filtered_graph<TopologyGraph, UsableEdge, MayPass> fg(g, UsableEdge{&r, &g}, MayPass{&t, src, dst});
  std::vector<uint32_t> dist(t.vertices(), std::numeric_limits<uint32_t>::max());
  const auto weight = boost::make_function_property_map<boost::graph_traits<TopologyGraph>::edge_descriptor, uint32_t>(
      [&](boost::graph_traits<TopologyGraph>::edge_descriptor e) { return g[e].kind == LinkKind::NvLink ? 1u : 2u; });
  boost::dijkstra_shortest_paths(
      fg, src, boost::distance_map(boost::make_iterator_property_map(dist.data(), boost::get(boost::vertex_index, g))).weight_map(weight));
  return dist[dst];
}

void compare(const Topology& t, uint64_t seed, int rounds) {
  Router r(t);
  Rng rng(seed);
  const uint32_t gpus = t.gpus(0), links = t.directed_edges() / 2;
  int unreachable = 0, checks = 0;
  for (int round = 0; round < rounds; ++round) {
    // Fail or return a few switch-to-switch and access links, now and then a whole switch.
    for (int k = 0; k < 6; ++k) {
      const auto l = static_cast<uint32_t>(rng.uniform_int(uint64_t{links}));
      r.set_link_up(l, !r.link_up(l));
    }
    if (round % 4 == 3) {
      const auto v = static_cast<VertexId>(rng.uniform_int(uint64_t{t.vertices()}));
      if (t.forwards(v)) r.set_vertex_up(v, !r.vertex_up(v));
    }
    for (int q = 0; q < 40; ++q) {
      const VertexId s = t.endpoint(0, static_cast<uint32_t>(rng.uniform_int(uint64_t{gpus})));
      const VertexId d = t.endpoint(0, static_cast<uint32_t>(rng.uniform_int(uint64_t{gpus})));
      if (s == d || !r.vertex_up(s) || !r.vertex_up(d)) continue;
      const uint32_t want = dijkstra_cost(t, r, s, d);
      INFO("round " << round << ", GPU vertices " << s << " -> " << d);
      REQUIRE(r.cost(s, d) == want);
      unreachable += want == UINT32_MAX ? 1 : 0;
      ++checks;
    }
  }
  CHECK(checks > rounds * 30);
  CHECK(unreachable < checks);  // most pairs stay connected
}

}  // namespace

TEST_CASE("routing: route costs equal Dijkstra's on a fat-tree with links and switches down", "[network][routing]") {
  // k = 8 fat-tree (128 hosts, 80 switches): more than 64 attachment leaves' tables per batch boundary.
  compare(build_topology(NetworkSpec{{tor_cluster(128, 8, 3)}, {}, {}}), 11, 60);
}

TEST_CASE("routing: route costs equal Dijkstra's on a rail-optimized fabric with NVLink domains", "[network][routing]") {
  // 1,024 GPUs of 8-GPU hosts in 8-GPU NVLink domains, rail-attached, 3 tiers of radix 16: 128 leaves,
  // so a cluster's tables are filled in two batches of 64.
  ClusterSpec c = tor_cluster(1024, 16, 3);
  c.gpus_per_host = 8;
  c.scale_up = {8, 450e9, Duration::ns(250)};
  c.scale_out.attach = Attach::Rail;
  compare(build_topology(NetworkSpec{{c}, {}, {}}), 12, 40);
}

namespace {

/// Routes every GPU of `from` to `storage` twice, with links and a switch changing between the rounds,
/// on two routers: one that fills a cost table per dense destination and one that scans the
/// attachments. Each route must cost what Dijkstra finds and be the same path on both.
void compare_storage_routes(const Topology& t, uint32_t from, VertexId storage, uint64_t seed) {
  Router dense(t), scanned(t);
  scanned.set_dense_destinations(false);
  Rng rng(seed);
  // Toggle links between switches (and some others): enough that some switches' cheapest way to
  // storage is cut and they must go around.
  std::vector<uint32_t> between_switches;
  for (uint32_t l = 0; l < t.directed_edges() / 2; ++l)
    if (t.forwards(t.edge(2 * l).source) && t.forwards(t.edge(2 * l).target)) between_switches.push_back(l);
  const auto fail_some = [&](size_t n) {
    for (size_t k = 0; k < n; ++k) {
      const uint32_t l = between_switches[rng.uniform_int(uint64_t{between_switches.size()})];
      dense.set_link_up(l, !dense.link_up(l));
      scanned.set_link_up(l, !scanned.link_up(l));
    }
  };
  const auto path_cost = [&](const std::vector<EdgeIndex>& p) {
    uint32_t sum = 0;
    for (EdgeIndex e : p) sum += t.edge(e).kind == LinkKind::NvLink ? 1u : 2u;
    return sum;
  };
  fail_some(between_switches.size() / 4);
  std::vector<EdgeIndex> a, b, other;
  int routed = 0;
  for (int round = 0; round < 3; ++round) {
    if (round == 1) fail_some(between_switches.size() / 8);  // the table is for one routing generation: refilled
    if (round == 2) {
      // A switch down that some storage routes crossed.
      for (VertexId v = 0; v < t.vertices(); ++v)
        if (t.forwards(v) && t.vertex(v).kind != VertexKind::NvSwitch && dense.vertex_up(v) && v % 3 == 0) {
          dense.set_vertex_up(v, false);
          scanned.set_vertex_up(v, false);
          break;
        }
    }
    for (uint32_t g = 0; g < t.gpus(from); ++g) {
      const VertexId src = t.endpoint(from, g);
      INFO("round " << round << ", GPU " << g);
      const bool ok = dense.route(src, storage, 1000 * round + g, a);
      // (Another destination between storage walks: the dense router finds its table again.)
      dense.route(t.endpoint(from, (g + 1) % t.gpus(from)), src, 7, other);
      REQUIRE(scanned.route(src, storage, 1000 * round + g, b) == ok);
      CHECK(a == b);
      if (!ok) continue;
      CHECK(path_cost(a) == dijkstra_cost(t, dense, src, storage));
      ++routed;
    }
  }
  CHECK(routed > static_cast<int>(t.gpus(from)) * 2);
}

}  // namespace

TEST_CASE("routing: routes to a storage endpoint are the cheapest, and the same with its dense cost table",
          "[network][routing]") {
  // Storage attached to every core of a radix-8 fat-tree (16 attachments): the router reads one cost
  // per switch, filled by one search from the storage endpoint (Router::fill_dense_cost), instead of
  // scanning the attachments' distance tables (each over the cluster's switches).
  ClusterSpec c = tor_cluster(112, 8, 3);  // (a core port goes to storage: 7 pods of 16 GPUs)
  c.storage_bytes_per_s = 16 * 50e9;
  const Topology t = build_topology(NetworkSpec{{c}, {}, {}});
  REQUIRE(t.storage(0));
  compare_storage_routes(t, 0, *t.storage(0), 13);
}

TEST_CASE("routing: routes to another site's storage cross the WAN by the cheapest path", "[network][routing]") {
  // From cluster b's GPUs to cluster a's storage: the costs then span the whole switch graph (both
  // fabrics and the WAN routers), not one cluster.
  ClusterSpec a = tor_cluster(96, 8, 3);
  a.name = "a";
  a.site = "us-east-1";
  a.wan_uplink_bytes_per_s = 50e9;
  a.storage_bytes_per_s = 16 * 50e9;
  ClusterSpec b = tor_cluster(96, 8, 3);
  b.name = "b";
  b.site = "eu-west-1";
  b.wan_uplink_bytes_per_s = 50e9;
  const Topology t = build_topology(
      NetworkSpec{{a, b}, {{"us-east-1", ""}, {"eu-west-1", ""}}, {{"us-east-1", "eu-west-1", 12.5e9, Duration::ms(38), 2}}});
  REQUIRE(t.storage(0));
  compare_storage_routes(t, 1, *t.storage(0), 17);
  // And from a's own GPUs, whose routes are costed over a's fabric only, with a WAN router beside it.
  compare_storage_routes(t, 0, *t.storage(0), 19);
}
