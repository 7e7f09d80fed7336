// SPDX-License-Identifier: Apache-2.0
#include "models/failures/failure_spec.hpp"

#include <cmath>

namespace fleetsim {

namespace {
constexpr std::array<std::string_view, kComponentClasses> kClassNames = {
    "gpu", "hbm", "link", "node", "nic", "software", "switch", "rack_power", "datacenter", "az", "region"};
}  // namespace

std::string_view class_name(ComponentClass c) { return kClassNames[static_cast<size_t>(c)]; }

std::optional<ComponentClass> parse_class(std::string_view name) {
  for (size_t i = 0; i < kClassNames.size(); ++i)
    if (kClassNames[i] == name) return static_cast<ComponentClass>(i);
  return std::nullopt;
}

const std::vector<std::string>& class_names() {
  static const std::vector<std::string> names(kClassNames.begin(), kClassNames.end());
  return names;
}

Level population_level(ComponentClass c) {
  switch (c) {
    case ComponentClass::Gpu:
    case ComponentClass::Hbm:
    case ComponentClass::Link: return Level::Gpu;
    case ComponentClass::Node:
    case ComponentClass::Nic:
    case ComponentClass::Software: return Level::Node;
    case ComponentClass::Switch:
    case ComponentClass::RackPower: return Level::Rack;
    case ComponentClass::Datacenter: return Level::Datacenter;
    case ComponentClass::Az: return Level::Zone;
    case ComponentClass::Region: return Level::Region;
  }
  return Level::Gpu;
}

bool takes_capacity_down(ComponentClass c) { return c != ComponentClass::Link && c != ComponentClass::Switch; }

double LifetimeSpec::scale_s() const {
  if (kind == Kind::Exponential) return mean_s;
  // Mean of Weibull(k, eta) is eta * Gamma(1 + 1/k).
  return mean_s / std::tgamma(1.0 + 1.0 / shape);
}

double RepairSpec::mean_s() const {
  switch (kind) {
    case Kind::Fixed:
    case Kind::Exponential: return value_s;
    case Kind::Lognormal: return value_s * std::exp(sigma * sigma / 2.0);
  }
  return value_s;
}

std::string_view outage_kind_name(OutageKind k) {
  switch (k) {
    case OutageKind::Full: return "full";
    case OutageKind::Launch: return "launch";
    case OutageKind::Network: return "network";
  }
  return "?";
}

}  // namespace fleetsim
