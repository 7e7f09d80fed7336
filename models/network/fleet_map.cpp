// SPDX-License-Identifier: Apache-2.0
#include "models/network/fleet_map.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace fleetsim {

FleetNetworkMap::FleetNetworkMap(const Fleet& fleet, const Topology& topo, const NetworkSpec& spec)
    : fleet_(fleet), topo_(topo) {
  for (uint32_t c = 0; c < spec.clusters.size(); ++c) {
    const ClusterSpec& cs = spec.clusters[c];
    if (cs.datacenter.empty()) continue;
    const auto ref = fleet.find(cs.datacenter);
    if (!ref || ref->level != Level::Datacenter)
      throw std::invalid_argument(fmt::format("cluster \"{}\": no datacenter \"{}\" in the fleet", cs.name, cs.datacenter));
    const IndexRange gpus = fleet.range(*ref, Level::Gpu);
    if (gpus.size() != topo.gpus(c))
      throw std::invalid_argument(fmt::format("cluster \"{}\" has {} GPUs but datacenter \"{}\" has {}", cs.name,
                                              topo.gpus(c), cs.datacenter, gpus.size()));
    ranges_.push_back({gpus.begin, gpus.end, c});
  }
  std::sort(ranges_.begin(), ranges_.end(), [](const Range& a, const Range& b) { return a.fleet_begin < b.fleet_begin; });
}

std::optional<VertexId> FleetNetworkMap::endpoint(GpuId g) const {
  const uint32_t i = g.value();
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), i, [](uint32_t v, const Range& r) { return v < r.fleet_begin; });
  if (it == ranges_.begin()) return std::nullopt;
  --it;
  if (i >= it->fleet_end) return std::nullopt;
  return topo_.endpoint(it->cluster, i - it->fleet_begin);
}

std::optional<GpuId> FleetNetworkMap::gpu_of(VertexId v) const {
  if (v >= topo_.vertices()) return std::nullopt;
  const VertexProps& p = topo_.vertex(v);
  if (p.kind != VertexKind::Gpu) return std::nullopt;
  for (const Range& r : ranges_)
    if (r.cluster == p.cluster && topo_.endpoint(r.cluster, p.index) == v) return GpuId{r.fleet_begin + p.index};
  return std::nullopt;
}

std::vector<uint32_t> FleetNetworkMap::access_links(GpuId g) const {
  std::vector<uint32_t> out;
  const auto v = endpoint(g);
  if (!v) return out;
  const auto& graph = topo_.graph();
  for (auto [it, end] = boost::out_edges(*v, graph); it != end; ++it)
    if (graph[*it].kind == LinkKind::Access) out.push_back(graph[*it].id >> 1);
  return out;
}

std::optional<VertexId> FleetNetworkMap::tor_of(RackId r) const {
  const IndexRange gpus = fleet_.range(ref(r), Level::Gpu);
  if (gpus.size() == 0) return std::nullopt;
  const auto v = endpoint(GpuId{gpus.begin});
  if (!v) return std::nullopt;
  const auto& graph = topo_.graph();
  for (auto [it, end] = boost::out_edges(*v, graph); it != end; ++it) {
    const auto t = static_cast<VertexId>(boost::target(*it, graph));
    if (topo_.vertex(t).kind == VertexKind::Leaf && topo_.vertex(t).plane == 0) return t;
  }
  return std::nullopt;
}

std::optional<std::vector<VertexId>> FleetNetworkMap::placement(const std::vector<GpuId>& gpus) const {
  std::vector<VertexId> out;
  out.reserve(gpus.size());
  for (GpuId g : gpus) {
    const auto v = endpoint(g);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

}  // namespace fleetsim
