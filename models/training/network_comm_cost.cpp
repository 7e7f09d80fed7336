// SPDX-License-Identifier: Apache-2.0
#include "models/training/network_comm_cost.hpp"

namespace fleetsim {

std::vector<double> nominal_capacity(const Topology& topo) {
  std::vector<double> c(topo.directed_edges());
  for (EdgeIndex e = 0; e < c.size(); ++e) c[e] = topo.edge(e).bytes_per_s;
  return c;
}

NetworkCommCost::NetworkCommCost(Router& router, const FleetNetworkMap& map, std::vector<double> capacity, Duration alpha,
                                 const CommCost& fallback)
    : router_(router), map_(map), capacity_(std::move(capacity)), alpha_(alpha), fallback_(fallback) {}

double NetworkCommCost::seconds(Collective c, double bytes, const CommGroup& g) const {
  if (g.gpus.empty() || g.gpus.size() != g.ranks || bytes <= 0 || (g.ranks < 2)) {
    ++fallback_answers_;
    return fallback_.seconds(c, bytes, g);
  }
  if (router_.generation() != generation_) {
    cache_.clear();
    generation_ = router_.generation();
  }
  auto key = std::make_tuple(static_cast<int>(c), bytes, std::vector<uint32_t>(g.gpus.begin(), g.gpus.end()));
  if (auto it = cache_.find(key); it != cache_.end()) {
    ++network_answers_;
    return it->second;
  }
  std::vector<GpuId> gpus;
  gpus.reserve(g.gpus.size());
  for (uint32_t x : g.gpus) gpus.emplace_back(x);
  const auto placement = map_.placement(gpus);
  if (!placement) {
    ++fallback_answers_;
    return fallback_.seconds(c, bytes, g);
  }
  CollectiveSpec spec;
  spec.bytes = bytes;
  spec.alpha = alpha_;
  switch (c) {
    case Collective::AllReduce: spec.op = CollectiveOp::AllReduce; break;
    case Collective::AllGather: spec.op = CollectiveOp::AllGather; break;
    case Collective::ReduceScatter: spec.op = CollectiveOp::ReduceScatter; break;
    case Collective::AllToAll: spec.op = CollectiveOp::AllToAll; break;
    case Collective::SendRecv: spec.op = CollectiveOp::PointToPoint; break;
  }
  const CollectiveCost cost = estimate_collective(router_, capacity_, *placement, spec);
  if (!cost.connected) {
    ++fallback_answers_;
    return fallback_.seconds(c, bytes, g);  // a partition: the job will not run there anyway
  }
  // Scale by the fleet's network factor (degraded-network outages are fleet state, not topology).
  const double s = cost.time.seconds() / std::max(1e-9, g.network_factor);
  cache_.emplace(std::move(key), s);
  ++network_answers_;
  return s;
}

}  // namespace fleetsim
