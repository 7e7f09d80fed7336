// SPDX-License-Identifier: Apache-2.0
// 16 HGX hosts (128 H100) in datacenter r1/z1/dc1 with one network cluster "dc1" over them, for the
// tests of the network-aware costings (test_network_comm_cost.cpp, test_shared_fabric_incremental.cpp).
// The scale-out fabric is the test's: rail-optimized 2-tier at 400 Gb/s per GPU by default.
#pragma once

#include "models/network/fleet_map.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "tests/models/training/training_fixtures.hpp"

namespace fleetsim::test {

struct FabricNet {
  Fleet fleet = Fleet::build(h100_fleet(16));
  NetworkSpec spec;
  Topology topo;
  Router router;
  FleetNetworkMap map;

  static ScaleOutSpec rail_optimized() {
    ScaleOutSpec so;
    so.radix = 64;
    so.port_bytes_per_s = 50e9;
    return so;
  }
  static NetworkSpec make(const ScaleOutSpec& scale_out) {
    NetworkSpec s;
    ClusterSpec c;
    c.name = "dc1";
    c.datacenter = "r1/z1/dc1";
    c.gpus = 128;
    c.gpus_per_host = 8;
    c.scale_up = ScaleUpSpec{8, 450e9, Duration::ns(250)};
    c.scale_out = scale_out;
    s.clusters.push_back(c);
    return s;
  }
  explicit FabricNet(const ScaleOutSpec& scale_out = rail_optimized())
      : spec(make(scale_out)), topo(build_topology(spec)), router(topo), map(fleet, topo, spec) {}
};

}  // namespace fleetsim::test
