// SPDX-License-Identifier: Apache-2.0
// FleetLifecycle: capacity that ramps in and retires over simulated time, as events on the engine.
//
//   FleetLifecycle life(spec, fleet, engine, &recorder);
//   life.on_change.connect([&](const CapacityChange& c) { scheduler.capacity_changed(c); });
//   life.start();   // schedules one event per ramped datacenter, retiring datacenter, retirement
//
// A datacenter with install_at > 0 is NotInstalled until then (Fleet::build); at install_at it becomes
// active (Phase::Repair: capacity arriving sorts with capacity returning from repair). Retirements run
// in Phase::Failure (capacity leaving sorts with capacity failing). events.jsonl gets "capacity_install"
// and "capacity_retire" records with the datacenter path (or region, for a GPU-count retirement) and
// the GPUs concerned.
#pragma once

#include "models/hardware/capacity_records.hpp"
#include "models/hardware/fleet.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "sim/engine.hpp"
#include "sim/signal.hpp"

#include <vector>

namespace fleetsim {

class Recorder;

struct CapacityChange {
  enum class Kind : uint8_t { Install, Retire };
  Kind kind = Kind::Install;
  SimTime time;
  ComponentRef what;          ///< the datacenter, or the region for a GPU-count retirement
  uint64_t gpus = 0;          ///< GPUs installed or retired
  std::vector<NodeId> nodes;  ///< for a GPU-count retirement: the nodes retired
};

class FleetLifecycle {
 public:
  FleetLifecycle(const FleetSpec& spec, Fleet& fleet, Engine& engine, Recorder* recorder = nullptr);
  FleetLifecycle(const FleetLifecycle&) = delete;
  FleetLifecycle& operator=(const FleetLifecycle&) = delete;

  /// Schedules the capacity changes (those at or after engine.now()). Call once.
  void start();
  /// Listeners hear each change after the fleet has applied it.
  Signal<const CapacityChange&> on_change;

 private:
  void emit(CapacityChange&& c);  ///< publishes CapacityInstall or CapacityRetire, then on_change

  struct Planned {
    SimTime at;
    bool install;
    uint32_t datacenter;  // or UINT32_MAX for a GPU-count retirement
    uint32_t retirement;  // index into spec retirements
  };
  std::vector<Planned> planned_;
  std::vector<RetirementSpec> retirements_;
  Fleet& fleet_;
  Engine& engine_;
  Recorder* recorder_;
  EventKind kind_install_, kind_retire_;
};

}  // namespace fleetsim
