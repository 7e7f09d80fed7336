// SPDX-License-Identifier: Apache-2.0
#include "models/world/world.hpp"

#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "models/hardware/fleet_lifecycle.hpp"

namespace fleetsim {

// Declaration order is construction order: each model is built after what it stands on.
struct World::Models {
  Fleet fleet;
  FleetLifecycle lifecycle;
  FailureModel failures;

  Models(const Scenario& s, Engine& engine, const RngStreams& streams, Recorder& recorder)
      : fleet(Fleet::build(s.fleet)),
        lifecycle(s.fleet, fleet, engine, &recorder),
        failures(s.failures, fleet, engine, streams, recorder, &lifecycle) {}
};

World::World(const Scenario& scenario, Engine& engine, const RngStreams& streams, Recorder& recorder)
    : scenario_(scenario),
      engine_(engine),
      recorder_(recorder),
      models_(std::make_unique<Models>(scenario, engine, streams, recorder)) {}

World::~World() = default;

void World::start() {
  models_->lifecycle.start();
  models_->failures.start();
}

void World::write_summary() {
  auto& summary = recorder_.summary();
  const Fleet& fleet = models_->fleet;
  auto& f = summary["fleet"];
  f["regions"] = fleet.regions();
  f["racks"] = fleet.racks();
  f["nodes"] = fleet.nodes();
  f["gpus"] = fleet.gpus();
  f["gpus_usable_at_end"] = fleet.usable_gpus_total();
  summary["scenario"]["name"] = scenario_.run.name;
  summary["scenario"]["start"] = format_utc_ns(scenario_.run.start_unix_ns);
  summary["scenario"]["horizon"] = format_duration(scenario_.run.horizon);
  models_->failures.write_summary();
}

}  // namespace fleetsim
