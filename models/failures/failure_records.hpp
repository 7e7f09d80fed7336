// SPDX-License-Identifier: Apache-2.0
// What the failure model publishes, each record declared once (sim/record.hpp): the events of
// events.jsonl (failures, repairs, outages, stragglers), the fleet-state table's row (utilization.csv)
// and summary.json's "failures" object. The writers make the files from these descriptions; the
// trace, the event levels, the failure counts and the report read these names.
#pragma once

#include "sim/record.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace fleetsim {

// ---- events (events.jsonl)

/// A component of a failure process (FailureSpec::processes) fails, is repaired, or (a straggler
/// process) slows down or recovers. One shape, four kinds (the Kind tags below).
template <class Kind>
struct ComponentEventRecord {
  static constexpr std::string_view kind = Kind::name;
  std::string_view path;             ///< the component ("us-east-1/az1/dc1/rack3/node12/gpu5")
  std::string_view component_class;  ///< "gpu", "node", "link" ... (class_name)
  std::string_view cause;
  std::string_view process;          ///< the process's name
  Nullable<Duration> duration;       ///< failure: downtime ahead; repair: downtime ended; empty: never repaired
  static constexpr auto fields() {
    using S = ComponentEventRecord;
    return std::tuple{field("path", &S::path), field("class", &S::component_class), field("cause", &S::cause),
                      field("process", &S::process), field("duration_ns", &S::duration)};
  }
};
struct FailureKind {
  static constexpr std::string_view name = "failure";
};
struct RepairKind {
  static constexpr std::string_view name = "repair";
};
struct StragglerStartKind {
  static constexpr std::string_view name = "straggler_start";
};
struct StragglerEndKind {
  static constexpr std::string_view name = "straggler_end";
};
using ComponentFailure = ComponentEventRecord<FailureKind>;
using ComponentRepair = ComponentEventRecord<RepairKind>;
using ProcessStragglerStart = ComponentEventRecord<StragglerStartKind>;
using ProcessStragglerEnd = ComponentEventRecord<StragglerEndKind>;

/// A scheduled outage (FailureSpec::outages) begins on a domain.
struct OutageStart {
  static constexpr std::string_view kind = "outage_start";
  std::string_view path;
  std::string_view component_class;  ///< "region", "az" or "datacenter"
  std::string_view cause;
  std::string_view outage;           ///< the outage's name
  std::string_view outage_kind;      ///< "full", "launch", "network"
  double network_factor = 1;
  Duration duration;                 ///< planned (Duration::max() when open-ended)
  static constexpr auto fields() {
    using S = OutageStart;
    return std::tuple{field("path", &S::path),       field("class", &S::component_class),
                      field("cause", &S::cause),     field("outage", &S::outage),
                      field("outage_kind", &S::outage_kind), field("network_factor", &S::network_factor),
                      field("duration_ns", &S::duration)};
  }
};

/// A scheduled outage ends.
struct OutageEnd {
  static constexpr std::string_view kind = "outage_end";
  std::string_view path;
  std::string_view component_class;
  std::string_view cause;
  std::string_view outage;
  Duration duration;
  static constexpr auto fields() {
    using S = OutageEnd;
    return std::tuple{field("path", &S::path), field("class", &S::component_class), field("cause", &S::cause),
                      field("outage", &S::outage), field("duration_ns", &S::duration)};
  }
};

/// A scheduled straggler (FailureSpec::stragglers) begins: a GPU or node runs slower.
struct StragglerStart {
  static constexpr std::string_view kind = StragglerStartKind::name;
  std::string_view path;
  std::string_view component_class;  ///< "gpu" or "node"
  std::string_view cause;
  std::string_view straggler;        ///< the straggler's name
  double slowdown = 1;
  Duration duration;
  static constexpr auto fields() {
    using S = StragglerStart;
    return std::tuple{field("path", &S::path),           field("class", &S::component_class),
                      field("cause", &S::cause),         field("straggler", &S::straggler),
                      field("slowdown", &S::slowdown),   field("duration_ns", &S::duration)};
  }
};

/// A scheduled straggler ends.
struct StragglerEnd {
  static constexpr std::string_view kind = StragglerEndKind::name;
  std::string_view path;
  std::string_view component_class;
  std::string_view cause;
  std::string_view straggler;
  Duration duration;
  static constexpr auto fields() {
    using S = StragglerEnd;
    return std::tuple{field("path", &S::path), field("class", &S::component_class), field("cause", &S::cause),
                      field("straggler", &S::straggler), field("duration_ns", &S::duration)};
  }
};

// ---- the fleet-state table (FailureSpec::table, "utilization"): a row per (region, accelerator) and
// sample

struct FleetStateSample {
  static constexpr std::string_view table = "utilization";
  SimTime time;
  std::string_view region;
  std::string_view accelerator;
  int64_t gpus_installed = 0, gpus_usable = 0, gpus_healthy = 0, gpus_degraded = 0, gpus_failed = 0,
          gpus_repairing = 0, gpus_offline = 0;
  int64_t nodes_healthy = 0, nodes_degraded = 0, nodes_failed = 0, nodes_repairing = 0;
  int64_t racks_failed = 0, racks_repairing = 0;
  int64_t links_down = 0, switches_down = 0;
  bool launch_allowed = true;
  double network_factor = 1;
  static constexpr auto fields() {
    using S = FleetStateSample;
    return std::tuple{field("time_ns", &S::time),
                      field("region", &S::region),
                      field("accelerator", &S::accelerator),
                      field("gpus_installed", &S::gpus_installed),
                      field("gpus_usable", &S::gpus_usable),
                      field("gpus_healthy", &S::gpus_healthy),
                      field("gpus_degraded", &S::gpus_degraded),
                      field("gpus_failed", &S::gpus_failed),
                      field("gpus_repairing", &S::gpus_repairing),
                      field("gpus_offline", &S::gpus_offline),
                      field("nodes_healthy", &S::nodes_healthy),
                      field("nodes_degraded", &S::nodes_degraded),
                      field("nodes_failed", &S::nodes_failed),
                      field("nodes_repairing", &S::nodes_repairing),
                      field("racks_failed", &S::racks_failed),
                      field("racks_repairing", &S::racks_repairing),
                      field("links_down", &S::links_down),
                      field("switches_down", &S::switches_down),
                      field("launch_allowed", &S::launch_allowed),
                      field("network_factor", &S::network_factor)};
  }
};

// ---- summary.json "failures"

struct FailureSummary {
  static constexpr std::string_view key = "failures";
  uint64_t failures = 0, repairs = 0, outages = 0, stragglers = 0;
  uint64_t rejected_draws = 0, masked_draws = 0;
  Keyed<uint64_t> by_class;                          ///< failures by component class
  Keyed<double> repaired_downtime_hours_by_class;    ///< of completed repairs
  static constexpr auto fields() {
    using S = FailureSummary;
    return std::tuple{field("failures", &S::failures),
                      field("repairs", &S::repairs),
                      field("outages", &S::outages),
                      field("stragglers", &S::stragglers),
                      field("rejected_draws", &S::rejected_draws),
                      field("masked_draws", &S::masked_draws),
                      field("by_class", &S::by_class),
                      field("repaired_downtime_hours_by_class", &S::repaired_downtime_hours_by_class)};
  }
};

}  // namespace fleetsim
