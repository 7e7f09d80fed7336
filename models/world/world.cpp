// SPDX-License-Identifier: Apache-2.0
#include "models/world/world.hpp"

#include "models/failures/failure_model.hpp"
#include "models/hardware/fleet.hpp"
#include "models/hardware/fleet_lifecycle.hpp"
#include "models/inference/inference_model.hpp"
#include "models/scheduler/gang_scheduler.hpp"
#include "models/training/training_model.hpp"

#include <optional>

namespace fleetsim {

namespace {
// Inference replicas above any training priority: the scheduler never places a job on their GPUs.
constexpr int kInferenceReservationPriority = 1'000'000;
}  // namespace

// Declaration order is construction order: each model is built after what it stands on.
struct World::Models {
  Fleet fleet;
  FleetLifecycle lifecycle;
  FailureModel failures;
  GangScheduler scheduler;
  std::optional<InferenceModel> inference;  // only when the scenario has services
  std::optional<TrainingModel> training;    // only when the scenario has jobs

  Models(const Scenario& s, Engine& engine, const RngStreams& streams, Recorder& recorder)
      : fleet(Fleet::build(s.fleet)),
        lifecycle(s.fleet, fleet, engine, &recorder),
        failures(s.failures, fleet, engine, streams, recorder, &lifecycle),
        scheduler(fleet, engine, &failures) {
    lifecycle.on_change.connect([this](const CapacityChange&) { scheduler.request_pass(); });
    reserve_inference_capacity(s);
    if (!s.training.jobs.empty())
      training.emplace(s.training, fleet, engine, recorder, scheduler, &failures, &s.failures);
    if (!s.inference.services.empty()) {
      InferenceOptions opt;
      opt.epoch_unix_ns = s.run.start_unix_ns;
      inference.emplace(s.inference, fleet, s.catalog, engine, streams, recorder, opt);
      failures.on_event.connect([this](const FailureEvent& e) { inference->on_failure_event(e); });
      lifecycle.on_change.connect([this](const CapacityChange& c) { inference->on_fleet_change(c.what); });
    }
  }

  // Inference replicas are dedicated capacity: the scheduler is told their nodes are taken, so
  // training jobs are placed on the rest of each region. (Which GPUs the replicas occupy is the
  // inference model's own mapping of each region's first GPUs of the accelerator; joining the two
  // through the scheduler is the next step, for autoscaling.)
  void reserve_inference_capacity(const Scenario& s) {
    for (const auto& service : s.inference.services) {
      for (const auto& region : service.regions) {
        const auto id = fleet.find_region(region.region);
        const uint32_t gpn = gpus_per_node(s.fleet, region.region, service.replica.accelerator);
        if (!id || region.replicas == 0 || gpn == 0) continue;
        GangRequest r;
        r.name = "inference/" + service.name;
        r.nodes = static_cast<uint32_t>((uint64_t{service.replica.gpus()} * region.replicas + gpn - 1) / gpn);
        r.accelerator = service.replica.accelerator;
        r.region = *id;
        r.priority = kInferenceReservationPriority;
        r.preemptible = false;
        scheduler.submit(std::move(r));
      }
    }
  }

  static uint32_t gpus_per_node(const FleetSpec& fs, const std::string& region, const std::string& accelerator) {
    for (const auto& r : fs.regions)
      if (r.name == region)
        for (const auto& z : r.zones)
          for (const auto& dc : z.datacenters)
            if (dc.accelerator == accelerator) return dc.gpus_per_node;
    return 0;
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
  if (models_->training) models_->training->start();
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
  if (models_->training) models_->training->write_summary();
  if (models_->inference) models_->inference->write_summary();
}

}  // namespace fleetsim
