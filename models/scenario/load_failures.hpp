// SPDX-License-Identifier: Apache-2.0
// The scenario's "failures" key -> FailureSpec (models/failures/failure_spec.hpp). docs/failures.md
// documents the keys; scenarios/schema/failures.schema.fragment.json is the schema.
//
//   "failures": {
//     "presets": ["llama3-405b"],                        // scenarios/catalog/failure_presets.json
//     "processes": [
//       {"name": "gpu", "class": "gpu", "mtbf": "50000h", "repair": "24h"},
//       {"name": "wear", "class": "gpu", "distribution": "weibull", "shape": 1.3, "rate": "0.05/GPU-year",
//        "repair": {"distribution": "lognormal", "median": "24h", "sigma": 1.0, "detect": "5min"}},
//       {"name": "power", "class": "rack_power", "rate": "1/year", "repair": "6h", "regions": ["us-east-1"]}],
//     "outages": [{"region": "us-east-1", "from": "2025-10-20T06:48Z", "duration": "14.5h", "kind": "full"}],
//     "stragglers": [{"name": "slow-hosts", "class": "node", "rate": "1/1000 node-days", "slowdown": 1.1,
//                     "duration": "6h"},
//                    {"component": "us-east-1/use1-az4/dc1/rack3/node2", "at": "10d", "duration": "2h",
//                     "slowdown": 1.5}]
//   }
//
//   FailureSpec fs = load_failures(root.section("failures"), fleet_spec, run);
//
// Rejected with pointer errors: a zero or negative MTBF or rate, a Weibull shape <= 0, an outage or
// straggler outside the run, an unknown region, zone, datacenter, accelerator, class, preset or
// component path (with did-you-mean where a near name exists), duplicate process names.
#pragma once

#include "models/failures/failure_spec.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "models/scenario/reader.hpp"
#include "models/scenario/scenario.hpp"

#include <string>
#include <vector>

namespace fleetsim {

/// The "failures" section (an object; {} for none). Sets sample_interval from run.sample_interval.
FailureSpec load_failures(const Reader& failures_section, const FleetSpec& fleet, const RunSpec& run);

/// Names of the built-in presets (scenarios/catalog/failure_presets.json), sorted.
std::vector<std::string> failure_preset_names();

/// Parses a failure rate such as "0.0611/GPU-year", "6.5/1000 node-days", "2/year", "1e-5/h" into
/// events per second per component of `cls`. The component word, if any, must match the class's
/// population (GPU for gpu/hbm/link, node or host for node/nic/software, rack for switch/rack_power,
/// datacenter, az or zone, region). Throws std::invalid_argument with the reason.
double parse_failure_rate(std::string_view text, ComponentClass cls);
/// Parses a long time span ("143470.7h", "16.4y") to seconds as a double: MTBFs of single components
/// exceed what SimTime can hold (~292 years). Throws std::invalid_argument.
double parse_span_seconds(std::string_view text);

}  // namespace fleetsim
