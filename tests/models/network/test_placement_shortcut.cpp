// SPDX-License-Identifier: Apache-2.0
// The placement check's shortcut (NetworkPlacementCheck with Router::scale_out_whole and the impaired
// GPUs) gives exactly the answer of the full union-find over every GPU of the placement
// (Router::check_placement), through random link, switch and GPU failures and repairs; and the switch
// graph's components are recomputed only when a link between switches or a switch changes.
#include "models/network/fleet_map.hpp"
#include "models/network/placement_check.hpp"
#include "models/network/routing.hpp"
#include "tests/models/hardware/fleet_fixtures.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <vector>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {
// dc3 of two_region_spec: 5 HGX nodes (40 GPUs) in us-east-1/use1-az2, on a ToR leaf-spine (2 hosts per
// leaf, no scale-up links: a GPU whose access link is down is cut off).
NetworkSpec dc3_network() {
  ClusterSpec c = tor_cluster(40, 32, 2);
  c.name = "dc3";
  c.gpus_per_host = 8;
  c.datacenter = "us-east-1/use1-az2/dc3";
  return NetworkSpec{{c}, {}, {}};
}

/// The answer without the shortcut: every GPU of the nodes through the router's union-find.
bool full_check(const Fleet& fleet, const FleetNetworkMap& map, Router& router, const std::vector<NodeId>& nodes) {
  std::vector<VertexId> v;
  for (NodeId n : nodes) {
    const IndexRange gpus = fleet.range(ref(n), Level::Gpu);
    for (uint32_t g = gpus.begin; g < gpus.end; ++g)
      if (const auto e = map.endpoint(GpuId{g})) v.push_back(*e);
  }
  return v.size() < 2 || router.check_placement(v).connected;
}
}  // namespace

TEST_CASE("the placement check's shortcut agrees with the full check through random failures", "[network]") {
  const Fleet fleet = Fleet::build(two_region_spec());
  const NetworkSpec spec = dc3_network();
  const Topology topo = build_topology(spec);
  const FleetNetworkMap map(fleet, topo, spec);
  Router router(topo);
  NetworkPlacementCheck check(fleet, map, router);
  const IndexRange nodes = fleet.range(*fleet.find("us-east-1/use1-az2/dc3"), Level::Node);
  std::vector<uint32_t> access, fabric;
  std::vector<VertexId> leaves;
  for (EdgeIndex e = 0; e < topo.directed_edges(); e += 2) {
    const auto& r = topo.edge(e);
    (r.kind == LinkKind::Access ? access : fabric).push_back(Router::link_of(e));
  }
  for (VertexId v = 0; v < topo.vertices(); ++v)
    if (topo.vertex(v).kind == VertexKind::Leaf) leaves.push_back(v);
  REQUIRE(router.scale_out_whole());
  REQUIRE(router.impaired().empty());

  std::mt19937_64 rng(7);
  uint64_t shortcut_true = 0, disagreements = 0, splits = 0;
  for (int step = 0; step < 3000; ++step) {
    const uint64_t what = rng() % 10;
    const bool up = rng() % 2 == 0;
    if (what < 5) {
      router.set_link_up(access[rng() % access.size()], up);
    } else if (what < 8) {
      router.set_link_up(fabric[rng() % fabric.size()], up);
    } else if (what < 9) {
      router.set_vertex_up(leaves[rng() % leaves.size()], up);
    } else {
      router.set_vertex_up(topo.endpoint(0, static_cast<uint32_t>(rng() % 40)), up);
    }
    for (int k = 0; k < 4; ++k) {
      std::vector<NodeId> placement;
      for (uint32_t n = nodes.begin; n < nodes.end; ++n)
        if (rng() % 2 == 0) placement.push_back(NodeId{n});
      const bool fast = check.connected(placement);
      const bool full = full_check(fleet, map, router, placement);
      if (fast != full) ++disagreements;
      if (!full) ++splits;
      if (fast && router.scale_out_whole()) ++shortcut_true;
    }
  }
  CHECK(disagreements == 0);
  CHECK(splits > 100);          // the sequence does split placements, so the comparison means something
  CHECK(shortcut_true > 100);   // and the shortcut answered many of them
}

TEST_CASE("components are recomputed only when the switch graph changes", "[network]") {
  const NetworkSpec spec = dc3_network();
  const Topology topo = build_topology(spec);
  Router router(topo);
  REQUIRE(router.components() == 1);
  const uint64_t runs = router.component_runs();
  uint32_t access = 0, fabric = 0;
  for (EdgeIndex e = 0; e < topo.directed_edges(); e += 2)
    (topo.edge(e).kind == LinkKind::Access ? access : fabric) = Router::link_of(e);
  // An access link and a GPU: the GPU is impaired, the switch graph unchanged.
  router.set_link_up(access, false);
  router.set_vertex_up(topo.endpoint(0, 5), false);
  CHECK(router.components() == 1);
  CHECK(router.component_runs() == runs);
  CHECK(router.impaired().size() == 2);
  CHECK(router.scale_out_whole());
  router.set_link_up(access, true);
  router.set_vertex_up(topo.endpoint(0, 5), true);
  CHECK(router.impaired().empty());
  // A leaf-spine link: recomputed once, whatever the number of questions.
  router.set_link_up(fabric, false);
  router.components();
  router.components();
  CHECK(router.component_runs() == runs + 1);
}
