// SPDX-License-Identifier: Apache-2.0
// A one-region fleet and a CostSpec with round figures, for the cost model's tests.
#pragma once

#include "models/cost/cost_model.hpp"
#include "models/hardware/fleet.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"

namespace fleetsim::test {

/// One region "r1", one datacenter of `nodes` 8-GPU H100 nodes.
inline FleetSpec h100_region(uint32_t nodes) {
  FleetSpec spec;
  auto& dc = spec.add_region("r1").add_zone("z1").add_datacenter("dc1");
  dc.accelerator = "H100";
  dc.instance = "p5.48xlarge";
  dc.gpus_per_node = 8;
  dc.nodes_per_rack = 2;
  dc.nodes = nodes;
  return spec;
}

/// $8/GPU-h On-Demand, H100 70-700 W with 100 W host share per GPU, PUE 1.2, $0.10/kWh, 0.4 kg/kWh.
inline CostSpec round_cost_spec() {
  CostSpec c;
  c.enabled = true;
  c.groups.push_back({"r1", "H100", 8.0 / 3600, "test"});
  c.energy.billed_separately = true;
  c.energy.busy_utilization = 1.0;
  c.energy.sites.push_back({"r1", 1.2, 0.10 / 3.6e6, 0.4 / 3.6e6});
  c.energy.power.push_back({"H100", 70, 700, 100});
  return c;
}

}  // namespace fleetsim::test
