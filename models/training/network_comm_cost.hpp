// SPDX-License-Identifier: Apache-2.0
// NetworkCommCost: the step model's CommCost answered by the network model's collectives on the real
// topology (models/network/collectives.hpp, estimate_collective: max-min rates per step pattern, then
// alpha-beta sums), for groups whose GPUs are known and mapped; anything else goes to a fallback
// (normally AlphaBetaCommCost).
//
//   Topology topo = build_topology(net_spec);
//   Router router(topo);
//   FleetNetworkMap map(fleet, topo, net_spec);
//   AlphaBetaCommCost ab(job.hardware);
//   NetworkCommCost comm(router, map, nominal_capacity(topo), Duration::us(5), ab);
//   TrainingModel training(spec, fleet, engine, recorder, sched, &failures, &fspec, &comm);
//
// Results are memoized by (collective, bytes, GPUs): the step model asks the same few questions at
// every restart. The cache is cleared when the router's generation changes (a link or switch failed
// or returned), so a degraded fabric is costed as it is.
#pragma once

#include "models/network/collectives.hpp"
#include "models/network/fleet_map.hpp"
#include "models/network/routing.hpp"
#include "models/training/step_model.hpp"

#include <map>
#include <tuple>
#include <vector>

namespace fleetsim {

/// Capacity of every directed edge at its nominal bandwidth (EdgeProps::bytes_per_s).
std::vector<double> nominal_capacity(const Topology& topo);

class NetworkCommCost final : public CommCost {
 public:
  NetworkCommCost(Router& router, const FleetNetworkMap& map, std::vector<double> capacity, Duration alpha,
                  const CommCost& fallback);
  double seconds(Collective c, double bytes, const CommGroup& g) const override;
  /// Questions answered by the network model / by the fallback (for tests and reports).
  uint64_t network_answers() const { return network_answers_; }
  uint64_t fallback_answers() const { return fallback_answers_; }

 private:
  Router& router_;
  const FleetNetworkMap& map_;
  std::vector<double> capacity_;
  Duration alpha_;
  const CommCost& fallback_;
  mutable std::map<std::tuple<int, double, std::vector<uint32_t>>, double> cache_;
  mutable uint64_t generation_ = UINT64_MAX;
  mutable uint64_t network_answers_ = 0, fallback_answers_ = 0;
};

}  // namespace fleetsim
