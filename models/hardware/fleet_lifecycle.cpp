// SPDX-License-Identifier: Apache-2.0
#include "models/hardware/fleet_lifecycle.hpp"

#include "sim/recorder.hpp"

#include <stdexcept>

namespace fleetsim {

FleetLifecycle::FleetLifecycle(const FleetSpec& spec, Fleet& fleet, Engine& engine, Recorder* recorder)
    : retirements_(spec.retirements),
      fleet_(fleet),
      engine_(engine),
      recorder_(recorder),
      kind_install_(engine.register_kind("capacity-install")),
      kind_retire_(engine.register_kind("capacity-retire")) {
  uint32_t di = 0;
  for (const auto& r : spec.regions)
    for (const auto& z : r.zones)
      for (const auto& d : z.datacenters) {
        if (d.install_at > SimTime::zero()) planned_.push_back({d.install_at, true, di, UINT32_MAX});
        if (d.retire_at) planned_.push_back({*d.retire_at, false, di, UINT32_MAX});
        ++di;
      }
  for (uint32_t i = 0; i < retirements_.size(); ++i) {
    if (!fleet.find_region(retirements_[i].region))
      throw std::invalid_argument("fleet: retirement names unknown region \"" + retirements_[i].region + "\"");
    planned_.push_back({retirements_[i].at, false, UINT32_MAX, i});
  }
}

void FleetLifecycle::start() {
  for (const Planned& p : planned_) {
    if (p.at < engine_.now()) continue;
    const Planned* pp = &p;  // planned_ does not change after construction
    engine_.schedule_at(
        p.at, p.install ? Phase::Repair : Phase::Failure,
        [this, pp] {
          CapacityChange c;
          c.time = engine_.now();
          if (pp->datacenter != UINT32_MAX) {
            const DatacenterId d{pp->datacenter};
            c.what = ref(d);
            if (pp->install) {
              if (fleet_.health(ref(d)) != Health::NotInstalled) return;  // retired before it arrived
              fleet_.install(d);
              c.kind = CapacityChange::Kind::Install;
              c.gpus = fleet_.range(ref(d), Level::Gpu).size();
            } else {
              c.kind = CapacityChange::Kind::Retire;
              c.gpus = fleet_.health(ref(d)) == Health::NotInstalled ? 0 : fleet_.range(ref(d), Level::Gpu).size();
              fleet_.retire(d);
            }
          } else {
            const RetirementSpec& r = retirements_[pp->retirement];
            const RegionId region = *fleet_.find_region(r.region);
            c.kind = CapacityChange::Kind::Retire;
            c.what = ref(region);
            c.nodes = fleet_.retire_gpus(region, r.gpus);
            for (NodeId n : c.nodes) c.gpus += fleet_.range(ref(n), Level::Gpu).size();
          }
          emit(std::move(c));
        },
        p.install ? kind_install_ : kind_retire_);
  }
}

void FleetLifecycle::emit(CapacityChange&& c) {
  if (recorder_ != nullptr) {
    const std::string path = fleet_.path(c.what);
    const auto gpus = static_cast<int64_t>(c.gpus);
    if (c.kind == CapacityChange::Kind::Install) {
      recorder_->publish(c.time, CapacityInstall{.path = path, .component_class = level_name(c.what.level), .gpus = gpus});
    } else {
      recorder_->publish(c.time, CapacityRetire{.path = path, .component_class = level_name(c.what.level), .gpus = gpus});
    }
  }
  on_change.emit(c);
}

}  // namespace fleetsim
