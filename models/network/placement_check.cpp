// SPDX-License-Identifier: Apache-2.0
#include "models/network/placement_check.hpp"

namespace fleetsim {

bool NetworkPlacementCheck::connected(std::span<const NodeId> nodes) {
  endpoints_.clear();
  for (NodeId n : nodes) {
    const IndexRange gpus = fleet_.range(ref(n), Level::Gpu);
    for (uint32_t g = gpus.begin; g < gpus.end; ++g)
      if (const auto v = map_.endpoint(GpuId{g})) endpoints_.push_back(*v);
  }
  if (endpoints_.size() < 2) return true;
  return router_.check_placement(endpoints_).connected;
}

}  // namespace fleetsim
