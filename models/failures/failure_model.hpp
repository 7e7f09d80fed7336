// SPDX-License-Identifier: Apache-2.0
// FailureModel: runs a FailureSpec against a Fleet on the engine. Events scale with failures, not
// with components: each process holds ONE pending engine event per region, whatever the population.
//
//   FailureModel failures(spec, fleet, engine, streams, recorder, &lifecycle);
//   failures.on_event.connect([&](const FailureEvent& e) { if (e.kind == FailureEvent::Kind::Failure) ... });
//   failures.start();                 // schedules first failures, outages, stragglers, samples
//   engine.run(horizon);
//   failures.write_summary();         // counts into recorder.summary()["failures"]
//
// How a process draws (docs/failures.md has the derivations):
// - Exponential lifetimes: a Poisson process of rate N*lambda over the N installed components of the
//   (process, region) population, thinned: each firing picks one of the N uniformly (O(log R) over
//   the R installed index ranges) and fails it if it is up, otherwise does nothing. Every up component
//   then fails at rate lambda exactly, repairs need no rescheduling, and nothing per component is
//   stored.
// - Weibull lifetimes (ageing matters, superposition of renewal processes is not Weibull): components
//   installed together form a cohort of equal age; the next failure among the m survivors of a cohort
//   of age a is drawn in O(1) by inverting P(min > x) = exp(-m((x/eta)^k - (a/eta)^k)), and the victim
//   is a uniform survivor. A repaired component restarts at age 0 with its own lifetime, kept in one
//   min-heap per (process, region): memory grows with the number of failures, not with N.
//   If the drawn victim is already down for another reason, the failure is masked (counted, no
//   event) and the component's lifetime restarts.
// Repairs are one engine event per failed component (so again per failure). Outages, stragglers
// and samples are one event each.
//
// Outputs: events.jsonl records "failure", "repair", "outage_start", "outage_end",
// "straggler_start", "straggler_end" with time, path, class, cause, process and duration_ns. The
// capacity table (FailureSpec::table, "utilization" by default) gets one row per (region,
// accelerator) every sample_interval (Phase::Sample, one engine event per interval); its columns are
// documented in docs/failures.md.
#pragma once

#include "models/failures/failure_records.hpp"
#include "models/failures/failure_spec.hpp"
#include "models/hardware/fleet.hpp"
#include "models/hardware/fleet_lifecycle.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"
#include "sim/signal.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace fleetsim {

/// What listeners (scheduler, training, inference, network) hear. Delivered after the fleet changed.
struct FailureEvent {
  enum class Kind : uint8_t { Failure, RepairStart, Repair, OutageStart, OutageEnd, StragglerStart, StragglerEnd };
  Kind kind = Kind::Failure;
  SimTime time;
  ComponentClass cls = ComponentClass::Gpu;
  /// The fleet component concerned: the GPU (gpu, hbm, and link: the GPU whose rail it is), the node
  /// (node, nic, software), the rack (switch, rack_power), the domain (datacenter, az, region, and
  /// outages).
  ComponentRef component;
  std::string_view cause;
  /// Failure: the whole downtime ahead (detect + repair). Repair: the downtime that ended.
  /// Outage and straggler start: the planned duration.
  Duration duration;
  OutageKind outage_kind = OutageKind::Full;  ///< outages only
  double factor = 1.0;  ///< stragglers: slowdown; network outages: bandwidth fraction
  uint32_t process = UINT32_MAX;  ///< index into FailureSpec::processes; UINT32_MAX for outages/fixed stragglers
};

class FailureModel {
 public:
  /// Resolves targets and populations; throws std::invalid_argument if the spec names a region,
  /// accelerator or path the fleet does not have (the loader reports these earlier, with pointers).
  FailureModel(const FailureSpec& spec, Fleet& fleet, Engine& engine, const RngStreams& streams, Recorder& recorder,
               FleetLifecycle* lifecycle = nullptr);
  ~FailureModel();
  FailureModel(const FailureModel&) = delete;
  FailureModel& operator=(const FailureModel&) = delete;

  /// Schedules the first event of every process, every outage and straggler, and the samples. Once.
  void start();

  Signal<const FailureEvent&> on_event;

  struct Stats {
    uint64_t failures = 0;      ///< failures that took effect
    uint64_t repairs = 0;       ///< repairs completed
    uint64_t rejected = 0;      ///< thinning: the drawn component was not up (no event)
    uint64_t masked = 0;        ///< Weibull: the drawn component was already down (lifetime restarts)
    uint64_t outages = 0;       ///< outages started
    uint64_t stragglers = 0;    ///< straggler episodes started
    uint64_t samples = 0;
    std::array<uint64_t, kComponentClasses> failures_by_class{};
    std::array<double, kComponentClasses> downtime_s_by_class{};  ///< of completed repairs
  };
  const Stats& stats() const { return stats_; }
  /// Failures that took effect, per process (index into the spec's processes).
  const std::vector<uint64_t>& failures_by_process() const { return by_process_; }
  /// Link (rail) and switch failures currently open, per region.
  uint64_t links_down(RegionId r) const;
  uint64_t switches_down(RegionId r) const;
  bool link_down(GpuId rail) const { return failed_links_.count(rail.value()) != 0; }
  bool switch_down(RackId tor) const { return failed_switches_.count(tor.value()) != 0; }
  /// Engine events the model keeps pending for its processes (one per live (process, region)):
  /// independent of the fleet's size.
  size_t pending_process_events() const;
  /// Writes counts into recorder.summary()["failures"].
  void write_summary();

 private:
  struct Instance;
  struct Fixed;
  void on_capacity(const CapacityChange& c);
  void add_range(Instance& in, IndexRange r);
  void schedule_next(Instance& in);
  void fire(uint32_t instance);
  bool accept(const Instance& in, uint32_t index) const;
  void fail(Instance& in, uint32_t index);
  void repair_start(uint32_t instance, uint32_t index, int64_t downtime_ns);
  void repair_done(uint32_t instance, uint32_t index, int64_t downtime_ns);
  void straggler_end(uint32_t instance, uint32_t index);
  ComponentRef component_of(const Instance& in, uint32_t index) const;
  std::string element_path(ComponentClass cls, uint32_t index) const;
  /// Publishes a process's event as record R (a ComponentEventRecord) and tells on_event.
  template <class R>
  void publish(const FailureEvent& e, std::string_view path, std::string_view process_name);
  void sample();

  const FailureSpec spec_;
  Fleet& fleet_;
  Engine& engine_;
  const RngStreams& streams_;
  Recorder& recorder_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::vector<Fixed> fixed_;  // outages and fixed stragglers, resolved
  std::unordered_set<uint32_t> failed_links_, failed_switches_;  // membership only, never iterated
  std::vector<uint64_t> links_down_, switches_down_;             // per region
  std::vector<uint64_t> by_process_;
  Stats stats_;
  TableOf<FleetStateSample> table_;
  std::vector<std::pair<uint32_t, uint32_t>> sample_groups_;  // (region, accelerator)
  EventKind kind_fail_, kind_repair_, kind_outage_, kind_straggler_, kind_sample_;
  bool started_ = false;
};

}  // namespace fleetsim
