// SPDX-License-Identifier: Apache-2.0
// PlacementProbe: the one question the training floor asks a network model: can the nodes of a
// placement still all reach one another? The training floor does not know the fabric (it must not
// include models/network); models/world wires an implementation, e.g. NetworkPlacementCheck
// (models/network/placement_check.hpp) through PlacementProbeOf.
//
//   NetworkPlacementCheck check(fleet, map, router);       // in models/world
//   PlacementProbeOf<NetworkPlacementCheck> probe(check);
//   training.set_placement_probe(&probe);
//
// TrainingModel asks after every link or switch failure or repair event (the router has already
// seen it: the fabric's listener is connected first), once per job holding a placement, and when a
// job starts on a new placement: no per-step work. A split placement interrupts the job with cause
// "network partition"; it restarts once the probe reports the placement connected again.
#pragma once

#include "models/hardware/fleet.hpp"

#include <span>

namespace fleetsim {

class PlacementProbe {
 public:
  virtual ~PlacementProbe() = default;
  /// True if every node of `nodes` can reach every other through the network as it is now (nodes the
  /// network does not model count as connected).
  virtual bool connected(std::span<const NodeId> nodes) = 0;
};

/// Adapts any object with `bool connected(std::span<const NodeId>)` (not necessarily virtual) to a
/// PlacementProbe, so a network-floor class needs no training header. Holds a reference.
template <class Check>
class PlacementProbeOf final : public PlacementProbe {
 public:
  explicit PlacementProbeOf(Check& check) : check_(&check) {}
  bool connected(std::span<const NodeId> nodes) override { return check_->connected(nodes); }

 private:
  Check* check_;
};

}  // namespace fleetsim
