// SPDX-License-Identifier: Apache-2.0
// What the flow model publishes, each record declared once (sim/record.hpp): the per-class fabric
// table (network_utilization.csv) and the links table (links.csv) the report's heatmap reads.
#pragma once

#include "sim/record.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <string_view>
#include <tuple>

namespace fleetsim {

/// A row per link class (nvlink, access, leaf_spine, ...) and sample interval: its mean load.
struct NetworkClassSample {
  static constexpr std::string_view table = "network_utilization";
  SimTime time;
  std::string_view link_class;
  int64_t links_up = 0;
  double capacity_bytes_per_s = 0;
  double mean_load_bytes_per_s = 0;
  double utilization_fraction = 0;
  static constexpr auto fields() {
    using S = NetworkClassSample;
    return std::tuple{field("time_ns", &S::time),
                      field("class", &S::link_class),
                      field("links_up", &S::links_up),
                      field("capacity_bytes_per_s", &S::capacity_bytes_per_s),
                      field("mean_load_bytes_per_s", &S::mean_load_bytes_per_s),
                      field("utilization_fraction", &S::utilization_fraction)};
  }
};

/// A row of the links table: a class's mean (scope "class", rank 0) or one of the interval's hottest
/// links (scope "link", rank 1, 2 ...).
struct LinkLoadSample {
  static constexpr std::string_view table = "links";
  static constexpr std::string_view class_scope = "class";
  static constexpr std::string_view link_scope = "link";
  SimTime time;
  std::string_view scope;       ///< class_scope or link_scope
  std::string_view link_class;
  std::string_view link;        ///< the class's name, or "<source>-><target>"
  int64_t rank = 0;
  double capacity_bytes_per_s = 0;
  double mean_load_bytes_per_s = 0;
  double utilization_fraction = 0;
  static constexpr auto fields() {
    using S = LinkLoadSample;
    return std::tuple{field("time_ns", &S::time),
                      field("scope", &S::scope),
                      field("class", &S::link_class),
                      field("link", &S::link),
                      field("rank", &S::rank),
                      field("capacity_bytes_per_s", &S::capacity_bytes_per_s),
                      field("mean_load_bytes_per_s", &S::mean_load_bytes_per_s),
                      field("utilization_fraction", &S::utilization_fraction)};
  }
};

}  // namespace fleetsim
