// SPDX-License-Identifier: Apache-2.0
// Reader: typed, error-collecting access to a scenario's JSON. The loader is the only part of
// fleetsim that knows JSON, and every read goes through a Reader, so every message has the same
// shape: the JSON pointer, what was expected, and the offending value.
//
//   Diagnostics diags("scenarios/quickstart.json");
//   nlohmann::json doc = parse_json_file("scenarios/quickstart.json", diags);  // InputError / ScenarioError
//   nlohmann::json resolved = doc;                                              // defaults get written here
//   Reader root = Reader::root(doc, diags, &resolved);
//   root.reject_unknown_keys({"horizon", "seed", "fleet"});
//   Duration horizon = root.duration_or("horizon", Duration::days(30));         // writes "30d" if absent
//   for (const Reader& region : root.at("fleet").at("regions").items()) {
//     std::string name = region.at("name").string();
//     int64_t gpus = region.at("gpus").integer(1, 10'000'000);  // "/fleet/regions/1/gpus: expected an
//   }                                                           //  integer from 1 to 10000000, got -8"
//   diags.throw_if_any();                                       // all errors at once, sorted
//
// Rules:
// - Reads never throw on bad input: they record an error and return a fallback (0, "", false, the
//   first choice), so one pass collects every problem. Only Diagnostics::throw_if_any throws.
// - No cascades: a missing or mistyped value yields a *dead* reader (valid() == false) on which every
//   further read returns the fallback and records nothing.
// - Messages: "expected <what>, got <value>", the value as compact JSON cut to about 60 characters.
// - Keys starting with '$' or '_' ("$schema", "_comment", "_note") are annotations: reject_unknown_keys
//   and entries() skip them, so users can annotate a scenario freely.
// - JSON null is a value like any other (not "absent"); the *_or helpers apply defaults only to
//   absent keys.
// - Integers: a JSON number with no fractional part (8, 8.0, 1e6) within range; not 1.5, not "3".
// - Quantities: a string with a unit (units.hpp) or a plain JSON number in SI; for durations a JSON
//   number is seconds.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/scenario/diagnostics.hpp"
#include "models/scenario/units.hpp"
#include "sim/time.hpp"

namespace fleetsim {

/// Bounds on any JSON document read (scenario files, --set values), refused with exit 65
/// (docs/robustness.md): the largest shipped scenario is 19 KB and nests 8 levels.
inline constexpr size_t kMaxScenarioBytes = size_t{16} << 20;
inline constexpr size_t kMaxJsonDepth = 64;

/// An inference trace file (CSV) is read up to this size; a larger one (or /dev/zero) is refused.
inline constexpr size_t kMaxTraceBytes = size_t{256} << 20;
/// A trace line holds at most 4 short fields (about 60 bytes with a UTC instant and a region name):
/// a longer line is not a trace (a binary file, /dev/urandom) and is refused at its line number.
inline constexpr size_t kMaxTraceLineBytes = 1024;
/// Requests per trace: 2^23 (a day at 97 requests/s) hold about 200 MB in memory (24 bytes each).
inline constexpr size_t kMaxTraceRows = size_t{1} << 23;

/// Reads `in` to the end into `out`, but no more than limit + 1 bytes; false if there was more than
/// `limit` (out then holds limit + 1 bytes). Reading in chunks, so an endless input costs the limit.
bool read_bounded(std::istream& in, size_t limit, std::string& out);

/// Reads and parses a JSON file. Missing or unreadable: throws InputError (exit 66). Syntax error or
/// a duplicate key: records it in `diags` (pointer "" with nlohmann's "parse error at line L, column
/// C: ..." message, or the duplicate key's pointer) and throws ScenarioError (exit 65).
nlohmann::json parse_json_file(const std::string& path, Diagnostics& diags);
/// The same for text already in memory (tests, --set values); never throws InputError.
nlohmann::json parse_json_text(std::string_view text, Diagnostics& diags);

/// RFC 6901 escaping of one reference token: "a/b~c" -> "a~1b~0c".
std::string escape_pointer_token(std::string_view key);
/// The reverse: "a~1b~0c" -> "a/b~c"; nullopt when a '~' is not followed by '0' or '1'.
std::optional<std::string> unescape_pointer_token(std::string_view token);

/// Where a bounded quantity may lie.
enum class Bound { Any, NonNegative, Positive };

class Reader {
 public:
  /// The reader of a whole document. `resolved`, if given, is a copy of `doc` that receives defaults.
  static Reader root(const nlohmann::json& doc, Diagnostics& diags, nlohmann::json* resolved = nullptr);

  // --- Where we are ---------------------------------------------------------------------------
  const std::string& pointer() const { return pointer_; }
  const nlohmann::json& json() const { return *value_; }
  Diagnostics& diagnostics() const { return *diags_; }
  /// False for a dead reader (missing key, wrong container type upstream).
  bool valid() const { return alive_; }
  bool is_object() const { return alive_ && value_->is_object(); }
  bool is_array() const { return alive_ && value_->is_array(); }
  bool is_string() const { return alive_ && value_->is_string(); }
  bool is_number() const { return alive_ && value_->is_number(); }
  bool has(std::string_view key) const;

