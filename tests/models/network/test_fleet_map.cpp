// SPDX-License-Identifier: Apache-2.0
#include "models/network/fleet_map.hpp"
#include "tests/models/hardware/fleet_fixtures.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {
// dc3 of two_region_spec: 5 HGX nodes (40 GPUs) in us-east-1/use1-az2, on a ToR leaf-spine.
NetworkSpec dc3_network() {
  ClusterSpec c = tor_cluster(40, 32, 2);  // 16 down ports: 2 hosts of 8 per leaf
  c.name = "dc3";
  c.gpus_per_host = 8;
  c.datacenter = "us-east-1/use1-az2/dc3";
  return NetworkSpec{{c}, {}, {}};
}
}  // namespace

TEST_CASE("fleet GPUs and racks map onto network endpoints and leaves", "[network]") {
  const Fleet fleet = Fleet::build(two_region_spec());
  const NetworkSpec spec = dc3_network();
  const Topology topo = build_topology(spec);
  const FleetNetworkMap map(fleet, topo, spec);
  const IndexRange gpus = fleet.range(*fleet.find("us-east-1/use1-az2/dc3"), Level::Gpu);
  CHECK(map.endpoint(GpuId{gpus.begin}) == topo.endpoint(0, 0));
  CHECK(map.endpoint(GpuId{gpus.begin + 17}) == topo.endpoint(0, 17));
  CHECK_FALSE(map.endpoint(GpuId{0}).has_value());  // dc1 has no network here
  CHECK(map.access_links(GpuId{gpus.begin}).size() == 1);
  // Racks of 2 nodes: rack 1 of dc3 starts at GPU 16, on the leaf of hosts 2 and 3 (2 hosts per leaf).
  const IndexRange racks = fleet.range(*fleet.find("us-east-1/use1-az2/dc3"), Level::Rack);
  const auto leaf = map.tor_of(RackId{racks.begin + 1});
  REQUIRE(leaf.has_value());
  CHECK(topo.vertex(*leaf).kind == VertexKind::Leaf);
  CHECK(topo.vertex(*leaf).index == 1);
}

TEST_CASE("a link failure event cuts the GPU's rail and its repair restores it", "[network]") {
  const Fleet fleet = Fleet::build(two_region_spec());
  const NetworkSpec spec = dc3_network();
  const Topology topo = build_topology(spec);
  const FleetNetworkMap map(fleet, topo, spec);
  Router router(topo);
  Engine engine;
  FlowModel flows(topo, router, engine);
  const GpuId g{fleet.range(*fleet.find("us-east-1/use1-az2/dc3"), Level::Gpu).begin + 3};
  const VertexId a = *map.endpoint(g), b = topo.endpoint(0, 30);
  for (uint32_t l : map.access_links(g)) flows.set_link_up(l, false);
  CHECK_FALSE(router.reachable(a, b));
  for (uint32_t l : map.access_links(g)) flows.set_link_up(l, true);
  CHECK(router.reachable(a, b));
}

TEST_CASE("a cluster whose datacenter is missing or of another size is rejected", "[network]") {
  const Fleet fleet = Fleet::build(two_region_spec());
  NetworkSpec spec = dc3_network();
  spec.clusters[0].datacenter = "us-east-1/use1-az2/dc9";
  const Topology topo = build_topology(spec);
  CHECK_THROWS_WITH(FleetNetworkMap(fleet, topo, spec), Catch::Contains("no datacenter \"us-east-1/use1-az2/dc9\""));
  spec.clusters[0].datacenter = "us-east-1/use1-az1/dc1";  // 80 GPUs, not 40
  CHECK_THROWS_WITH(FleetNetworkMap(fleet, topo, spec), Catch::Contains("has 40 GPUs but datacenter"));
}
