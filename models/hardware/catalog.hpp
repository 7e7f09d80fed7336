// SPDX-License-Identifier: Apache-2.0
// The hardware catalog: accelerators and instance types as plain structs in SI units.
//
//   Catalog cat = load_catalog(...);                      // models/scenario/load_catalog.hpp fills it
//   const AcceleratorSpec* h100 = cat.find_accelerator("H100");
//   double tflops = h100->bf16_dense_flop_per_s / 1e12;   // 989.4
//   const InstanceSpec& p5 = cat.instance("p5.48xlarge"); // throws std::out_of_range if unknown
//
// Units: FLOP/s, bytes, bytes/s, W, USD/s (an hourly price of $55.04/h is 55.04/3600 here). The
// figures and their sources live in scenarios/catalog/*.json; this header knows no JSON.
// Invariants (checked by the loader): every number positive, scale-up domain >= 1, an instance's
// accelerator names an entry of the same catalog.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

struct AcceleratorSpec {
  std::string name;                  ///< catalog key: "H100", "GB200"
  std::string description;           ///< "NVIDIA H100 SXM5 80 GB"
  double bf16_dense_flop_per_s = 0;  ///< dense (not 2:4-sparse) peak
  double fp8_dense_flop_per_s = 0;
  double hbm_bytes = 0;
  double hbm_bytes_per_s = 0;
  uint32_t scale_up_domain_gpus = 1;    ///< accelerators in one NVLink/NeuronLink domain
  double scale_up_bytes_per_s = 0;      ///< per accelerator, per direction
  double power_idle_w = 0;
  double power_tdp_w = 0;
};

struct InstanceSpec {
  std::string name;          ///< "p5.48xlarge"
  std::string description;
  std::string accelerator;   ///< key into Catalog::accelerators
  uint32_t gpus = 0;         ///< accelerators per instance (per node)
  uint32_t nics = 0;         ///< network interfaces sharing network_bytes_per_s
  double network_bytes_per_s = 0;  ///< instance total scale-out bandwidth
  uint32_t nodes_per_rack = 1;     ///< hosts per rack in the fleet model
  uint32_t scale_up_nodes = 1;     ///< hosts per scale-up domain (1: the host is the domain)
  std::optional<double> price_usd_per_s;  ///< On-Demand; nullopt when no public price is known
  std::string price_date;                 ///< "2025-12-21"; empty when no price
  std::string price_region;
};

class Catalog {
 public:
  std::vector<AcceleratorSpec> accelerators;  ///< sorted by name (the loader keeps them so)
  std::vector<InstanceSpec> instances;        ///< sorted by name

  const AcceleratorSpec* find_accelerator(std::string_view name) const {
    for (const auto& a : accelerators)
      if (a.name == name) return &a;
    return nullptr;
  }
  const InstanceSpec* find_instance(std::string_view name) const {
    for (const auto& i : instances)
      if (i.name == name) return &i;
    return nullptr;
  }
  const AcceleratorSpec& accelerator(std::string_view name) const {
    if (const auto* a = find_accelerator(name)) return *a;
    throw std::out_of_range("no accelerator named \"" + std::string(name) + "\" in the catalog");
  }
  const InstanceSpec& instance(std::string_view name) const {
    if (const auto* i = find_instance(name)) return *i;
    throw std::out_of_range("no instance type named \"" + std::string(name) + "\" in the catalog");
  }
  /// The first instance type (by name) carrying this accelerator, or nullptr.
  const InstanceSpec* instance_for_accelerator(std::string_view accelerator_name) const {
    for (const auto& i : instances)
      if (i.accelerator == accelerator_name) return &i;
    return nullptr;
  }
  std::vector<std::string> accelerator_names() const {
    std::vector<std::string> out;
    for (const auto& a : accelerators) out.push_back(a.name);
    return out;
  }
  std::vector<std::string> instance_names() const {
    std::vector<std::string> out;
    for (const auto& i : instances) out.push_back(i.name);
    return out;
  }
};

}  // namespace fleetsim
