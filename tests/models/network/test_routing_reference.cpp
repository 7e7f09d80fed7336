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

TEST_CASE("routing: routes to a storage endpoint are the cheapest, and the same with its dense cost table",
          "[network][routing]") {
  // Storage attached to every core of a radix-8 fat-tree (16 attachments): from the 64th walk
  // to it in a row the router reads one cost per switch (Router::dst_cost_) instead of scanning the
  // attachments. Every GPU's checkpoint route must cost what Dijkstra finds, and be the very path a
  // router that never builds the table walks (each of its storage walks follows one to a GPU).
  ClusterSpec c = tor_cluster(112, 8, 3);  // (a core port goes to storage: 7 pods of 16 GPUs)
  c.storage_bytes_per_s = 16 * 50e9;
  const Topology t = build_topology(NetworkSpec{{c}, {}, {}});
  const auto storage = t.storage(0);
  REQUIRE(storage);
  Router dense(t), scanned(t);
  Rng rng(13);
  const uint32_t links = t.directed_edges() / 2;
  for (int k = 0; k < 12; ++k) {
    const auto l = static_cast<uint32_t>(rng.uniform_int(uint64_t{links}));
    dense.set_link_up(l, false);
    scanned.set_link_up(l, false);
  }
  const auto path_cost = [&](const std::vector<EdgeIndex>& p) {
    uint32_t sum = 0;
    for (EdgeIndex e : p) sum += t.edge(e).kind == LinkKind::NvLink ? 1u : 2u;
    return sum;
  };
  std::vector<EdgeIndex> a, b, other;
  int routed = 0;
  for (int round = 0; round < 2; ++round)
    for (uint32_t g = 0; g < t.gpus(0); ++g) {
      const VertexId src = t.endpoint(0, g);
      INFO("round " << round << ", GPU " << g);
      const bool ok = dense.route(src, *storage, 1000 * round + g, a);
      // (Another destination between storage walks: the scanned router's table is never built.)
      scanned.route(t.endpoint(0, (g + 1) % t.gpus(0)), src, 7, other);
      REQUIRE(scanned.route(src, *storage, 1000 * round + g, b) == ok);
      CHECK(a == b);
      if (!ok) continue;
      CHECK(path_cost(a) == dijkstra_cost(t, dense, src, *storage));
      ++routed;
    }
  CHECK(routed > 200);
}
