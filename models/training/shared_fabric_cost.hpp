// SPDX-License-Identifier: Apache-2.0
// SharedFabricCost: training jobs as consumers of one shared fabric (network.collective_costing
// "shared"; docs/network.md, "One fabric carries all traffic"). Each job gets its own CommCost, which
// costs its collectives (every concurrent group, as the flows mode does) against the load all OTHER
// consumers have registered in the FabricLoad ledger (collective_load.hpp: per-link weighted max-min
// shares, the bottleneck link per step); while the job runs, its collectives' traffic and its checkpoint
// writes to the cluster's storage are registered in the ledger at the job's pace.
//
//   FabricLoad ledger(topo, router);
//   SharedFabricCost shared(router, map, ledger, engine, Duration::us(5), fallback, jobs);
//   training.set_fabric_traffic(&shared);           // the model asks shared.comm(j), reports running/stopped
//   shared.on_recost = [&](std::span<const size_t> js) { training.recost(js); };
//   failures.on_link = [&](uint32_t l, bool up) { shared.link_changed(l, up); };
//
// What triggers a re-cost, and of whom (the ledger's link -> consumers index):
//   - a job starts, stops or changes pace: the jobs sharing a link with it whose load there moved;
//   - a link fails or returns: the consumers routed through that link's ends are re-routed (only
//     they), then re-costed, and so are the jobs sharing links with what moved;
//   - another model's streams change (inference KV transfers, failover, checkpoints): the same.
// Per interruption the work is kept to what changed (docs/network.md, "Re-costing only what changed"):
// a job's collectives are kept per collective and updated by the groups whose members changed
// (GroupedLoad); a stopped job is suspended in the ledger and resumed as it was when its restart's loads
// are identical; a collective's cost is kept while nothing on the job's links moved
// (FabricLoad::disturbed). Without a hold (below) still linear in the job's size: the ledger's walk over
// its links at a stop and a restart, and the re-cost of the jobs sharing links with it.
// Stopped traffic held (stopped_traffic_hold > 0) [A]: a stopped job keeps its traffic registered until
// it restarts or has been stopped for the hold, whichever comes first (one "fabric-hold" event per
// stop); only then is it suspended and are its neighbours re-costed. A restart from a checkpoint takes
// minutes (detection, restart, restore), and the job's neighbours would otherwise be re-costed twice
// for those minutes: with the hold an interruption costs the fabric nothing, whatever the job's size.
// The price: for the minutes of each short stop the others are costed as if the job still sent, and
// the per-link utilization counts its load; the class utilization does not (the job is idle in the
// ledger: FabricLoad::set_idle). docs/network.md. Zero: the traffic leaves at the stop.
// A held job whose links change (a link failure or return) is suspended at once.
// Re-costs are batched into one engine event at the instant of the change (Phase::Control), so a
// change costs one pass however many jobs it touches; a job whose load moves by less than
// kRegisterTolerance keeps its registration, so the mutual re-costing of jobs that share links
// settles (at most kMaxRounds passes per instant).
#pragma once

#include "models/network/collective_load.hpp"
#include "models/network/fabric_load.hpp"
#include "models/network/fleet_map.hpp"
#include "models/training/training_model.hpp"
#include "sim/engine.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <span>
#include <tuple>
#include <vector>

namespace fleetsim {

class SharedFabricCost final : public FabricTraffic {
 public:
  /// `jobs` names the training jobs (consumers "training/<name>" and "training/<name>/checkpoint").
  SharedFabricCost(Router& router, const FleetNetworkMap& map, FabricLoad& ledger, Engine& engine, Duration alpha,
                   const CommCost& fallback, const std::vector<std::string>& jobs,
                   Duration stopped_traffic_hold = Duration::zero());
  ~SharedFabricCost() override;

  const CommCost& comm(size_t job) override;
  void running(size_t job, const JobTraffic& traffic) override;
  void stopped(size_t job) override;
  /// A stopped job's registration stays in the ledger, suspended, for its restart; a finished one's is
  /// cleared and its collectives dropped.
  void finished(size_t job, bool was_running) override;

  /// A physical link failed or returned (after the router has it).
  void link_changed(uint32_t link, bool up);
  /// Another model changed its streams in the ledger directly: re-cost the jobs it affected.
  void ledger_changed();

  // ---- other consumers (inference KV transfers, failover traffic, any stream between endpoints) ----
  /// A consumer of the ledger that is not a training job ("inference/chat/kv").
  ConsumerId add_consumer(std::string name);
  /// Sets its traffic matrix (routed now) and re-costs the training jobs whose links it changed (one
  /// engine event at this instant). Returns the streams without a route.
  uint32_t set_streams(ConsumerId c, std::span<const Stream> streams, double busy = 1.0);
  /// Its traffic leaves the fabric.
  void clear(ConsumerId c);
  /// Called (from an engine event) with the jobs to re-cost; the training model re-costs their steps.
  std::function<void(std::span<const size_t>)> on_recost;

  static constexpr double kRegisterTolerance = 0.005;
  static constexpr int kMaxRounds = 8;

  // ---- counters (tests, benchmarks, summary) ----
  uint64_t collective_loads_built() const { return loads_built_; }
  uint64_t recost_requests() const { return recosts_; }  ///< jobs handed to on_recost
  uint64_t reroutes() const { return reroutes_; }        ///< jobs re-routed after link changes
  uint64_t network_answers() const { return answers_; }
  uint64_t costings() const { return costings_; }  ///< answers costed on the ledger (the rest were kept)
  uint64_t fallback_answers() const { return fallbacks_; }
  uint64_t stops_held() const { return stops_held_; }      ///< stops whose traffic stayed (hold > 0)
  uint64_t holds_expired() const { return holds_expired_; }  ///< of those, suspended at the hold's end
  Duration stopped_traffic_hold() const { return hold_; }
  ConsumerId consumer(size_t job) const;
  /// Flushes pending re-costs now (tests; normally an engine event does it).
  void flush();

 private:
  class JobComm;
  void collect_affected();
  void schedule();
  void register_job(size_t job);
  /// The hold of a stopped job ends (it has not restarted in time, or its links changed): its traffic
  /// is suspended and its neighbours are re-costed.
  void end_hold(size_t job);

  Router& router_;
  const FleetNetworkMap& map_;
  FabricLoad& ledger_;
  Engine& engine_;
  Duration alpha_;
  const CommCost& fallback_;
  std::vector<std::unique_ptr<JobComm>> jobs_;
  std::vector<int64_t> job_of_consumer_;  // consumer -> job index, -1 for others
  std::vector<size_t> pending_, batch_;
  std::vector<char> pending_mark_;
  std::vector<ConsumerId> touched_;
  EventHandle ev_;
  EventKind kind_ = 0, hold_kind_ = 0;
  bool has_storage_ = false;  // some cluster has a storage endpoint (checkpoint writes go there)
  Duration hold_;
  std::vector<EventHandle> hold_ev_;  // per job: the end of its hold while it is stopped
  SimTime round_time_;
  int rounds_ = 0;
  uint64_t loads_built_ = 0, recosts_ = 0, reroutes_ = 0, stops_held_ = 0, holds_expired_ = 0;
  mutable uint64_t answers_ = 0, fallbacks_ = 0, costings_ = 0;
};

}  // namespace fleetsim
