// SPDX-License-Identifier: Apache-2.0
// What the World itself adds to summary.json, declared once (sim/record.hpp): the fleet's size, the
// scenario's name and span, and the shared fabric's counters under "network" (beside the fabric
// failures' "link_failures", models/network/fabric_failure_records.hpp).
#pragma once

#include "models/network/fabric_failure_records.hpp"
#include "sim/record.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace fleetsim {

struct FleetSummary {
  static constexpr std::string_view key = "fleet";
  uint32_t regions = 0, racks = 0, nodes = 0, gpus = 0;
  uint64_t gpus_usable_at_end = 0;
  static constexpr auto fields() {
    using S = FleetSummary;
    return std::tuple{field("regions", &S::regions), field("racks", &S::racks), field("nodes", &S::nodes),
                      field("gpus", &S::gpus), field("gpus_usable_at_end", &S::gpus_usable_at_end)};
  }
};

struct ScenarioSummary {
  static constexpr std::string_view key = "scenario";
  std::string_view name;
  std::string start;    ///< UTC
  std::string horizon;  ///< as a duration ("30d")
  static constexpr auto fields() {
    return std::tuple{field("name", &ScenarioSummary::name), field("start", &ScenarioSummary::start),
                      field("horizon", &ScenarioSummary::horizon)};
  }
};

/// The fabric's ledger of consumers and, with training jobs on it, what their collectives cost it.
struct SharedFabricSummary {
  uint64_t consumers = 0;
  Nullable<uint64_t> collective_loads_routed, job_recosts, job_reroutes;  ///< with training jobs
  Nullable<uint64_t> stops_held, holds_expired;  ///< with network.stopped_traffic_hold
  static constexpr auto fields() {
    using S = SharedFabricSummary;
    return std::tuple{field("consumers", &S::consumers), field_if("collective_loads_routed", &S::collective_loads_routed),
                      field_if("job_recosts", &S::job_recosts), field_if("job_reroutes", &S::job_reroutes),
                      field_if("stops_held", &S::stops_held), field_if("holds_expired", &S::holds_expired)};
  }
};

/// summary.json "network": every key only when the scenario's fabric has that part.
struct NetworkSummary {
  static constexpr std::string_view key = "network";
  /// How many collective costs the fabric answered, and how many fell back to alpha-beta: a study
  /// that meant to compare fabrics should see no fallbacks.
  Nullable<uint64_t> collectives_costed_on_fabric, collectives_costed_by_fallback;
  Nullable<Keyed<Keyed<uint64_t>>> collectives_by_fallback;  ///< collective kind -> reason -> count
  Nullable<uint64_t> collective_costs_computed;               ///< cache misses: costs computed on the fabric
  Nullable<SharedFabricSummary> shared_fabric;
  Nullable<FabricFailureSummary> link_failures;
  static constexpr auto fields() {
    using S = NetworkSummary;
    return std::tuple{field_if("collectives_costed_on_fabric", &S::collectives_costed_on_fabric),
                      field_if("collectives_costed_by_fallback", &S::collectives_costed_by_fallback),
                      field_if("collectives_by_fallback", &S::collectives_by_fallback),
                      field_if("collective_costs_computed", &S::collective_costs_computed),
                      field_if("shared_fabric", &S::shared_fabric),
                      field_if(FabricFailureSummary::key, &S::link_failures)};
  }
};

}  // namespace fleetsim
