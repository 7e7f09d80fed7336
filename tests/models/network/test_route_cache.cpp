// SPDX-License-Identifier: Apache-2.0
// Router's route cache and its radix-independent hop (routing.hpp): a repeated (source, destination,
// key) is answered from the cache until a link changes; what it answers is a shortest path.
#include "models/network/routing.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include "sim/rng.hpp"

using namespace fleetsim;
using namespace fleetsim::test;

namespace {
uint32_t path_cost(const Topology& t, const std::vector<EdgeIndex>& p) {
  uint32_t c = 0;
  for (EdgeIndex e : p) c += t.edge(e).kind == LinkKind::NvLink ? 1 : 2;
  return c;
}
}  // namespace

TEST_CASE("routing: a repeated route comes from the cache until a link on it fails", "[network][routing]") {
  const Topology topo = build_topology(NetworkSpec{{tor_cluster(128, 8, 3)}, {}, {}});
  Router r(topo);
  const VertexId s = topo.endpoint(0, 0), d = topo.endpoint(0, 127);
  std::vector<EdgeIndex> first, again;
  REQUIRE(r.route(s, d, 77, first));
  REQUIRE(first.size() == 6);  // up to a core and down again
  CHECK(r.route_cache_misses() == 1);
  REQUIRE(r.route(s, d, 77, again));
  CHECK(again == first);
  CHECK(r.route_cache_hits() == 1);
  // Fail the spine-core link of the path: the cached route is stale and must not come back.
  const uint32_t cut = Router::link_of(first[2]);
  r.set_link_up(cut, false);
  REQUIRE(r.route(s, d, 77, again));
  CHECK(r.route_cache_misses() == 2);
  for (EdgeIndex e : again) CHECK(Router::link_of(e) != cut);
  CHECK(path_cost(topo, again) == r.cost(s, d));
  // Repaired: the same key takes the same path as before the failure.
  r.set_link_up(cut, true);
  REQUIRE(r.route(s, d, 77, again));
  CHECK(again == first);
}

TEST_CASE("routing: routes through a wide switch and over NVLink are shortest paths", "[network][routing]") {
  // A 256-port star (one switch of radix 257, one uplink), and 8-GPU NVLink domains on a rail fabric
  // with 2 planes: every route costs what Router::cost says, and the same key always gives the same path.
  ClusterSpec star = tor_cluster(256, 257, 2, 256);
  ClusterSpec rail;
  rail.name = "rail";
  rail.gpus = 256;
  rail.gpus_per_host = 8;
  rail.scale_out.radix = 32;
  rail.scale_out.planes = 2;
  for (const ClusterSpec& c : {star, rail}) {
    const Topology topo = build_topology(NetworkSpec{{c}, {}, {}});
    Router r(topo), fresh(topo);
    Rng rng(11);
    std::vector<EdgeIndex> p, q;
    for (int i = 0; i < 2000; ++i) {
      const VertexId s = topo.endpoint(0, static_cast<uint32_t>(rng.uniform_int(uint64_t{256})));
      const VertexId d = topo.endpoint(0, static_cast<uint32_t>(rng.uniform_int(uint64_t{256})));
      const uint64_t key = rng.uniform_int(uint64_t{8});  // few keys: many repeats, many cache hits
      REQUIRE(r.route(s, d, key, p));
      REQUIRE(path_cost(topo, p) == r.cost(s, d));
      if (s != d) {
        REQUIRE(topo.edge(p.front()).source == s);
        REQUIRE(topo.edge(p.back()).target == d);
      }
      REQUIRE(fresh.route(s, d, key, q));
      REQUIRE(p == q);
    }
    CHECK(r.route_cache_hits() > 0);
  }
}
