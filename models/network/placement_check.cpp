// SPDX-License-Identifier: Apache-2.0
#include "models/network/placement_check.hpp"

#include <algorithm>

namespace fleetsim {

bool NetworkPlacementCheck::connected(std::span<const NodeId> nodes) {
  // Shortcut (exact): with the scale-out fabric whole, only an impaired GPU of the placement can split
  // it, and there are usually a handful of those in the whole fleet; O(impaired x nodes) instead of
  // O(GPUs of the placement) with a map look-up per GPU.
  if (router_.scale_out_whole()) {
    bool touched = false;
    for (VertexId v : router_.impaired()) {
      const auto g = map_.gpu_of(v);
      if (!g) continue;
      const NodeId n = fleet_.node_of(*g);
      if (std::find(nodes.begin(), nodes.end(), n) != nodes.end()) {
        touched = true;
        break;
      }
    }
    if (!touched) return true;
  }
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
