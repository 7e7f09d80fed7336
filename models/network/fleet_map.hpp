// SPDX-License-Identifier: Apache-2.0
// FleetNetworkMap: where the fleet's GPUs and racks are in the network, so that fleet-level events
// (FailureEvent of class link or switch, published by models/failures) become network changes.
//
//   FleetNetworkMap map(fleet, topo, spec);              // spec: the NetworkSpec topo was built from
//   failures.on_event.connect([&](const FailureEvent& e) {   // wired by models/world
//     if (e.cls == ComponentClass::Link) for (uint32_t l : map.access_links(GpuId{e.component.index}))
//       flows.set_link_up(l, e.kind != FailureEvent::Kind::Failure);
//     if (e.cls == ComponentClass::Switch) if (auto v = map.tor_of(RackId{e.component.index}))
//       flows.set_switch_up(*v, e.kind != FailureEvent::Kind::Failure);
//   });
//
// A cluster built from a fleet datacenter (ClusterSpec::datacenter) holds that datacenter's GPUs in
// fleet order: GPU i of the datacenter is endpoint(cluster, i). GPUs of datacenters without a cluster
// have no endpoint. The "switch" of a rack (FailureSpec: its top-of-rack switch) is the plane-0 leaf of
// the rack's first GPU: for top-of-rack designs exactly the rack's ToR; for rail designs, where a rack
// has no single ToR, the leaf of its first rail (a rail-switch failure).
#pragma once

#include "models/hardware/fleet.hpp"
#include "models/network/topology.hpp"

#include <optional>
#include <vector>

namespace fleetsim {

class FleetNetworkMap {
 public:
  /// Throws std::invalid_argument if a cluster names a datacenter the fleet does not have, or holds a
  /// different number of GPUs.
  FleetNetworkMap(const Fleet& fleet, const Topology& topo, const NetworkSpec& spec);

  std::optional<VertexId> endpoint(GpuId g) const;
  /// The fleet GPU of an endpoint; nullopt for a vertex that is no mapped fleet GPU.
  std::optional<GpuId> gpu_of(VertexId v) const;
  /// The physical links (Router::link_of) from a GPU to its leaves, one per plane; empty if unmapped.
  std::vector<uint32_t> access_links(GpuId g) const;
  /// The leaf standing for a rack's switch; nullopt if the rack is not in the network.
  std::optional<VertexId> tor_of(RackId r) const;
  /// Endpoints of a placement given as fleet GPUs; nullopt if any is unmapped.
  std::optional<std::vector<VertexId>> placement(const std::vector<GpuId>& gpus) const;

 private:
  struct Range {
    uint32_t fleet_begin, fleet_end, cluster;
  };
  const Fleet& fleet_;
  const Topology& topo_;
  std::vector<Range> ranges_;  // sorted by fleet_begin
};

}  // namespace fleetsim
