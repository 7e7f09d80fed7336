// SPDX-License-Identifier: Apache-2.0
// Small fleets, a catalog and service specs for the inference tests, built directly (no JSON).
#pragma once

#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet.hpp"
#include "models/inference/inference_spec.hpp"
#include "models/scenario/load_catalog.hpp"

#include <string>
#include <vector>

namespace fleetsim::test {

/// The H100 of the shipped catalog (scenarios/catalog/accelerators.json, sources there).
inline AcceleratorSpec h100() { return builtin_catalog().accelerator("H100"); }

inline Catalog h100_catalog() {
  Catalog c;
  c.accelerators.push_back(h100());
  return c;
}

/// Regions named as given, each with one zone "<name>-az1" and one datacenter "dc1" of `nodes` 8-GPU H100
/// nodes, `nodes_per_rack` to a rack.
inline FleetSpec h100_regions(std::vector<std::string> names, uint32_t nodes, uint32_t nodes_per_rack = 2) {
  FleetSpec s;
  for (auto& n : names) {
    DatacenterSpec d;
    d.name = "dc1";
    d.accelerator = "H100";
    d.instance = "p5.48xlarge";
    d.gpus_per_node = 8;
    d.nodes_per_rack = nodes_per_rack;
    d.nodes = nodes;
    s.add_region(n).add_zone(n + "-az1").datacenters.push_back(d);
  }
  return s;
}

/// Llama-3-8B-like shapes: 8.03e9 parameters, 32 layers, hidden 4096, 8 KV heads of 128 (128 KiB of
/// KV per token in BF16), one H100 per replica.
inline InferenceServiceSpec small_service(std::vector<std::pair<std::string, uint32_t>> regions, double rate) {
  InferenceServiceSpec s;
  s.name = "chat";
  s.model = LlmModelSpec::dense("llama-8b", 8.03e9, 32, 4096, 8, 128);
  s.replica.accelerator = "H100";
  s.replica.tp = 1;
  s.arrivals.rate_per_s = rate;
  s.prompt = LengthSpec::lognormal(500, 0.8);
  s.prompt.max = 8000;
  s.output = LengthSpec::lognormal(150, 0.8);
  s.output.max = 4000;
  for (auto& [name, n] : regions) {
    ServiceRegionSpec r;
    r.region = name;
    r.replicas = n;
    s.regions.push_back(r);
  }
  return s;
}

}  // namespace fleetsim::test
