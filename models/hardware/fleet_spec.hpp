// SPDX-License-Identifier: Apache-2.0
// FleetSpec: the configuration of a fleet (regions > availability zones > datacenters > racks > nodes >
// GPUs), resolved against the catalog, in SI units and simulated time. Fleet::build turns it into the
// live hierarchy (models/hardware/fleet.hpp).
//
//   FleetSpec spec;
//   auto& dc = spec.add_region("us-east-1").add_zone("use1-az4").add_datacenter("dc1");
//   dc.accelerator = "GB200"; dc.instance = "p6e-gb200.36xlarge";
//   dc.gpus_per_node = 4; dc.nodes_per_rack = 18; dc.nodes = 4 * 18;      // 4 NVL72 racks
//   // a capacity ramp is a datacenter that is installed later:
//   auto& ramp = spec.regions[0].zones[0].add_datacenter("ramp1");
//   ramp = dc; ramp.name = "ramp1"; ramp.nodes = 5000; ramp.install_at = t_ramp;
//
// Ramps and retirements: the scenario's "ramps" become datacenters with install_at > 0 (the loader
// appends them to their zone, so every region keeps a contiguous range of GPU indices); a whole
// datacenter retires at retire_at; "retire N GPUs from a region at t" is a RetirementSpec, carried
// out node by node from the region's oldest datacenters.
// Invariants (the loader checks them; Fleet::build throws std::invalid_argument otherwise): names
// unique among siblings and free of '/', gpus_per_node in 1..255, nodes_per_rack >= 1,
// nodes >= 1, install_at < retire_at.
#pragma once

#include "sim/time.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

struct DatacenterSpec {
  std::string name;              ///< "dc1"
  std::string instance;          ///< catalog instance type; empty when given as accelerator + shape
  std::string accelerator;       ///< catalog accelerator ("GB200")
  uint32_t gpus_per_node = 8;
  uint32_t nodes_per_rack = 1;   ///< the last rack holds the remainder when nodes % nodes_per_rack != 0
  uint32_t scale_up_nodes = 1;   ///< nodes per scale-up (NVLink) domain
  uint32_t nodes = 0;            ///< total nodes in this datacenter
  SimTime install_at = SimTime::zero();  ///< > 0: capacity that ramps in at that time
  std::optional<SimTime> retire_at;      ///< the whole datacenter retires then

  uint64_t gpus() const { return uint64_t{nodes} * gpus_per_node; }
  uint32_t racks() const { return nodes_per_rack == 0 ? 0 : (nodes + nodes_per_rack - 1) / nodes_per_rack; }
};

struct ZoneSpec {
  std::string name;  ///< "use1-az4"
  std::vector<DatacenterSpec> datacenters;
  DatacenterSpec& add_datacenter(std::string dc_name) {
    DatacenterSpec d;
    d.name = std::move(dc_name);
    datacenters.push_back(std::move(d));
    return datacenters.back();
  }
};

struct RegionSpec {
  std::string name;  ///< "us-east-1"
  std::vector<ZoneSpec> zones;
  ZoneSpec& add_zone(std::string zone_name) {
    ZoneSpec z;
    z.name = std::move(zone_name);
    zones.push_back(std::move(z));
    return zones.back();
  }
};

/// Retire `gpus` GPUs (rounded up to whole nodes) of `region` at `at`, oldest datacenters first.
struct RetirementSpec {
  SimTime at;
  std::string region;
  uint64_t gpus = 0;
};

struct FleetSpec {
  std::vector<RegionSpec> regions;
  std::vector<RetirementSpec> retirements;

  RegionSpec& add_region(std::string region_name) {
    RegionSpec r;
    r.name = std::move(region_name);
    regions.push_back(std::move(r));
    return regions.back();
  }
  const RegionSpec* find_region(std::string_view region_name) const {
    for (const auto& r : regions)
      if (r.name == region_name) return &r;
    return nullptr;
  }
  uint64_t total_gpus() const {
    uint64_t n = 0;
    for (const auto& r : regions)
      for (const auto& z : r.zones)
        for (const auto& d : z.datacenters) n += d.gpus();
    return n;
  }
};

}  // namespace fleetsim