  // --- Navigation -----------------------------------------------------------------------------
  /// Required member. Missing: 'missing required property "key"' at this object's pointer, and a
  /// dead reader. Not an object: "expected an object, got ..." and a dead reader.
  Reader at(std::string_view key) const;
  /// Required array element; out of range: "expected at least N items, got M".
  Reader at(size_t index) const;
  /// Optional member: nullopt when absent (or when this is not an object, which is reported).
  std::optional<Reader> opt(std::string_view key) const;
  /// Optional object that defaults to {}: absent -> a reader over an empty object, and {} is written
  /// into resolved, so the *_or defaults read through it appear in resolved.json.
  Reader section(std::string_view key) const;
  /// Elements of an array; not an array: "expected an array, got ..." and no items.
  std::vector<Reader> items() const;
  /// Members of an object used as a map (keys in sorted order; '$'/'_' keys skipped).
  std::vector<std::pair<std::string, Reader>> entries() const;
  /// Array length or object size; 0 otherwise.
  size_t size() const;

  // --- Typed reads (record an error and return the fallback shown) --------------------------------
  std::string string() const;                 ///< ""
  std::string non_empty_string() const;       ///< ""
  bool boolean() const;                       ///< false
  /// A whole number in [min, max]; fallback min (clamped to 0 if in range).
  int64_t integer(int64_t min = INT64_MIN, int64_t max = INT64_MAX) const;
  double number() const;                      ///< any finite JSON number; 0
  double positive() const;                    ///< > 0; fallback 1
  double non_negative() const;                ///< >= 0; 0
  double fraction() const;                    ///< 0..1, 0.95 or "95%"; 0
  /// A unit string or plain SI number of dimension d (units.hpp), within `bound`; fallback 0 (1 for
  /// Positive). For Time prefer duration().
  double quantity(Dimension d, Bound bound = Bound::NonNegative) const;
  Duration duration(Bound bound = Bound::NonNegative) const;  ///< "15h" or seconds as a JSON number
  Duration positive_duration() const { return duration(Bound::Positive); }
  int64_t utc_ns() const;                     ///< "2025-10-20T06:48:00Z" -> ns since 1970; 0
  /// One of the named values; unknown: 'expected one of "a", "b", got "c" (did you mean "b"?)'.
  template <class E>
  E choice(std::initializer_list<std::pair<std::string_view, E>> options) const;

  // --- Absent -> default, written into resolved at pointer/key ------------------------------------
  std::string string_or(std::string_view key, std::string_view def) const;
  bool boolean_or(std::string_view key, bool def) const;
  int64_t integer_or(std::string_view key, int64_t min, int64_t max, int64_t def) const;
  double number_or(std::string_view key, double def) const;
  double fraction_or(std::string_view key, double def) const;
  /// Writes format_quantity(def, d), e.g. "400 Gbps".
  double quantity_or(std::string_view key, Dimension d, double def, Bound bound = Bound::NonNegative) const;
  /// Writes format_duration(def), e.g. "1h".
  Duration duration_or(std::string_view key, Duration def, Bound bound = Bound::NonNegative) const;
  template <class E>
  E choice_or(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> options, E def) const;
  /// Writes `value` at pointer/key in resolved (no-op without resolved or on a dead reader).
  void write_default(std::string_view key, nlohmann::json value) const;

  // --- Checks and errors ----------------------------------------------------------------------
  /// Each member not in `known` (and not starting with '$' or '_') -> an error at its own pointer:
  /// 'unknown property "horizn" (did you mean "horizon"?)' or '... (allowed: "a", "b")'.
  void reject_unknown_keys(std::initializer_list<std::string_view> known) const;
  /// Records `message` at this pointer (no-op on a dead reader), for semantic checks.
  void error(std::string_view message) const;
  /// Records "expected <what>, got <this value>".
  void expected(std::string_view what) const;
  /// This value as compact JSON, cut to about 60 characters (strings quoted).
  std::string describe() const;

 private:
  Reader(const nlohmann::json* value, std::string pointer, Diagnostics* diags, nlohmann::json* resolved, bool alive)
      : value_(value), pointer_(std::move(pointer)), diags_(diags), resolved_(resolved), alive_(alive) {}
  Reader dead(std::string pointer) const;
  Reader child(const nlohmann::json& value, std::string_view token) const;
  bool require_object() const;
  std::optional<size_t> choice_index(const std::vector<std::string_view>& names) const;

  const nlohmann::json* value_;
  std::string pointer_;
  Diagnostics* diags_;
  nlohmann::json* resolved_;
  bool alive_;
};

template <class E>
E Reader::choice(std::initializer_list<std::pair<std::string_view, E>> options) const {
  std::vector<std::string_view> names;
  names.reserve(options.size());
  for (const auto& o : options) names.push_back(o.first);
  const auto index = choice_index(names);
  return (options.begin() + (index ? *index : 0))->second;
}

template <class E>
E Reader::choice_or(std::string_view key, std::initializer_list<std::pair<std::string_view, E>> options,
                    E def) const {
  if (!require_object()) return def;
  if (has(key)) return at(key).choice(options);
  for (const auto& o : options) {
    if (o.second == def) {
      write_default(key, std::string(o.first));
      break;
    }
  }
  return def;
}

}  // namespace fleetsim
