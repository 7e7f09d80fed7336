// SPDX-License-Identifier: Apache-2.0
#include "models/world/load_scenario.hpp"

#include "models/world/did_you_mean.hpp"
#include "models/world/load_catalog.hpp"
#include "models/world/load_cost.hpp"
#include "models/world/load_failures.hpp"
#include "models/world/load_fleet.hpp"
#include "models/world/load_inference.hpp"
#include "models/world/load_network.hpp"
#include "models/world/load_training.hpp"
#include "models/world/reader.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace fleetsim {

namespace {

// Defaults with their reasons: a year that has not started, so scenarios without a "start" do not
// silently look historical; hourly samples keep a 7-year run's CSV at ~61k rows per series.
constexpr std::string_view kDefaultStart = "2026-01-01T00:00:00Z";
constexpr Duration kDefaultSampleInterval = Duration::hours(1);
constexpr Duration kUnboundedHorizon = Duration::days(365 * 200);

// A pointer that names an array item by its name (/training/jobs/llm-70b/...) instead of its index:
// the pointer with the index of the item of that name, or of the closest name, with the item's name;
// empty when the pointer has no such token. Names are what users see in summary.json, so they type them.
std::string index_hint(const nlohmann::json& doc, const std::string& pointer) {
  const nlohmann::json* node = &doc;
  std::string done;
  size_t at = 1;
  while (at <= pointer.size() && node != nullptr) {
    const size_t slash = std::min(pointer.find('/', at), pointer.size());
    const std::string token = pointer.substr(at, slash - at);  // names have no '~' or '/' (the loader refuses '/')
    if (node->is_array()) {
      const bool numeric = !token.empty() && token.find_first_not_of("0123456789") == std::string::npos;
      if (!numeric) {
        std::vector<std::string> names;
        for (const auto& item : *node)
          names.push_back(item.is_object() && item.contains("name") && item["name"].is_string() ? item["name"].get<std::string>()
                                                                                                 : std::string());
        auto best = std::find(names.begin(), names.end(), token);
        if (best == names.end()) {
          const auto close = closest(token, names);
          if (close) best = std::find(names.begin(), names.end(), *close);
        }
        if (best == names.end()) return {};
        return fmt::format(" (an array takes an index: did you mean {}/{}{}, the item named {}?)", done,
                           best - names.begin(), pointer.substr(slash), quote(*best));
      }
      const size_t i = std::stoul(token.substr(0, 9));
      node = i < node->size() ? &(*node)[i] : nullptr;
    } else if (node->is_object()) {
      const auto it = node->find(token);
      node = it != node->end() ? &*it : nullptr;
    } else {
      node = nullptr;
    }
    done += "/" + token;
    at = slash + 1;
  }
  return {};
}

void apply_override(nlohmann::json& doc, const Override& o, Diagnostics& diags) {
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(o.value);
  } catch (const nlohmann::json::parse_error&) {
    value = o.value;  // not JSON: a bare string such as 7d
  }
  try {
    doc[nlohmann::json::json_pointer(o.pointer)] = std::move(value);
  } catch (const nlohmann::json::exception& e) {
    diags.error(o.pointer, fmt::format("--set cannot set this pointer: {}{}", e.what(), index_hint(doc, o.pointer)));
  }
}

RunSpec read_run(const Reader& root, const LoadOptions& options) {
  RunSpec run;
  run.name = root.at("name").non_empty_string();
  if (run.name.find_first_of("/\\ ") != std::string::npos)
    root.at("name").expected("a name without spaces or slashes (it names the output directory)");
  run.description = root.string_or("description", "");
  run.seed = static_cast<uint64_t>(root.integer_or("seed", 0, INT64_MAX, 1));
  if (options.seed) run.seed = *options.seed;
  if (!root.has("start")) root.write_default("start", std::string(kDefaultStart));
  const size_t errors_before_start = root.diagnostics().size();
  run.start_unix_ns = root.has("start") ? root.at("start").utc_ns() : parse_utc_ns(kDefaultStart);
  const bool bad_start = root.diagnostics().size() != errors_before_start;
  const size_t errors_before = root.diagnostics().size();
  run.horizon = root.at("horizon").positive_duration();
  // A bad horizon is reported once; checking instants against its fallback would add one misleading
  // "outside the run" error per outage and ramp, so later checks see an unbounded run instead.
  // The same for a bad start: instants would be measured from 1970 and all fall outside the run.
  if (root.diagnostics().size() != errors_before || bad_start) run.horizon = kUnboundedHorizon;
  run.sample_interval = root.duration_or("sample_interval", kDefaultSampleInterval, Bound::Positive);
  return run;
}

}  // namespace

Override parse_override(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || text.empty() || text.front() != '/')
    throw std::invalid_argument(fmt::format(
        "--set expects /json/pointer=value (for example --set /horizon=7d), got \"{}\"", text));
  return Override{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Scenario load_scenario_text(std::string_view text, const std::string& source, const LoadOptions& options) {
  Diagnostics diags(source);
  nlohmann::json doc = parse_json_text(text, diags);
  if (options.until) doc["horizon"] = *options.until;
  for (const auto& o : options.overrides) apply_override(doc, o, diags);
  diags.throw_if_any();

  Scenario s;
  s.source = source;
  s.resolved = doc;
  if (options.seed) s.resolved["seed"] = *options.seed;
  Reader root = Reader::root(doc, diags, &s.resolved);
  if (!root.is_object()) {
    root.expected("a JSON object with \"name\" and \"horizon\"");
    diags.throw_if_any();
  }
  // Top-level keys, in the order the schema documents them.
  root.reject_unknown_keys(
      {"name", "description", "seed", "start", "horizon", "sample_interval", "catalog", "fleet", "network",
       "failures", "training", "inference", "cost",
       "validation", "plan"});  // "validation": expectations for `fleetsim validation`, "plan": a search for
                                // `fleetsim plan` (docs/planning.md); a run ignores both
  s.run = read_run(root, options);
  s.catalog = load_catalog(root.section("catalog"));
  s.fleet = load_fleet(root.section("fleet"), s.catalog, s.run);
  if (root.has("network")) s.network = load_network(root.at("network"), s.fleet, s.catalog);
  if (root.has("network")) s.network_run = load_network_run(root.at("network"), s.network);
  s.failures = load_failures(root.section("failures"), s.fleet, s.run);
  if (root.has("training")) s.training = load_training(root.at("training"), s.catalog, s.fleet, s.run);
  if (root.has("inference")) s.inference = load_inference(root.at("inference"), s.catalog, s.fleet, s.run);
  if (root.has("cost")) s.cost = load_cost(root.at("cost"), s.catalog, s.fleet, s.run);
  diags.throw_if_any();
  s.warnings = diags.sorted_warnings();
  s.hash = fnv1a64(doc.dump());
  return s;
}

Scenario load_scenario(const std::string& path, const LoadOptions& options) {
  Diagnostics diags(path);
  nlohmann::json doc = parse_json_file(path, diags);  // InputError / ScenarioError
  return load_scenario_text(doc.dump(), path, options);
}

}  // namespace fleetsim
