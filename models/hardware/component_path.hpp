// SPDX-License-Identifier: Apache-2.0
// The one parser of component paths, "region/zone/datacenter/rackR/nodeN/gpuG" (docs/failures.md):
// Fleet::find resolves a path on a built fleet, the failures loader checks one against the
// FleetSpec with a message per part. Both split and read indices here, so they agree on what a path is.
//
//   ComponentPathParts p = split_component_path("us-east-1/use1-az4/dc1/rack3/node2");
//   p.size == 5; p.parts[3] == "rack3"; path_index(p.parts[3], "rack") == 3
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace fleetsim {

/// Region, zone, datacenter, rack, node, GPU.
inline constexpr size_t kComponentPathMaxParts = 6;

struct ComponentPathParts {
  std::array<std::string_view, kComponentPathMaxParts> parts{};
  size_t size = 0;  ///< number of parts; 0 when the path has more than kComponentPathMaxParts
};

/// Splits on '/'. Empty parts are kept (and then match no name), so "a//b" has three parts.
ComponentPathParts split_component_path(std::string_view path);

/// The index of "rack12" with prefix "rack": 12. nullopt for another prefix, no digits, a leading zero
/// ("rack03": one spelling per index) or a value beyond uint32.
std::optional<uint32_t> path_index(std::string_view part, std::string_view prefix);

}  // namespace fleetsim
