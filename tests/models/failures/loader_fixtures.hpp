// SPDX-License-Identifier: Apache-2.0
// Runs the catalog, fleet and failures loaders on a JSON text, as load_scenario does, and keeps the
// errors as "pointer: message" strings for exact comparisons.
#pragma once

#include "models/scenario/load_catalog.hpp"
#include "models/scenario/load_failures.hpp"
#include "models/scenario/load_fleet.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetsim::test {

inline RunSpec week_of_the_outage() {
  RunSpec run;
  run.name = "t";
  run.start_unix_ns = parse_utc_ns("2025-10-20T00:00:00Z");
  run.horizon = Duration::days(7);
  run.sample_interval = Duration::hours(1);
  return run;
}

struct Loaded {
  Catalog catalog;
  FleetSpec fleet;
  FailureSpec failures;
  nlohmann::json resolved;
  std::vector<std::string> errors;  // "pointer: message", sorted
};

inline Loaded load_parts(std::string_view text, const RunSpec& run = week_of_the_outage()) {
  Loaded l;
  Diagnostics diags("test.json");
  const nlohmann::json doc = parse_json_text(text, diags);
  l.resolved = doc;
  const Reader root = Reader::root(doc, diags, &l.resolved);
  l.catalog = load_catalog(root.section("catalog"));
  l.fleet = load_fleet(root.section("fleet"), l.catalog, run);
  l.failures = load_failures(root.section("failures"), l.fleet, run);
  for (const auto& d : diags.sorted()) l.errors.push_back(d.pointer + ": " + d.message);
  return l;
}

/// A fleet section with us-east-1 (one zone, dc1 of 4 NVL72 racks; dc2 of 2 p5 nodes) and us-west-2.
inline constexpr std::string_view kFleet = R"(
  "fleet": {"regions": [
    {"name": "us-east-1", "zones": [{"name": "use1-az4", "datacenters": [
      {"name": "dc1", "instance": "p6e-gb200.36xlarge", "racks": 4},
      {"name": "dc2", "instance": "p5.48xlarge", "nodes": 2}]}]},
    {"name": "us-west-2", "zones": [{"name": "usw2-az1", "datacenters": [
      {"name": "dc1", "accelerator": "H100", "gpus": 20}]}]}]}
)";

inline std::string with_fleet(std::string_view rest) {
  std::string s = "{";
  s += kFleet;
  if (!rest.empty()) {
    s += ",";
    s += rest;
  }
  s += "}";
  return s;
}

}  // namespace fleetsim::test
