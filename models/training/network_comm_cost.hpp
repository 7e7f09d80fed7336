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
//
// Costing (NetworkSpec::collective_costing):
//   Aggregate  one representative group (CommGroup::gpus) on the fabric: its own flows' max-min rates.
//   Flows      every group that runs at the same time (CommGroup::concurrent_gpus: all DP groups, all
//              pipeline pairs) costed together by estimate_concurrent: every flow of every group routed
//              with its ECMP key and max-min shared, so flows of different groups that hash onto one
//              link slow the whole synchronous collective, as they do on a real fabric. Groups without
//              concurrent_gpus (TP inside a host) are costed as in Aggregate. Memoized the same way:
//              the cost of a placement is paid once per fabric state.
//
// Fallbacks are counted per collective kind and reason (fallback_breakdown()):
//   "no_gpu_list"   the group came without GPUs (a group the step model does not lay out: CP, EP,
//                   the expert DP groups, a DP group over DP x CP ranks)
//   "single_rank"   fewer than 2 ranks or no bytes (nothing crosses the fabric)
//   "unmapped"      some GPU is not in the network (its datacenter has no cluster)
//   "partitioned"   the fabric cannot route some transfer (the job is stopped by the partition check)
#pragma once

#include "models/network/collectives.hpp"
#include "models/network/fleet_map.hpp"
#include "models/network/routing.hpp"
#include "models/training/step_model.hpp"

#include <array>
#include <map>
#include <string_view>
#include <tuple>
#include <vector>

namespace fleetsim {

/// Capacity of every directed edge at its nominal bandwidth (EdgeProps::bytes_per_s).
std::vector<double> nominal_capacity(const Topology& topo);

/// The network layer's description of one of the step model's collectives (shared by the flows and
/// the shared-fabric costings).
CollectiveSpec collective_spec(Collective c, double bytes, Duration alpha);

class NetworkCommCost final : public CommCost {
 public:
  NetworkCommCost(Router& router, const FleetNetworkMap& map, std::vector<double> capacity, Duration alpha,
                  const CommCost& fallback, CollectiveCosting costing = CollectiveCosting::Aggregate);
  static constexpr int kReasons = 4;
  static constexpr std::array<std::string_view, kReasons> kReasonNames{"no_gpu_list", "single_rank", "unmapped", "partitioned"};
  double seconds(Collective c, double bytes, const CommGroup& g) const override;
  /// Questions answered by the network model / by the fallback (for tests and reports).
  uint64_t network_answers() const { return network_answers_; }
  uint64_t fallback_answers() const { return fallback_answers_; }
  /// Fallback answers per collective kind (Collective) and reason (kReasonNames).
  uint64_t fallbacks(Collective c, int reason) const { return fallbacks_[static_cast<size_t>(c)][reason]; }
  /// Cost computations on the fabric (cache misses), and their total wall time (for benchmarks).
  uint64_t computed() const { return computed_; }
  double compute_wall_s() const { return compute_wall_s_; }

 private:
  Router& router_;
  const FleetNetworkMap& map_;
  std::vector<double> capacity_;
  Duration alpha_;
  const CommCost& fallback_;
  mutable std::map<std::tuple<int, double, std::vector<uint32_t>>, double> cache_;
  mutable uint64_t generation_ = UINT64_MAX;
  CollectiveCosting costing_;
  mutable uint64_t network_answers_ = 0, fallback_answers_ = 0, computed_ = 0;
  mutable double compute_wall_s_ = 0;
  mutable std::array<std::array<uint64_t, kReasons>, 5> fallbacks_{};
  double fallback(Collective c, double bytes, const CommGroup& g, int reason) const;
};

}  // namespace fleetsim
