// SPDX-License-Identifier: Apache-2.0
// The public InferenceModel: builds its services and forwards to them. A service's work is in
// service.hpp and the files it lists.
#include "models/inference/inference_model.hpp"

#include "models/inference/service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace fleetsim {

uint64_t IdlePoolBroker::acquire(RegionId region, std::string_view, uint64_t gpus, int, SimTime) {
  auto& idle = idle_.at(region.value());
  const uint64_t n = std::min(idle, gpus);
  idle -= n;
  return n;
}

void IdlePoolBroker::release(RegionId region, std::string_view, uint64_t gpus, SimTime) { idle_.at(region.value()) += gpus; }

// ------------------------------------------------------------------ InferenceModel

InferenceModel::InferenceModel(const InferenceSpec& spec, Fleet& fleet, const Catalog& catalog, Engine& engine,
                               const RngStreams& streams, Recorder& recorder, InferenceOptions options)
    : spec_(spec), fleet_(fleet), engine_(engine), recorder_(recorder), options_(options) {
  for (size_t i = 0; i < spec_.services.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (spec_.services[j].name == spec_.services[i].name)
        throw InferenceSpecError(fmt::format("two inference services are named \"{}\"", spec_.services[i].name));
    services_.push_back(std::make_unique<Service>(*this, spec_.services[i], i, catalog, streams));
  }
  if (!services_.empty()) {
    table_ = recorder_.table<InferenceSample>(spec_.table);
  }
}

InferenceModel::~InferenceModel() = default;

void InferenceModel::start(SimTime horizon) {
  if (started_) throw std::logic_error("InferenceModel::start called twice");
  started_ = true;
  for (auto& s : services_) s->start(horizon);
}

void InferenceModel::on_failure_event(const FailureEvent& e) {
  switch (e.kind) {
    case FailureEvent::Kind::Failure:
    case FailureEvent::Kind::Repair:
    case FailureEvent::Kind::OutageStart:
    case FailureEvent::Kind::OutageEnd:
      on_fleet_change(e.component);
      break;
    default:
      break;
  }
}

void InferenceModel::on_fleet_change(ComponentRef c) {
  for (auto& s : services_) s->on_fleet_change(c);
}

size_t InferenceModel::services() const { return services_.size(); }
const InferenceServiceStats& InferenceModel::stats(size_t i) const {
  services_.at(i)->sync();
  return services_.at(i)->stats;
}
const IterationCost& InferenceModel::cost(size_t i) const { return *services_.at(i)->cost; }
std::vector<ReplicaView> InferenceModel::replicas(size_t i) const {
  std::vector<ReplicaView> out;
  for (const auto& r : services_.at(i)->replicas) out.push_back({r.region, r.dedicated, r.up, r.loading, r.gpus});
  return out;
}
size_t InferenceModel::queued(size_t i) const { return services_.at(i)->queued(); }

uint64_t InferenceModel::borrowed_gpus(size_t i, RegionId region) const {
  uint64_t n = 0;
  for (const auto& reg : services_.at(i)->regions)
    if (reg.fleet_region == region) n += reg.borrowed_gpus;
  return n;
}

}  // namespace fleetsim
