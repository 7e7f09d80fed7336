// SPDX-License-Identifier: Apache-2.0
#include "models/cost/pricing.hpp"

#include <algorithm>

namespace fleetsim {

std::string_view pricing_model_name(PricingModel m) {
  switch (m) {
    case PricingModel::OnDemand: return "on-demand";
    case PricingModel::Reserved: return "reserved";
    case PricingModel::CapacityBlock: return "capacity-block";
  }
  return "?";
}

const PricingRule* match_rule(std::span<const PricingRule> rules, std::string_view region, std::string_view accelerator) {
  for (const PricingRule& r : rules)
    if ((r.region.empty() || r.region == region) && (r.accelerator.empty() || r.accelerator == accelerator)) return &r;
  return nullptr;
}

double rule_rate(const PricingRule& rule, double on_demand_usd_per_gpu_s) {
  if (rule.usd_per_gpu_s) return *rule.usd_per_gpu_s;
  if (rule.model == PricingModel::Reserved) return on_demand_usd_per_gpu_s * (1 - rule.discount);
  return on_demand_usd_per_gpu_s;
}

double gpu_rate_at(double on_demand_usd_per_gpu_s, const PricingRule* rule, double t_s) {
  if (rule != nullptr && t_s >= rule->from_s && t_s < rule->until_s) return rule_rate(*rule, on_demand_usd_per_gpu_s);
  return on_demand_usd_per_gpu_s;
}

double gpu_cost_usd(double on_demand_usd_per_gpu_s, const PricingRule* rule, double t0_s, double t1_s) {
  if (t1_s <= t0_s) return 0;
  const double span = t1_s - t0_s;
  if (rule == nullptr) return on_demand_usd_per_gpu_s * span;
  // The part of [t0, t1) inside the rule's window pays the rule's rate, the rest On-Demand.
  const double inside = std::max(0.0, std::min(t1_s, rule->until_s) - std::max(t0_s, rule->from_s));
  return rule_rate(*rule, on_demand_usd_per_gpu_s) * inside + on_demand_usd_per_gpu_s * (span - inside);
}

}  // namespace fleetsim
