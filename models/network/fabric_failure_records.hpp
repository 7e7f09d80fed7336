// SPDX-License-Identifier: Apache-2.0
// What FabricFailures publishes, each record declared once (sim/record.hpp): its events in
// events.jsonl and summary.json's "network"/"link_failures" object.
#pragma once

#include "sim/record.hpp"

#include <cstdint>
#include <string_view>
#include <tuple>

namespace fleetsim {

/// Fabric links change state: a set fails or is repaired together, or one link of a process does.
/// One shape, four kinds (the Kind tags below).
template <class Kind>
struct FabricLinkEventRecord {
  static constexpr std::string_view kind = Kind::name;
  uint64_t spec = 0;        ///< index into network.link_failures
  uint64_t links = 0;       ///< links that changed
  uint64_t links_down = 0;  ///< fabric links down after the change
  static constexpr auto fields() {
    using S = FabricLinkEventRecord;
    return std::tuple{field("spec", &S::spec), field("links", &S::links), field("links_down", &S::links_down)};
  }
};
struct FabricLinksDownKind {
  static constexpr std::string_view name = "fabric_links_down";
};
struct FabricLinksUpKind {
  static constexpr std::string_view name = "fabric_links_up";
};
struct FabricLinkDownKind {
  static constexpr std::string_view name = "fabric_link_down";
};
struct FabricLinkUpKind {
  static constexpr std::string_view name = "fabric_link_up";
};
using FabricLinksDown = FabricLinkEventRecord<FabricLinksDownKind>;  ///< a set fails
using FabricLinksUp = FabricLinkEventRecord<FabricLinksUpKind>;      ///< a set is repaired
using FabricLinkDown = FabricLinkEventRecord<FabricLinkDownKind>;    ///< a process fails a link
using FabricLinkUp = FabricLinkEventRecord<FabricLinkUpKind>;        ///< ... and repairs it

// ---- summary.json "network": {"link_failures": ...}

struct FabricLinkKindSummary {
  uint64_t eligible_links = 0, failures = 0;
  static constexpr auto fields() {
    return std::tuple{field("eligible_links", &FabricLinkKindSummary::eligible_links),
                      field("failures", &FabricLinkKindSummary::failures)};
  }
};

struct FabricFailureSummary {
  static constexpr std::string_view key = "link_failures";  ///< under "network"
  Keyed<FabricLinkKindSummary> by_kind;  ///< link kinds with eligible links
  uint32_t links_down_at_end = 0;
  static constexpr auto fields() {
    return std::tuple{field("by_kind", &FabricFailureSummary::by_kind),
                      field("links_down_at_end", &FabricFailureSummary::links_down_at_end)};
  }
};

}  // namespace fleetsim
