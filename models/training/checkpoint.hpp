// SPDX-License-Identifier: Apache-2.0
// Checkpoint interval and the failure rate a job's placement sees.
//
//   Duration tau = young_daly_interval(Duration::s(60), Duration::hours(3));   // sqrt(2*60*10800) s
//   PlacementCounts pc{.gpus = 16384, .nodes = 2048, .racks = 1024, .datacenters = 1};
//   double rate = interruption_rate_per_s(failure_spec, pc, "us-east-1", "H100");  // 1/MTBF
//
// Young (1974), "A first order approximation to the optimum checkpoint interval", CACM 17(9): the
// interval between checkpoints that minimizes expected lost time is sqrt(2*C*M) for a checkpoint cost
// C and a mean time between failures M >> C. Daly (2006), "A higher order estimate of the optimum
// checkpoint interval for restart dumps", FGCS 22(3), eq. 37: sqrt(2CM)*(1 + sqrt(C/(2M))/3 + C/(18M))
// - C for C < 2M, and M otherwise.
//
// The expected rate counts every failure process (not straggler processes) whose class can stop a job
// on this placement: per GPU (gpu, hbm, link), per node (node, nic, software), per rack (switch,
// rack_power), per domain (datacenter, az, region: those the placement touches).
#pragma once

#include "models/failures/failure_spec.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <string_view>

namespace fleetsim {

Duration young_daly_interval(Duration checkpoint_cost, Duration mtbf, bool daly_higher_order = false);

struct PlacementCounts {
  uint64_t gpus = 0, nodes = 0, racks = 0, datacenters = 0, zones = 0, regions = 0;
};

/// Sum of failure rates (per second) of the processes that interrupt a job on this placement.
/// Processes restricted to other regions or accelerators are left out.
double interruption_rate_per_s(const FailureSpec& spec, const PlacementCounts& where, std::string_view region,
                               std::string_view accelerator);

}  // namespace fleetsim
