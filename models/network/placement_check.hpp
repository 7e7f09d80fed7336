// SPDX-License-Identifier: Apache-2.0
// NetworkPlacementCheck: whether the fleet nodes of a placement can all still reach one another on
// the fabric (Router::check_placement over the nodes' GPUs). The network side of the training
// floor's PlacementProbe (models/training/placement_probe.hpp), wired by models/world.
//
//   NetworkPlacementCheck check(fleet, map, router);
//   bool ok = check.connected(nodes);   // false: a partition splits the placement
//
// GPUs the map does not know (a datacenter without a cluster) are left out: no network is modelled
// for them, so they never split a placement. Cost: while the scale-out fabric is whole
// (Router::scale_out_whole), O(impaired GPUs x nodes of the placement); otherwise O(GPUs of the
// placement). Plus the router's lazy connected components, recomputed once per change of the switch
// graph, whatever the number of checks.
#pragma once

#include "models/hardware/fleet.hpp"
#include "models/network/fleet_map.hpp"
#include "models/network/routing.hpp"

#include <span>
#include <vector>

namespace fleetsim {

class NetworkPlacementCheck {
 public:
  NetworkPlacementCheck(const Fleet& fleet, const FleetNetworkMap& map, Router& router)
      : fleet_(fleet), map_(map), router_(router) {}

  bool connected(std::span<const NodeId> nodes);

 private:
  const Fleet& fleet_;
  const FleetNetworkMap& map_;
  Router& router_;
  std::vector<VertexId> endpoints_;  // scratch
};

}  // namespace fleetsim
