// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/load_scenario.hpp"

#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/load_catalog.hpp"
#include "models/scenario/load_cost.hpp"
#include "models/scenario/load_failures.hpp"
#include "models/scenario/load_fleet.hpp"
#include "models/scenario/load_inference.hpp"
#include "models/scenario/load_network.hpp"
#include "models/scenario/load_training.hpp"
#include "models/scenario/reader.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace fleetsim {

namespace {

// Defaults with their reasons: a year that has not started, so scenarios without a "start" do not
// silently look historical; hourly samples keep a 7-year run's CSV at ~61k rows per series.
constexpr std::string_view kDefaultStart = "2026-01-01T00:00:00Z";
constexpr Duration kDefaultSampleInterval = Duration::hours(1);
// Samples per time series over a run: hourly over 7 years is 61,000; one per second over 100 days is
// 8.6 million, the finest sampling a run may ask for at that length (docs/robustness.md).
constexpr int64_t kMaxSamplesPerSeries = 10'000'000;

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

// The --set value as JSON: parsed like a scenario file (same depth and size limits, a number beyond a
// double is a scenario error, not an internal one), or a bare string when it is not JSON ("7d").
std::optional<nlohmann::json> override_value(const Override& o, Diagnostics& diags) {
  Diagnostics local(diags.file());
  try {
    return parse_json_text(o.value, local);
  } catch (const ScenarioError&) {
  }
  // Not JSON. A syntax error is a bare string; any other problem (too deep, a number overflow) is the
  // value's: reported at the --set pointer.
  for (const auto& d : local.sorted()) {
    if (d.pointer.empty() && d.message.find("parse error") != std::string::npos) continue;
    diags.error(o.pointer, fmt::format("--set value: {}", d.message));
    return std::nullopt;
  }
  nlohmann::json value = o.value;
  try {
    (void)value.dump();  // throws type_error 316 on invalid UTF-8, which used to exit 70 (issue 19)
  } catch (const nlohmann::json::type_error&) {
    diags.error(o.pointer, fmt::format("--set value is not valid UTF-8: {}", quote(o.value)));
    return std::nullopt;
  }
  return value;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// Walks the pointer by hand rather than with nlohmann's operator[], which pads an array with nulls up
// to any index (/a/100000000 ran out of memory) and then reported 50 "got null" errors (issue 19).
// Objects are created as needed; an array index may be an existing item or the next one (its size,
// or "-"), which appends.
void apply_override(nlohmann::json& doc, const Override& o, Diagnostics& diags) {
  auto value = override_value(o, diags);
  if (!value) return;
  nlohmann::json* node = &doc;
  std::string walked;
  size_t pos = 0;
  const std::string_view p = o.pointer;
  while (pos < p.size()) {
    if (p[pos] != '/') {
      diags.error(o.pointer, "--set cannot set this pointer: a JSON pointer starts with '/'");
      return;
    }
    const size_t end = std::min(p.find('/', pos + 1), p.size());
    const std::string_view raw = p.substr(pos + 1, end - pos - 1);
    const std::optional<std::string> unescaped = unescape_pointer_token(raw);
    if (!unescaped) {
      diags.error(o.pointer, "--set cannot set this pointer: '~' must be followed by '0' or '1' (RFC 6901)");
      return;
    }
    const std::string& token = *unescaped;
    const std::string here = walked + "/" + std::string(raw);
    if (node->is_null()) *node = token == "0" ? nlohmann::json::array() : nlohmann::json::object();
    if (node->is_object()) {
      node = &(*node)[token];
    } else if (node->is_array()) {
      const size_t size = node->size();
      const bool append = token == "-" || token == std::to_string(size);
      if (append) {
        node->push_back(nullptr);
        node = &node->back();
      } else if (all_digits(token) && token.size() < 10 && (token.size() == 1 || token[0] != '0') &&
                 std::stoul(token) < size) {
        node = &(*node)[std::stoul(token)];
      } else {
        diags.error(here, fmt::format("--set: index {} is out of range: {} has {} item{} (an index from 0 to {}, "
                                      "or {} or \"-\" to append)", all_digits(token) ? token : quote(token), walked.empty() ? "/" : walked,
                                      size, size == 1 ? "" : "s", size == 0 ? 0 : size - 1, size) +
                                          (all_digits(token) ? std::string() : index_hint(doc, o.pointer)));
        return;
      }
    } else {
      diags.error(o.pointer, fmt::format("--set cannot set this pointer: {} is a {}, not an object or array",
                                         walked.empty() ? "/" : walked, node->type_name()));
      return;
    }
    walked = here;
    pos = end;
  }
  *node = std::move(*value);
}

RunSpec read_run(const Reader& root, const LoadOptions& options) {
  RunSpec run;
  run.name = root.at("name").non_empty_string();
  // It names the output directory out/<name>: "." or ".." would write into (and --force clean) the
  // current directory or its parent, and a control character (a NUL) fails only at output creation.
  const bool control = std::any_of(run.name.begin(), run.name.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  if (run.name.find_first_of("/\\ ") != std::string::npos || run.name == "." || run.name == ".." || control)
    root.at("name").expected("a name without spaces or slashes, control characters, \".\" or \"..\" (it names "
                             "the output directory)");
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
  run.instants_until = run.horizon;
  // The run's last instant must be representable (UTC nanoseconds in an int64, up to 2262-04-11): a
  // start near that end overflowed later and blamed another value (issue 19).
  if (!bad_start && run.horizon != kUnboundedHorizon && run.start_unix_ns > INT64_MAX - run.horizon.ticks()) {
    root.at("start").expected(fmt::format("a start that leaves room for the horizon of {} before the end of "
                                          "simulated time ({})", format_duration(run.horizon),
                                          format_utc_ns(INT64_MAX / 1'000'000'000 * 1'000'000'000)));
    // As for a bad start: measure instants from 1970 over an unbounded run, so none is misreported.
    run.start_unix_ns = 0;
    run.horizon = kUnboundedHorizon;
    run.instants_until = run.horizon;
  }
  run.sample_interval = root.duration_or("sample_interval", kDefaultSampleInterval, Bound::Positive);
  // A sample is a row in several tables: 1 ns over 30 days was 2.6e15 samples (2 GB of training.csv
  // after 12 s, issue 19). Bounded by the number of samples over the horizon, with the limit named.
  if (root.has("sample_interval") && run.horizon != kUnboundedHorizon && run.sample_interval.ticks() > 0 &&
      run.horizon.ticks() / run.sample_interval.ticks() > kMaxSamplesPerSeries)
    root.at("sample_interval")
        .expected(fmt::format("an interval of at least {} (at most {} samples over the horizon of {})",
                              format_duration(Duration::ns(run.horizon.ticks() / kMaxSamplesPerSeries + 1)),
                              kMaxSamplesPerSeries, format_duration(run.horizon)));
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
  for (const auto& o : options.overrides) apply_override(doc, o, diags);
  diags.throw_if_any();
  // "until" (or --until, which writes it) cuts the run: dated instants up to the scenario's own
  // horizon stay valid (they are simply not reached) instead of failing `fleetsim run --until 7d` on
  // any scenario with a later outage. resolved.json keeps both the horizon and the cut, so it loads
  // and reruns the same run; the models see the cut as the horizon.
  if (options.until && doc.is_object()) doc["until"] = *options.until;
  nlohmann::json resolved = doc;
  std::optional<Duration> own_horizon;
  if (doc.is_object() && doc.contains("until") && doc["until"].is_string()) {
    if (doc.contains("horizon") && doc["horizon"].is_string()) {
      try {
        own_horizon = parse_duration(doc["horizon"].get<std::string>());
      } catch (const std::exception&) {
      }
    }
    // A span from the start ("7d") or a date ("2028-10-21"), as the scenario's other instants are
    // written. Checked here, where the error can still name /until: once moved, it would read as the
    // horizon's.
    const std::string until = doc["until"].get<std::string>();
    std::string cut = until;  // a span as written; with a start that does not parse, left for the horizon's checks
    try {
      parse_duration(until);
    } catch (const std::exception&) {
      std::optional<int64_t> at;
      try {
        at = parse_utc_ns(until);
      } catch (const std::exception&) {
        diags.error("/until", fmt::format("expected a span such as \"7d\" or a date such as \"2026-03-01\", got \"{}\"", until));
      }
      const std::string start =
          doc.contains("start") && doc["start"].is_string() ? doc["start"].get<std::string>() : std::string(kDefaultStart);
      std::optional<int64_t> from;
      try {
        from = parse_utc_ns(start);
      } catch (const std::exception&) {
        // A bad start is reported where it is read.
      }
      if (at && from) {
        if (*at > *from) {
          cut = format_duration(Duration::ns(*at - *from));
        } else {
          diags.error("/until", fmt::format("expected an instant after the start ({}), got \"{}\"", start, until));
        }
      }
    }
    diags.throw_if_any();
    doc["horizon"] = cut;
    doc.erase("until");
  }

  Scenario s;
  s.source = source;
  s.resolved = std::move(resolved);
  if (options.seed) s.resolved["seed"] = *options.seed;
  Reader root = Reader::root(doc, diags, &s.resolved);
  if (!root.is_object()) {
    root.expected("a JSON object with \"name\" and \"horizon\"");
    diags.throw_if_any();
  }
  // Top-level keys, in the order the schema documents them.
  root.reject_unknown_keys(
      {"name", "description", "seed", "start", "horizon", "until", "sample_interval", "catalog", "fleet", "network",
       "failures", "training", "inference", "cost",
       "validation", "plan"});  // "validation": expectations for `fleetsim validation`, "plan": a search for
                                // `fleetsim plan` (docs/planning.md); a run ignores both
  s.run = read_run(root, options);
  if (root.has("until")) root.at("until").expected("a duration such as \"7d\"");  // a string was taken above
  if (own_horizon && *own_horizon > s.run.horizon && s.run.horizon != kUnboundedHorizon)
    s.run.instants_until = *own_horizon;
  s.catalog = load_catalog(root.section("catalog"));
  s.fleet = load_fleet(root.section("fleet"), s.catalog, s.run);
  if (root.has("network")) s.network = load_network(root.at("network"), s.fleet, s.catalog, options.max_cluster_gpus);
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
