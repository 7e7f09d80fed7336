// SPDX-License-Identifier: Apache-2.0
#include "models/training/network_comm_cost.hpp"

#include "models/network/nccl_protocol.hpp"

#include <chrono>

namespace fleetsim {

CollectiveSpec collective_spec(Collective c, double bytes, Duration alpha) {
  CollectiveSpec spec;
  spec.bytes = bytes;
  spec.alpha = alpha;
  switch (c) {
    case Collective::AllReduce: spec.op = CollectiveOp::AllReduce; break;
    case Collective::AllGather: spec.op = CollectiveOp::AllGather; break;
    case Collective::ReduceScatter: spec.op = CollectiveOp::ReduceScatter; break;
    case Collective::AllToAll: spec.op = CollectiveOp::AllToAll; break;
    case Collective::SendRecv: spec.op = CollectiveOp::PointToPoint; break;
  }
  return spec;
}

std::vector<double> nominal_capacity(const Topology& topo) {
  std::vector<double> c(topo.directed_edges());
  for (EdgeIndex e = 0; e < c.size(); ++e) c[e] = topo.edge(e).bytes_per_s;
  return c;
}

NetworkCommCost::NetworkCommCost(Router& router, const FleetNetworkMap& map, std::vector<double> capacity, Duration alpha,
                                 const CommCost& fallback, CollectiveCosting costing)
    : router_(router), map_(map), capacity_(std::move(capacity)), alpha_(alpha), fallback_(fallback), costing_(costing) {}

double NetworkCommCost::fallback(Collective c, double bytes, const CommGroup& g, int reason) const {
  ++fallback_answers_;
  ++fallbacks_[static_cast<size_t>(c)][reason];
  return (g.fallback != nullptr ? *g.fallback : fallback_).seconds(c, bytes, g);
}

double NetworkCommCost::seconds(Collective c, double bytes, const CommGroup& g) const {
  if (g.ranks < 2 || bytes <= 0) return fallback(c, bytes, g, 1);
  if (g.gpus.empty() || g.gpus.size() != g.ranks) return fallback(c, bytes, g, 0);
  if (router_.generation() != generation_) {
    cache_.clear();
    generation_ = router_.generation();
  }
  // Flows: every concurrent group together (when the step model laid them out), else the one group.
  const bool all = costing_ == CollectiveCosting::Flows && g.concurrent_gpus.size() > g.ranks &&
                   g.concurrent_gpus.size() % g.ranks == 0;
  const std::span<const uint32_t> members = all ? g.concurrent_gpus : g.gpus;
  auto key = std::make_tuple(static_cast<int>(c), bytes, std::vector<uint32_t>(members.begin(), members.end()));
  if (auto it = cache_.find(key); it != cache_.end()) {
    ++network_answers_;
    return it->second / std::max(1e-9, g.network_factor);
  }
  std::vector<GpuId> gpus;
  gpus.reserve(members.size());
  for (uint32_t x : members) gpus.emplace_back(x);
  const auto placement = map_.placement(gpus);
  if (!placement) return fallback(c, bytes, g, 2);
  const CollectiveSpec spec = collective_spec(c, bytes, alpha_);
  const auto t0 = std::chrono::steady_clock::now();
  CollectiveCost cost;
  if (all) {
    std::vector<std::vector<VertexId>> groups;
    groups.reserve(members.size() / g.ranks);
    for (size_t i = 0; i < placement->size(); i += g.ranks)
      groups.emplace_back(placement->begin() + static_cast<std::ptrdiff_t>(i),
                          placement->begin() + static_cast<std::ptrdiff_t>(i + g.ranks));
    cost = estimate_concurrent(router_, capacity_, groups, spec);
  } else {
    cost = estimate_collective(router_, capacity_, *placement, spec);
  }
  ++computed_;
  compute_wall_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!cost.connected) return fallback(c, bytes, g, 3);  // a partition: the job will not run there anyway
  // The flows' max-min rates are line rates; NCCL's protocols carry data on eta of the line
  // (models/network/nccl_protocol.hpp), so the transfer part of the time stretches by 1/eta, as in the
  // alpha-beta costing (issue 20 item 6): NVLink's eta for a group inside a scale-up domain, the
  // network cards' for one that leaves it.
  const double eta = nccl_bus_efficiency(g.scale_up ? NcclLink::ScaleUp : NcclLink::ScaleOut);
  const double latency = cost.steps * cost.step_latency.seconds();
  const double seconds = latency + std::max(0.0, cost.time.seconds() - latency) / eta;
  cache_.emplace(std::move(key), seconds);
  ++network_answers_;
  // Scale by the fleet's network factor (degraded-network outages are fleet state, not topology).
  return seconds / std::max(1e-9, g.network_factor);
}

}  // namespace fleetsim
