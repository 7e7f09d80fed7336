// SPDX-License-Identifier: Apache-2.0
// What FleetLifecycle publishes, declared once (sim/record.hpp): capacity installed or retired, as
// events of events.jsonl.
#pragma once

#include "sim/record.hpp"

#include <cstdint>
#include <string_view>
#include <tuple>

namespace fleetsim {

/// Capacity joins or leaves the fleet (a ramp's install, a retirement). One shape, two kinds.
template <class Kind>
struct CapacityEventRecord {
  static constexpr std::string_view kind = Kind::name;
  std::string_view path;             ///< the domain installed into or retired from
  std::string_view component_class;  ///< its level ("datacenter", "region", ...)
  int64_t gpus = 0;
  static constexpr auto fields() {
    using S = CapacityEventRecord;
    return std::tuple{field("path", &S::path), field("class", &S::component_class), field("gpus", &S::gpus)};
  }
};
struct CapacityInstallKind {
  static constexpr std::string_view name = "capacity_install";
};
struct CapacityRetireKind {
  static constexpr std::string_view name = "capacity_retire";
};
using CapacityInstall = CapacityEventRecord<CapacityInstallKind>;
using CapacityRetire = CapacityEventRecord<CapacityRetireKind>;

}  // namespace fleetsim
