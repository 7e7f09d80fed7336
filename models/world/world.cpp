// SPDX-License-Identifier: Apache-2.0
#include "models/world/world.hpp"

#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "models/hardware/fleet_lifecycle.hpp"
#include "models/inference/inference_model.hpp"

#include <optional>

namespace fleetsim {

// Declaration order is construction order: each model is built after what it stands on.
struct World::Models {
  Fleet fleet;
  FleetLifecycle lifecycle;
  FailureModel failures;
  std::optional<InferenceModel> inference;  // only when the scenario has services

  Models(const Scenario& s, Engine& engine, const RngStreams& streams, Recorder& recorder)
      : fleet(Fleet::build(s.fleet)),
        lifecycle(s.fleet, fleet, engine, &recorder),
        failures(s.failures, fleet, engine, streams, recorder, &lifecycle) {
    if (!s.inference.services.empty()) {
      InferenceOptions opt;
      opt.epoch_unix_ns = s.run.start_unix_ns;
      inference.emplace(s.inference, fleet, s.catalog, engine, streams, recorder, opt);
      failures.on_event.connect([this](const FailureEvent& e) { inference->on_failure_event(e); });
      lifecycle.on_change.connect([this](const CapacityChange& c) { inference->on_fleet_change(c.what); });
    }
  }
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
  if (models_->inference) models_->inference->start();
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
  if (models_->inference) models_->inference->write_summary();
}

}  // namespace fleetsim
