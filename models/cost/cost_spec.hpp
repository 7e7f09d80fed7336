// SPDX-License-Identifier: Apache-2.0
// CostSpec: how a scenario's capacity is paid for and powered, in SI units (USD, USD per GPU-second,
// W, J, seconds). The loader (models/scenario/load_cost.cpp) fills it from the "cost" section, the
// catalog's On-Demand prices and scenarios/catalog/energy.json; docs/cost.md has the equations.
//
//   CostSpec c;
//   c.enabled = true;
//   c.groups.push_back({.region = "us-east-1", .accelerator = "H100", .on_demand_usd_per_gpu_s = 55.04 / 8 / 3600});
//   c.pricing.push_back({.accelerator = "H100", .model = PricingModel::Reserved, .discount = 0.4,
//                        .from_s = 0, .until_s = 3 * 365 * 86400.0});
//   c.commitment = {.enabled = true, .amount_usd = 38e9, .start_s = 0, .term_s = 7 * 365 * 86400.0};
//
// Times (from_s, until_s, commitment start) are seconds relative to the run's start (simulated time
// 0); they may be negative (a contract signed before the run) or infinite (no end).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace fleetsim {

enum class PricingModel : uint8_t {
  OnDemand,       ///< the catalog's (or the rule's) price per instance-hour, pay as you go
  Reserved,       ///< reserved instances or a savings plan: On-Demand x (1 - discount) within the term
  CapacityBlock,  ///< a block bought ahead at its own price per instance-hour, within its window
};
std::string_view pricing_model_name(PricingModel m);  ///< "on-demand", "reserved", "capacity-block"

/// How the GPUs of a region and accelerator are bought. The first rule matching a (region,
/// accelerator) applies; outside its window [from_s, until_s) the group pays On-Demand.
struct PricingRule {
  std::string region{};       ///< empty: every region
  std::string accelerator{};  ///< empty: every accelerator
  PricingModel model = PricingModel::OnDemand;
  std::optional<double> usd_per_gpu_s{};  ///< the rule's own price (capacity blocks; an On-Demand override)
  double discount = 0;                  ///< reserved: fraction off On-Demand, [0, 1)
  double from_s = -std::numeric_limits<double>::infinity();
  double until_s = std::numeric_limits<double>::infinity();
  std::string source{};       ///< where the price or discount comes from
};

/// The On-Demand price of one (region, accelerator) group of the fleet, resolved by the loader.
struct GroupPrice {
  std::string region{};
  std::string accelerator{};
  double on_demand_usd_per_gpu_s = 0;
  std::string source{};       ///< "catalog p5.48xlarge $55.04/h (us-east-1, 2025-12-21)" or a rule's pointer
};

/// Electricity, cooling and carbon of one region (a site).
struct EnergySite {
  std::string region{};
  double pue = 1;                 ///< facility energy / IT energy, >= 1
  double usd_per_j = 0;           ///< electricity price
  std::optional<double> carbon_kg_per_j{};  ///< grid carbon intensity; absent: no carbon figures
};

/// Power of one accelerator: the GPU from idle to TDP with utilization, plus the rest of its host.
struct AcceleratorPower {
  std::string accelerator{};
  double idle_w = 0;          ///< GPU at zero utilization (catalog power_idle)
  double tdp_w = 0;           ///< GPU at full utilization (catalog power_tdp)
  double overhead_w = 0;      ///< host share per GPU (CPUs, NICs, switches, fans), constant while powered
};

struct EnergySpec {
  /// false: cloud prices include power (energy is reported, not added to total_usd); true: the
  /// operator pays for electricity separately (owned or colocated capacity).
  bool billed_separately = false;
  /// Utilization of a busy GPU (power = idle + (tdp - idle) x u); idle GPUs are at u = 0.
  double busy_utilization = 1;
  std::vector<EnergySite> sites{};          ///< one per fleet region, defaults filled in
  std::vector<AcceleratorPower> power{};    ///< one per fleet accelerator
};

/// A committed-spend contract: `amount_usd` over `term_s` from `start_s`, burned by every dollar of
/// total cost; the plan is the straight line from 0 at start to amount at start + term.
struct CommitmentSpec {
  bool enabled = false;
  std::string name{};
  double amount_usd = 0;
  double start_s = 0;          ///< relative to the run's start
  double term_s = 0;           ///< > 0
  bool take_or_pay = true;     ///< a shortfall at the end of the term is owed anyway
  /// Spend already counted when the run starts; absent: on plan (the plan's value at the run start).
  std::optional<double> spent_before_usd{};
  std::string source{};
};

/// Money owed per request that misses its SLO or fails, where a contract sets it.
struct SloPenaltySpec {
  double usd_per_failed_request = 0;
  double usd_per_late_request = 0;
};

struct CostSpec {
  bool enabled = false;  ///< the scenario has a "cost" section
  std::vector<GroupPrice> groups{};
  std::vector<PricingRule> pricing{};
  EnergySpec energy;
  CommitmentSpec commitment;
  SloPenaltySpec slo_penalty;
};

}  // namespace fleetsim
