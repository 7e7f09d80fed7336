// SPDX-License-Identifier: Apache-2.0
// The scenario's "fleet" key -> FleetSpec (models/hardware/fleet_spec.hpp), resolved against the
// catalog. docs/fleet.md documents the keys; scenarios/schema/fleet.schema.fragment.json is the schema.
//
//   "fleet": {
//     "regions": [{"name": "us-east-1", "zones": [{"name": "use1-az4", "datacenters": [
//         {"name": "dc1", "instance": "p6e-gb200.36xlarge", "racks": 4},
//         {"name": "dc2", "accelerator": "H100", "gpus": 16384}]}]}],
//     "ramps": [{"at": "2026-03-01", "region": "us-east-1", "add_gpus": 20000, "accelerator": "GB200"}],
//     "retirements": [{"at": "2030-01-01", "region": "us-east-1", "datacenter": "dc2"},
//                     {"at": "2031-01-01", "region": "us-east-1", "gpus": 8000}]
//   }
//
//   FleetSpec fs = load_fleet(root.section("fleet"), catalog, run);   // errors go to the Reader
//
// A datacenter gives its hardware as "instance" (a catalog instance type: GPUs per node, nodes per rack
// and scale-up domain come from it) or "accelerator" (the first instance type carrying it, by name; if
// none, "gpus_per_node" is required), and its size as exactly one of "racks", "nodes", "gpus" (GPUs
// are rounded up to whole nodes). "gpus_per_node", "nodes_per_rack", "scale_up_nodes" override the
// instance's shape. A ramp becomes a datacenter (named by "name", default "ramp<N>") appended to its
// zone ("zone", default the region's first) and installed at "at". Instants are UTC ("2026-03-01",
// "2026-03-01T12:00Z") or offsets from the start ("90d"); they must fall within the run.
#pragma once

#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "models/scenario/reader.hpp"
#include "models/scenario/scenario.hpp"

namespace fleetsim {

/// The "fleet" section (an object; {} gives an empty fleet).
FleetSpec load_fleet(const Reader& fleet_section, const Catalog& catalog, const RunSpec& run);

/// Reads an instant: a UTC time ("2025-10-20T06:48Z", "2026-03-01") or an offset from the run's
/// start ("90d", or a JSON number of seconds). Returns simulated time (may be negative or past the
/// horizon: check with require_within_run).
SimTime read_instant(const Reader& r, const RunSpec& run);
/// Records 'expected an instant within the run (START to END), got VALUE' unless 0 <= t < horizon.
bool require_within_run(const Reader& r, SimTime t, const RunSpec& run);

}  // namespace fleetsim
