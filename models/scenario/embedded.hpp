// SPDX-License-Identifier: Apache-2.0
// Files from scenarios/ compiled into the binary (the JSON Schema and the catalogs), so `fleetsim`
// works from any directory and `fleetsim schema` needs no source tree.
//
//   auto text = embedded_file("catalog/accelerators.json");   // std::nullopt if not embedded
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace fleetsim {

/// Contents of scenarios/<path>, e.g. "schema/scenario.schema.json"; nullopt if not embedded.
std::optional<std::string_view> embedded_file(std::string_view path);
/// Every embedded path, in a stable order.
std::vector<std::string_view> embedded_files();

}  // namespace fleetsim
