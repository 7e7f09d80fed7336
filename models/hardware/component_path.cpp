// SPDX-License-Identifier: Apache-2.0
#include "models/hardware/component_path.hpp"

#include <charconv>

namespace fleetsim {

ComponentPathParts split_component_path(std::string_view path) {
  ComponentPathParts out;
  size_t start = 0;
  while (true) {
    if (out.size == kComponentPathMaxParts) return ComponentPathParts{};
    const size_t slash = path.find('/', start);
    out.parts[out.size++] = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

std::optional<uint32_t> path_index(std::string_view part, std::string_view prefix) {
  if (part.size() <= prefix.size() || part.substr(0, prefix.size()) != prefix) return std::nullopt;
  const std::string_view digits = part.substr(prefix.size());
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace fleetsim
