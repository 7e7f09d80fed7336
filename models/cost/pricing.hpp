// SPDX-License-Identifier: Apache-2.0
// Pricing arithmetic: what one GPU of a (region, accelerator) group costs over a span of time under
// the pricing rules of a CostSpec. Pure functions, no engine; docs/cost.md has the equations.
//
//   const PricingRule* rule = match_rule(spec.pricing, "us-east-1", "H100");
//   double usd = gpu_cost_usd(on_demand, rule, t0_s, t1_s);   // one GPU paid for over [t0, t1)
//
// Rates: On-Demand r0 (USD per GPU-second, instance price / GPUs per instance); reserved
// r0 x (1 - discount); a capacity block or an On-Demand override its own price. A rule applies within
// [from, until); outside it the group pays r0. The integral over a span that crosses a window edge is
// exact (split at the edge), so a term ending between two samples is billed to the second.
#pragma once

#include "models/cost/cost_spec.hpp"

#include <span>
#include <string_view>

namespace fleetsim {

/// The first rule whose region and accelerator match (empty fields match anything), or nullptr.
const PricingRule* match_rule(std::span<const PricingRule> rules, std::string_view region, std::string_view accelerator);

/// USD per GPU-second the rule charges while it applies (its price, or On-Demand minus the discount).
double rule_rate(const PricingRule& rule, double on_demand_usd_per_gpu_s);

/// USD per GPU-second at time t (seconds from the run's start).
double gpu_rate_at(double on_demand_usd_per_gpu_s, const PricingRule* rule, double t_s);

/// Integral of gpu_rate_at over [t0_s, t1_s): the cost of one GPU paid for over that span.
double gpu_cost_usd(double on_demand_usd_per_gpu_s, const PricingRule* rule, double t0_s, double t1_s);

}  // namespace fleetsim
