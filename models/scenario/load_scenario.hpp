// SPDX-License-Identifier: Apache-2.0
// Scenario loading: file -> JSON -> command-line overrides -> Scenario, collecting every error.
//
//   LoadOptions opt;
//   opt.overrides.push_back({"/horizon", "7d"});               // fleetsim run --set /horizon=7d
//   Scenario s = load_scenario("scenarios/quickstart.json", opt);
//
// Throws InputError (file missing or unreadable: exit 66) or ScenarioError (anything wrong with the
// content, every problem listed with its JSON pointer: exit 65). Never throws anything else for bad
// input.
#pragma once

#include "models/scenario/load_network.hpp"
#include "models/scenario/scenario.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

/// `--set POINTER=VALUE`: VALUE is read as JSON when it parses as JSON ("5", "true", "{...}"), and as
/// a JSON string otherwise ("7d", "us-east-1"). Intermediate objects are created as needed.
struct Override {
  std::string pointer;
  std::string value;
};

struct LoadOptions {
  std::vector<Override> overrides;
  std::optional<uint64_t> seed;     ///< --seed, wins over the scenario's "seed"
  std::optional<std::string> until; ///< --until, wins over the scenario's "horizon"
  /// Network clusters larger than this are refused at load. The loader builds every cluster's fabric
  /// to check its shape, so the fuzz harness lowers this to keep one input well under its timeout.
  uint32_t max_cluster_gpus = kMaxClusterGpus;
};

/// Parses "POINTER=VALUE"; throws std::invalid_argument with a usage message otherwise.
Override parse_override(std::string_view text);

Scenario load_scenario(const std::string& path, const LoadOptions& options = {});
/// The same for a document already in memory; `source` names it in messages.
Scenario load_scenario_text(std::string_view text, const std::string& source, const LoadOptions& options = {});

}  // namespace fleetsim
