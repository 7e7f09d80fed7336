// SPDX-License-Identifier: Apache-2.0
// Small fleets for the hardware and failures tests, built directly as FleetSpec (no JSON).
#pragma once

#include "models/hardware/fleet_spec.hpp"

#include <string>

namespace fleetsim::test {

/// One datacenter of `nodes` nodes shaped like an 8-GPU HGX host, 2 nodes per rack.
inline DatacenterSpec hgx_dc(std::string name, uint32_t nodes, std::string acc = "H100") {
  DatacenterSpec d;
  d.name = std::move(name);
  d.instance = "p5.48xlarge";
  d.accelerator = std::move(acc);
  d.gpus_per_node = 8;
  d.nodes_per_rack = 2;
  d.scale_up_nodes = 1;
  d.nodes = nodes;
  return d;
}

/// One datacenter of NVL72 racks: 18 nodes of 4 GPUs per rack, one scale-up domain per rack.
inline DatacenterSpec nvl72_dc(std::string name, uint32_t racks, std::string acc = "GB200") {
  DatacenterSpec d;
  d.name = std::move(name);
  d.instance = "p6e-gb200.36xlarge";
  d.accelerator = std::move(acc);
  d.gpus_per_node = 4;
  d.nodes_per_rack = 18;
  d.scale_up_nodes = 18;
  d.nodes = racks * 18;
  return d;
}

/// us-east-1 (two zones: az1 with dc1 = 10 HGX nodes and dc2 = 2 NVL72 racks; az2 with dc3 = 5 HGX
/// nodes) and us-west-2 (one zone, dc1 = 6 HGX nodes). 80 + 144 + 40 + 48 = 312 GPUs.
inline FleetSpec two_region_spec() {
  FleetSpec s;
  auto& east = s.add_region("us-east-1");
  auto& az1 = east.add_zone("use1-az1");
  az1.datacenters.push_back(hgx_dc("dc1", 10));
  az1.datacenters.push_back(nvl72_dc("dc2", 2));
  east.add_zone("use1-az2").datacenters.push_back(hgx_dc("dc3", 5));
  s.add_region("us-west-2").add_zone("usw2-az1").datacenters.push_back(hgx_dc("dc1", 6));
  return s;
}

/// One region, one zone, one datacenter of `nodes` HGX nodes.
inline FleetSpec single_dc_spec(uint32_t nodes, uint32_t nodes_per_rack = 2) {
  FleetSpec s;
  auto dc = hgx_dc("dc1", nodes);
  dc.nodes_per_rack = nodes_per_rack;
  s.add_region("r1").add_zone("z1").datacenters.push_back(dc);
  return s;
}

}  // namespace fleetsim::test
