// SPDX-License-Identifier: Apache-2.0
#include "models/training/checkpoint.hpp"

#include <algorithm>
#include <cmath>

namespace fleetsim {

Duration young_daly_interval(Duration checkpoint_cost, Duration mtbf, bool daly_higher_order) {
  const double c = std::max(0.0, checkpoint_cost.seconds());
  const double m = mtbf.seconds();
  if (m <= 0) return Duration::s(1);
  if (c <= 0) return Duration::from_seconds(std::min(m, 60.0));  // free checkpoints: often, but not every ns
  double tau = std::sqrt(2.0 * c * m);
  if (daly_higher_order) {
    tau = c < 2.0 * m ? tau * (1.0 + std::sqrt(c / (2.0 * m)) / 3.0 + c / (18.0 * m)) - c : m;
  }
  return Duration::from_seconds(std::max(tau, 1e-3));
}

namespace {
template <class V>
bool listed(const V& names, std::string_view n) {
  return names.empty() || std::find(names.begin(), names.end(), n) != names.end();
}
}  // namespace

double interruption_rate_per_s(const FailureSpec& spec, const PlacementCounts& where, std::string_view region,
                               std::string_view accelerator) {
  double rate = 0;
  for (const ProcessSpec& p : spec.processes) {
    if (p.slowdown > 1) continue;
    if (!region.empty() && !listed(p.regions, region)) continue;
    const bool domain = p.cls == ComponentClass::Datacenter || p.cls == ComponentClass::Az || p.cls == ComponentClass::Region;
    if (!domain && !accelerator.empty() && !listed(p.accelerators, accelerator)) continue;
    if (p.lifetime.mean_s <= 0) continue;
    double n = 0;
    switch (p.cls) {
      case ComponentClass::Gpu:
      case ComponentClass::Hbm:
      case ComponentClass::Link: n = double(where.gpus); break;
      case ComponentClass::Node:
      case ComponentClass::Nic:
      case ComponentClass::Software: n = double(where.nodes); break;
      case ComponentClass::Switch:
      case ComponentClass::RackPower: n = double(where.racks); break;
      case ComponentClass::Datacenter: n = double(where.datacenters); break;
      case ComponentClass::Az: n = double(where.zones); break;
      case ComponentClass::Region: n = double(where.regions); break;
    }
    rate += n / p.lifetime.mean_s;
  }
  return rate;
}

}  // namespace fleetsim
