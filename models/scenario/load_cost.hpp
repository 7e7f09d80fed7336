// SPDX-License-Identifier: Apache-2.0
// The "cost" section: pricing rules, energy, a committed-spend contract and SLO penalties, resolved
// against the catalog's On-Demand prices and scenarios/catalog/energy.json. docs/cost.md.
//
//   "cost": {
//     "pricing": [{"accelerator": "GB200", "price": "$56.96/h", "source": "..."},
//                 {"region": "us-east-1", "accelerator": "H100", "model": "reserved", "discount": "40%",
//                  "start": "2025-10-01", "term": "1y"}],
//     "energy": {"billing": "included", "pue": 1.15, "electricity_price": "$0.0806/kWh",
//                "regions": {"us-west-2": {"carbon_intensity": "0.3 kg/kWh"}}},
//     "commitment": {"amount": "$38 billion", "start": "2025-11-03", "term": "7y", "take_or_pay": true},
//     "slo_penalty": {"failed_request": "$0.001"}
//   }
//
//   CostSpec c = load_cost(root.at("cost"), catalog, fleet, run);   // errors in the Reader's Diagnostics
//
// Every (region, accelerator) of the fleet needs an On-Demand base price: an "on-demand" rule with
// a price, else the catalog price of its first datacenter's instance type. Without one the error
// names the group and says where to set a price.
#pragma once

#include "models/cost/cost_spec.hpp"
#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "models/scenario/reader.hpp"
#include "models/scenario/scenario.hpp"

#include <string_view>

namespace fleetsim {

CostSpec load_cost(const Reader& cost_section, const Catalog& catalog, const FleetSpec& fleet, const RunSpec& run);

/// "$0.0806/kWh", "$80/MWh" or a JSON number (USD per kWh) -> USD per joule. Throws std::invalid_argument.
double parse_electricity_price(std::string_view text);
/// "0.39 kg/kWh", "390 g/kWh", "390 kg/MWh", "0.39 t/MWh" -> kg CO2e per joule. Throws std::invalid_argument.
double parse_carbon_intensity(std::string_view text);

}  // namespace fleetsim
