// SPDX-License-Identifier: Apache-2.0
// Router::keep_distances: after link failures and repairs, a router that carried its distance tables
// forward routes exactly like a router built fresh on the same link states.
#include "models/network/routing.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include "sim/rng.hpp"

using namespace fleetsim;
using namespace fleetsim::test;

TEST_CASE("routing: distance tables kept across link changes equal fresh ones", "[network][routing]") {
  for (const ClusterSpec& c : {tor_cluster(128, 8, 3), tor_cluster(128, 8, 3, 2, 1), tor_cluster(64, 16, 2)}) {
    const Topology topo = build_topology(NetworkSpec{{c}, {}, {}});
    Router kept(topo);
    Rng rng(5);
    const uint32_t links = topo.directed_edges() / 2;
    const uint32_t gpus = topo.gpus(0);
    std::vector<EdgeIndex> p1, p2;
    uint64_t checks = 0;
    for (int round = 0; round < 40; ++round) {
      // Flip a few random links (failures and repairs, any kind), then compare against a fresh router.
      for (int k = 0; k < 3; ++k) {
        const auto l = static_cast<uint32_t>(rng.uniform_int(uint64_t{links}));
        kept.set_link_up(l, !kept.link_up(l));
      }
      Router fresh(topo);
      for (uint32_t l = 0; l < links; ++l) fresh.set_link_up(l, kept.link_up(l));
      for (int q = 0; q < 60; ++q) {
        const VertexId s = topo.endpoint(0, static_cast<uint32_t>(rng.uniform_int(uint64_t{gpus})));
        const VertexId d = topo.endpoint(0, static_cast<uint32_t>(rng.uniform_int(uint64_t{gpus})));
        const uint64_t key = rng.uniform_int(uint64_t{1} << 40);
        const bool r1 = kept.route(s, d, key, p1), r2 = fresh.route(s, d, key, p2);
        REQUIRE(r1 == r2);
        REQUIRE(p1 == p2);
        REQUIRE(kept.cost(s, d) == fresh.cost(s, d));
        ++checks;
      }
    }
    CHECK(checks == 2400);
    CHECK(kept.links_down() > 0);
  }
}

TEST_CASE("routing: a leaf-spine link failure in a fat-tree keeps most distance tables", "[network][routing]") {
  // k = 8 fat-tree: 32 leaves. Route between all leaf pairs (one BFS per destination leaf), fail one
  // leaf-spine link, route again: only the tables the failure can change are rebuilt.
  const Topology topo = build_topology(NetworkSpec{{tor_cluster(128, 8, 3)}, {}, {}});
  Router r(topo);
  std::vector<EdgeIndex> path;
  auto all_pairs = [&] {
    for (uint32_t a = 0; a < 128; a += 4)
      for (uint32_t b = 0; b < 128; b += 4) r.route(topo.endpoint(0, a), topo.endpoint(0, b), a * 131 + b, path);
  };
  all_pairs();
  const uint64_t before = r.bfs_runs();
  CHECK(before == 32);
  uint32_t leaf_spine = 0;
  while (topo.edge(leaf_spine * 2).kind != LinkKind::LeafSpine) ++leaf_spine;
  r.set_link_up(leaf_spine, false);
  all_pairs();
  // The leaf that lost an uplink keeps 3 of 4 spines at distance 1 from it, so every other leaf's
  // table stands; only tables where the spine's side has no other parent are rebuilt.
  CHECK(r.bfs_runs() - before < 8);
}
