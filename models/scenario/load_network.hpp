// SPDX-License-Identifier: Apache-2.0
// The scenario's "network" key -> NetworkSpec (models/network/topology.hpp). docs/network.md documents
// the keys; scenarios/schema/network.schema.fragment.json is the schema.
//
//   "network": {
//     "clusters": [
//       {"name": "train", "gpus": 16384, "gpus_per_host": 8,
//        "scale_up": {"accelerator": "H100"},                  // or gpus_per_domain / bandwidth / latency
//        "scale_out": {"design": "rail_optimized", "switch_radix": 64, "port_speed": "400 Gbps",
//                      "planes": 2, "leaf_oversubscription": "1:1", "link_latency": "500ns"}},
//       {"name": "serve", "datacenter": "us-east-1/use1-az4/dc1",   // size, host shape, scale-up from the fleet
//        "scale_out": {"design": "fat_tree", "switch_radix": 64, "leaf_oversubscription": "2:1"},
//        "wan_uplink": "400 Gbps"}],
//     "sites": [{"name": "eu-west-1"}],                        // besides the fleet's regions and zones
//     "wan": [{"between": ["us-east-1", "eu-west-1"], "bandwidth": "1.6 Tbps", "latency": "38ms", "links": 2}]
//   }
//
//   NetworkSpec ns = load_network(root.section("network"), fleet_spec, scenario.catalog);
//   Topology topo = build_topology(ns);   // cannot throw for a spec load_network accepted
//
// Designs: "rail_optimized" (GPU r of every host of a rail group on leaf r of the group, 2 tiers),
// "rail_optimized_3_tier", "leaf_spine" (all GPUs of a host on its top-of-rack leaf, 2 tiers),
// "fat_tree" (top-of-rack, 3 tiers). Oversubscription as a number (2) or a ratio string ("2:1").
// Sites: every region and zone of the fleet is a site (a zone belongs to its region); "sites" adds
// more. A cluster from a "datacenter" path sits in that datacenter's zone.
// Every problem is recorded in the Reader's Diagnostics with its JSON pointer: unknown design, site,
// datacenter or accelerator (with did-you-mean), a radix too small for the size (with what fits),
// zero bandwidth, a WAN link to an unknown region or zone, duplicate names.
#pragma once

#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "models/network/topology.hpp"
#include "models/scenario/reader.hpp"

namespace fleetsim {

/// Every host, switch and link of a cluster is materialised (topology.cpp): measured 1.3 GB and 3.6 s to
/// build 2^20 GPUs on radix 256, 2.9 GB before failing at 10^7. Larger clusters are refused at load
/// instead of exhausting memory. docs/robustness.md.
inline constexpr uint32_t kMaxClusterGpus = 1u << 20;

/// The "network" section (an object; {} or absent: no network, an empty NetworkSpec). A cluster of
/// more than `max_cluster_gpus` GPUs is refused (the fuzz harness lowers it: docs/fuzzing.md).
NetworkSpec load_network(const Reader& network_section, const FleetSpec& fleet, const Catalog& catalog,
                         uint32_t max_cluster_gpus = kMaxClusterGpus);

/// The run options of the same section: "link_failures" (a list of sets or processes, LinkFailureSpec)
/// and "collective_costing" ("aggregate" or "flows"). `spec` is what load_network returned (for
/// cluster names).
///   "link_failures": [{"fraction": 0.01, "at": "0s", "tiers": ["leaf_spine", "spine_core"]},
///                     {"mtbf": "50000h", "repair": "4h", "tiers": ["wan"]}],
///   "collective_costing": "flows"
NetworkRunOptions load_network_run(const Reader& network_section, const NetworkSpec& spec);

}  // namespace fleetsim
