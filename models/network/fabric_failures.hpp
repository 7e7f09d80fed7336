// SPDX-License-Identifier: Apache-2.0
// FabricFailures: fabric-internal link failures of a run (scenario key "network.link_failures",
// LinkFailureSpec in topology.hpp): leaf-spine, spine-core and WAN links, which the fleet's failure
// classes do not reach (its `link` class is a GPU's access link, its `switch` a rack's ToR).
//
//   FabricFailures ff(topo, flows, engine, &recorder, scenario.network_run.link_failures, scenario.run.seed);
//   ff.on_change = [&](bool repaired) { training.on_fabric_change(); };  // after each batch (models/world)
//   ff.start();   // a set at 0s is applied at once (before any job is placed); the rest are events
//
// Two kinds of spec:
//   a set      `fraction` (or `count`) of the eligible links fail together at `at` and come back after
//              `duration` (never by default). Exactly round(fraction * eligible) links, chosen by a
//              partial Fisher-Yates shuffle of the eligible links (in link order) driven by the spec's
//              seed: the same seed fails the same links on every platform.
//   a process  every eligible link fails after an exponential time of mean `mtbf` (independent links,
//              so the fabric sees a Poisson stream of rate up_links / mtbf: one pending event for the
//              whole spec, not one per link) and is repaired `repair` later.
// Eligible links: physical links whose kind is in `kinds`, in `cluster` if one is named (a WAN uplink
// belongs to its cluster, a router-router WAN link to none).
//
// Every change goes through FlowModel::set_link_up (the router reroutes, ECMP rehashes, flows move or
// fail), so partitions, routes and collective costs see it. A link failed by two specs is up again
// only when both have repaired it. The random numbers come from SplitMix64 (Steele, Lea and Flood,
// OOPSLA 2014) seeded by (seed, spec index): no std:: distribution, identical everywhere.
#pragma once

#include "models/network/fabric_failure_records.hpp"
#include "models/network/flow_model.hpp"
#include "models/network/topology.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

namespace fleetsim {

/// Physical links (Router::link_of indices) a spec may fail, in increasing order. Throws
/// std::invalid_argument if the spec names a cluster the topology does not have.
std::vector<uint32_t> eligible_links(const Topology& topo, const LinkFailureSpec& spec);

/// The links a set spec fails: round(fraction * eligible) (or count, capped at eligible) of
/// `eligible`, chosen by `seed`; sorted.
std::vector<uint32_t> choose_links(const std::vector<uint32_t>& eligible, const LinkFailureSpec& spec, uint64_t seed);

class FabricFailures {
 public:
  FabricFailures(const Topology& topo, FlowModel& flows, Engine& engine, Recorder* recorder,
                 std::vector<LinkFailureSpec> specs, uint64_t default_seed);

  /// Applies the sets due at time 0 now and schedules everything else. Call once, before jobs start.
  void start();

  /// Called after each batch of changes (true if links came back), once the router has seen it.
  std::function<void(bool repaired)> on_change;
  /// Called for every physical link that goes down or comes back, after the flow model and the router
  /// have it and before on_change (the shared-fabric ledger re-costs the consumers on that link only).
  std::function<void(uint32_t link, bool up)> on_link;

  bool empty() const { return specs_.empty(); }
  /// Links down now because of these specs.
  uint32_t links_down() const { return links_down_; }
  /// Failures (link-down transitions caused by a spec) so far, per link kind.
  const std::array<uint64_t, kLinkKinds>& failures_per_kind() const { return failures_; }
  /// Eligible links per kind (union over specs).
  const std::array<uint64_t, kLinkKinds>& eligible_per_kind() const { return eligible_kind_; }
  /// summary.json's /network/link_failures (FabricFailureSummary::key under "network").
  FabricFailureSummary summary() const;

 private:
  struct Process {
    size_t spec = 0;
    std::vector<uint32_t> up;  // eligible links this process has not failed (swap-remove)
    uint64_t rng = 0;
    EventHandle next;  // the first failure among `up`
  };
  void fail_set(size_t spec);
  void repair_set(size_t spec);
  void schedule_next(size_t process);
  void process_failure(size_t process);
  void take_down(uint32_t link);
  void bring_up(uint32_t link);
  /// Publishes record R (a FabricLinkEventRecord) and tells on_change.
  template <class R>
  void changed(bool repaired, size_t spec, uint32_t links);

  const Topology& topo_;
  FlowModel& flows_;
  Engine& engine_;
  Recorder* recorder_;
  std::vector<LinkFailureSpec> specs_;
  std::vector<uint64_t> seeds_;
  std::vector<std::vector<uint32_t>> sets_;  // per set spec: the chosen links
  std::vector<Process> processes_;
  std::vector<uint8_t> holds_;  // per physical link: how many specs hold it down
  uint32_t links_down_ = 0;
  std::array<uint64_t, kLinkKinds> failures_{}, eligible_kind_{};
  EventKind kind_fail_, kind_repair_;
};

}  // namespace fleetsim
