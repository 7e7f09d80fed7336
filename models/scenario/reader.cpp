// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/reader.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "models/scenario/did_you_mean.hpp"

namespace fleetsim {

// `Json`, not `json`: Reader::json() would hide the type inside member functions.
using Json = nlohmann::json;

namespace {

constexpr size_t kMaxShownChars = 60;

bool is_annotation(std::string_view key) { return !key.empty() && (key.front() == '$' || key.front() == '_'); }

const Json& null_json() {
  static const Json kNull;
  return kNull;
}

const Json& empty_object() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

std::string quoted_list(const std::vector<std::string_view>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += quote(n);
  }
  return out;
}

std::string integer_expectation(int64_t min, int64_t max) {
  constexpr int64_t lo = INT64_MIN;
  constexpr int64_t hi = INT64_MAX;
  if (min == 1 && max == hi) return "a positive integer";
  if (min == 0 && max == hi) return "a non-negative integer";
  if (min == lo && max == hi) return "an integer";
  if (max == hi) return fmt::format("an integer >= {}", min);
  if (min == lo) return fmt::format("an integer <= {}", max);
  return fmt::format("an integer from {} to {}", min, max);
}

std::string bound_word(Bound bound) {
  switch (bound) {
    case Bound::Positive: return "a positive";
    case Bound::NonNegative: return "a non-negative";
    case Bound::Any: break;
  }
  return "a";
}

bool within(double v, Bound bound) {
  switch (bound) {
    case Bound::Positive: return v > 0;
    case Bound::NonNegative: return v >= 0;
    case Bound::Any: break;
  }
  return true;
}

// Strips nlohmann's "[json.exception.parse_error.101] " prefix: users need the position and reason.
std::string without_exception_id(std::string_view what) {
  if (!what.empty() && what.front() == '[') {
    const size_t close = what.find("] ");
    if (close != std::string_view::npos) return std::string(what.substr(close + 2));
  }
  return std::string(what);
}

}  // namespace

std::string escape_pointer_token(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (const char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> unescape_pointer_token(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '~') {
      out += token[i];
    } else if (i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[++i] == '0' ? '~' : '/';
    } else {
      return std::nullopt;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing. nlohmann keeps the last of duplicate keys silently; a scenario that sets "horizon" twice
// is almost certainly a mistake, so the parse callback tracks the keys of every open object.

namespace {

// Thrown by the parse callback at the first value nested deeper than kMaxJsonDepth; caught below.
struct TooDeep {
  std::string pointer;
};

}  // namespace

Json parse_json_text(std::string_view text, Diagnostics& diags) {
  if (text.size() > kMaxScenarioBytes) {
    diags.error("", fmt::format("the document has {} bytes, more than the limit of {} bytes ({} MiB) for a "
                                "scenario", text.size(), kMaxScenarioBytes, kMaxScenarioBytes >> 20));
    diags.throw_if_any();
  }
  struct Frame {
    bool object = false;
    std::set<std::string> keys;
    std::string token;  // escaped reference token of the child being read
    size_t next_index = 0;
  };
  std::vector<Frame> stack;
  bool duplicates = false;
  const auto current_pointer = [&stack] {
    std::string p;
    for (const auto& f : stack) p += "/" + f.token;
    return p;
  };
  const auto enter_value = [&stack] {
    if (!stack.empty() && !stack.back().object) stack.back().token = std::to_string(stack.back().next_index++);
  };
  const Json::parser_callback_t callback = [&](int /*depth*/, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
      case Json::parse_event_t::array_start:
        enter_value();
        // Deeper documents crashed the process (a stack overflow in the recursive dump() and
        // destructor of nlohmann/json, issue 19); no scenario nests more than about 10 levels.
        if (stack.size() >= kMaxJsonDepth) throw TooDeep{current_pointer()};
        stack.push_back(Frame{event == Json::parse_event_t::object_start, {}, {}, 0});
        break;
      case Json::parse_event_t::key: {
        Frame& f = stack.back();
        const auto& key = parsed.get_ref<const std::string&>();
        f.token = escape_pointer_token(key);
        if (!f.keys.insert(key).second) {
          duplicates = true;
          diags.error(current_pointer(),
                      fmt::format("duplicate property {} (JSON keeps only the last one)", quote(key)));
        }
        break;
      }
      case Json::parse_event_t::value: enter_value(); break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end: stack.pop_back(); break;
    }
    return true;
  };
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end(), callback);
  } catch (const TooDeep& e) {
    diags.error(e.pointer, fmt::format("JSON nested deeper than the limit of {} levels", kMaxJsonDepth));
    diags.throw_if_any();
  } catch (const Json::parse_error& e) {
    // JSON has no comments, but people coming from JSONC or JSON5 write them: say what to use instead.
    const size_t at = e.byte > 0 ? e.byte - 1 : 0;
    const bool comment = at + 1 < text.size() && text[at] == '/' && (text[at + 1] == '/' || text[at + 1] == '*');
    diags.error("", without_exception_id(e.what()) +
                        (comment ? " (JSON has no comments: write a \"$comment\" key instead; keys starting with $ or _ "
                                   "are ignored)"
                                 : ""));
    diags.throw_if_any();
  } catch (const Json::out_of_range& e) {
    // A number beyond double's range (1e400) is out_of_range 406, not a parse_error; it used to escape
    // as an internal error (found by fuzz_scenario). It names no position, but the callback's stack
    // holds the pointer of the value being read.
    std::string where;
    // Ancestors carry their child's token; in an array the pending scalar has not been counted yet.
    for (size_t i = 0; i < stack.size(); ++i) {
      const bool pending = i + 1 == stack.size() && !stack[i].object;
      where += "/" + (pending ? std::to_string(stack[i].next_index) : stack[i].token);
    }
    diags.error(where, without_exception_id(e.what()) + " (a JSON number must fit a double, up to about 1.8e308)");
    diags.throw_if_any();
  }
  if (duplicates) diags.throw_if_any();
  return doc;
}

bool read_bounded(std::istream& in, size_t limit, std::string& out) {
  out.clear();
  std::array<char, 65536> chunk{};
  while (out.size() <= limit && in) {
    in.read(chunk.data(), static_cast<std::streamsize>(std::min(chunk.size(), limit + 1 - out.size())));
    out.append(chunk.data(), static_cast<size_t>(in.gcount()));
  }
  return out.size() <= limit;
}

Json parse_json_file(const std::string& path, Diagnostics& diags) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  // A symlink loop or a permission problem is not "no such file": say what the system said.
  if (ec && ec != std::errc::no_such_file_or_directory) throw InputError(path, ec.message());
  if (!std::filesystem::exists(status)) throw InputError(path, "no such file");
  if (std::filesystem::is_directory(status)) throw InputError(path, "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, std::strerror(errno));
  // Read at most one byte more than the limit: /dev/zero or a 200 MB file is refused after 16 MiB
  // (it used to be read whole: 2.6 GB after 20 s of /dev/zero, issue 19).
  std::string content;
  const bool fits = read_bounded(in, kMaxScenarioBytes, content);
  if (in.bad()) throw InputError(path, "read error");
  if (!fits) {
    diags.error("", fmt::format("the file is larger than the limit of {} bytes ({} MiB) for a scenario",
                                kMaxScenarioBytes, kMaxScenarioBytes >> 20));
    diags.throw_if_any();
  }
  return parse_json_text(content, diags);
}

// ---------------------------------------------------------------------------------------------
// Reader

Reader Reader::root(const Json& doc, Diagnostics& diags, Json* resolved) {
  return Reader(&doc, "", &diags, resolved, true);
}

Reader Reader::dead(std::string pointer) const {
  return Reader(&null_json(), std::move(pointer), diags_, resolved_, false);
}

Reader Reader::child(const Json& value, std::string_view token) const {
  return Reader(&value, pointer_ + "/" + std::string(token), diags_, resolved_, alive_);
}

bool Reader::require_object() const {
  if (!alive_) return false;
  if (value_->is_object()) return true;
  expected("an object");
  return false;
}

bool Reader::has(std::string_view key) const {
  return is_object() && value_->find(std::string(key)) != value_->end();
}

Reader Reader::at(std::string_view key) const {
  const std::string token = escape_pointer_token(key);
  if (!require_object()) return dead(pointer_ + "/" + token);
  const auto it = value_->find(std::string(key));
  if (it == value_->end()) {
    error(fmt::format("missing required property {}", quote(key)));
    return dead(pointer_ + "/" + token);
  }
  return child(*it, token);
}

Reader Reader::at(size_t index) const {
  const std::string token = std::to_string(index);
  if (!alive_) return dead(pointer_ + "/" + token);
  if (!value_->is_array()) {
    expected("an array");
    return dead(pointer_ + "/" + token);
  }
  if (index >= value_->size()) {
    error(fmt::format("expected at least {} item{}, got {}", index + 1, index == 0 ? "" : "s", value_->size()));
    return dead(pointer_ + "/" + token);
  }
  return child((*value_)[index], token);
}

std::optional<Reader> Reader::opt(std::string_view key) const {
  if (!require_object()) return std::nullopt;
  const auto it = value_->find(std::string(key));
  if (it == value_->end()) return std::nullopt;
  return child(*it, escape_pointer_token(key));
}

Reader Reader::section(std::string_view key) const {
  const std::string token = escape_pointer_token(key);
  if (!require_object()) return dead(pointer_ + "/" + token);
  const auto it = value_->find(std::string(key));
  if (it == value_->end()) {
    write_default(key, Json::object());
    return child(empty_object(), token);
  }
  Reader r = child(*it, token);
  if (!r.require_object()) return dead(r.pointer_);
  return r;
}

std::vector<Reader> Reader::items() const {
  std::vector<Reader> out;
  if (!alive_) return out;
  if (!value_->is_array()) {
    expected("an array");
    return out;
  }
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) out.push_back(child((*value_)[i], std::to_string(i)));
  return out;
}

std::vector<std::pair<std::string, Reader>> Reader::entries() const {
  std::vector<std::pair<std::string, Reader>> out;
  if (!require_object()) return out;
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    if (is_annotation(it.key())) continue;
    out.emplace_back(it.key(), child(it.value(), escape_pointer_token(it.key())));
  }
  return out;
}

size_t Reader::size() const { return (is_array() || is_object()) ? value_->size() : 0; }

// --- typed reads ---------------------------------------------------------------------------------

std::string Reader::string() const {
  if (!alive_) return {};
  if (!value_->is_string()) {
    expected("a string");
    return {};
  }
  return value_->get<std::string>();
}

std::string Reader::non_empty_string() const {
  if (!alive_) return {};
  if (!value_->is_string() || value_->get_ref<const std::string&>().empty()) {
    expected("a non-empty string");
    return {};
  }
  return value_->get<std::string>();
}

bool Reader::boolean() const {
  if (!alive_) return false;
  if (!value_->is_boolean()) {
    expected("true or false");
    return false;
  }
  return value_->get<bool>();
}

int64_t Reader::integer(int64_t min, int64_t max) const {
  const int64_t fallback = (min <= 0 && 0 <= max) ? 0 : min;
  if (!alive_) return fallback;
  std::optional<int64_t> v;
  bool too_big = false;
  if (value_->is_number_unsigned()) {
    const auto u = value_->get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) {
      v = static_cast<int64_t>(u);
    } else {
      too_big = true;
    }
  } else if (value_->is_number_integer()) {
    v = value_->get<int64_t>();
  } else if (value_->is_number_float()) {
    // 8.0 and 1e6 are whole numbers too (JSON Schema's "integer" agrees).
    const double d = value_->get<double>();
    if (std::isfinite(d) && std::floor(d) == d) {
      if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        v = static_cast<int64_t>(d);
      } else {
        too_big = true;
      }
    }
  }
  if (!v && !too_big) {
    expected(integer_expectation(min, max));
    return fallback;
  }
  if (too_big || *v < min || *v > max) {
    expected(integer_expectation(min, max));
    return fallback;
  }
  return *v;
}

double Reader::number() const {
  if (!alive_) return 0;
  if (!value_->is_number()) {
    expected("a number");
    return 0;
  }
  return value_->get<double>();
}

double Reader::positive() const {
  if (!alive_) return 1;
  if (!value_->is_number() || !(value_->get<double>() > 0)) {
    expected("a positive number");
    return 1;
  }
  return value_->get<double>();
}

double Reader::non_negative() const {
  if (!alive_) return 0;
  if (!value_->is_number() || !(value_->get<double>() >= 0)) {
    expected("a non-negative number");
    return 0;
  }
  return value_->get<double>();
}

double Reader::fraction() const {
  if (!alive_) return 0;
  double v = 0;
  if (value_->is_number()) {
    v = value_->get<double>();
  } else if (value_->is_string()) {
    try {
      v = parse_quantity(value_->get_ref<const std::string&>(), Dimension::Fraction);
    } catch (const std::exception& e) {
      error(e.what());
      return 0;
    }
  } else {
    expected(dimension_example(Dimension::Fraction));
    return 0;
  }
  if (!(v >= 0 && v <= 1)) {
    expected("a fraction from 0 to 1 such as 0.95 or \"95%\"");
    return 0;
  }
  return v;
}

double Reader::quantity(Dimension d, Bound bound) const {
  const double fallback = bound == Bound::Positive ? 1 : 0;
  if (!alive_) return fallback;
  double v = 0;
  if (value_->is_number()) {
    v = value_->get<double>();
    if (d == Dimension::Count && std::floor(v) != v) {
      expected(dimension_example(d));
      return fallback;
    }
  } else if (value_->is_string()) {
    try {
      v = parse_quantity(value_->get_ref<const std::string&>(), d);
    } catch (const std::exception& e) {  // invalid_argument, or TimeOverflow for Time
      error(e.what());
      return fallback;
    }
  } else {
    expected(dimension_example(d));
    return fallback;
  }
  if (!within(v, bound)) {
    expected(fmt::format("{} {}", bound_word(bound), dimension_name(d)));
    return fallback;
  }
  return v;
}

Duration Reader::duration(Bound bound) const {
  const Duration fallback = bound == Bound::Positive ? Duration::s(1) : Duration::zero();
  if (!alive_) return fallback;
  Duration v;
  try {
    if (value_->is_number()) {
      v = Duration::from_seconds(value_->get<double>());
    } else if (value_->is_string()) {
      v = parse_duration(value_->get_ref<const std::string&>());
    } else {
      expected(dimension_example(Dimension::Time));
      return fallback;
    }
  } catch (const TimeOverflow&) {
    expected("a duration within the simulated time range (about +-292 years)");
    return fallback;
  } catch (const std::exception& e) {
    error(e.what());
    return fallback;
  }
  if (!within(static_cast<double>(v.ticks()), bound)) {
    expected(fmt::format("{} duration", bound_word(bound)));
    return fallback;
  }
  return v;
}

int64_t Reader::utc_ns() const {
  if (!alive_) return 0;
  if (!value_->is_string()) {
    expected("a UTC time such as \"2025-10-20T06:48:00Z\"");
    return 0;
  }
  try {
    return parse_utc_ns(value_->get_ref<const std::string&>());
  } catch (const std::exception& e) {
    error(e.what());
    return 0;
  }
}

std::optional<size_t> Reader::choice_index(const std::vector<std::string_view>& names) const {
  if (!alive_) return std::nullopt;
  if (!value_->is_string()) {
    expected(fmt::format("one of {}", quoted_list(names)));
    return std::nullopt;
  }
  const auto& s = value_->get_ref<const std::string&>();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == s) return i;
  }
  std::string message = fmt::format("expected one of {}, got {}", quoted_list(names), describe());
  std::vector<std::string> candidates(names.begin(), names.end());
  message += did_you_mean(s, candidates);
  error(message);
  return std::nullopt;
}

// --- defaults ------------------------------------------------------------------------------------

void Reader::write_default(std::string_view key, Json value) const {
  if (!alive_ || resolved_ == nullptr) return;
  try {
    (*resolved_)[Json::json_pointer(pointer_ + "/" + escape_pointer_token(key))] = std::move(value);
  } catch (const Json::exception&) {
    // resolved does not mirror the document here (a caller bug); resolved.Json just lacks the default.
  }
}

std::string Reader::string_or(std::string_view key, std::string_view def) const {
  if (!require_object()) return std::string(def);
  if (has(key)) return at(key).string();
  write_default(key, std::string(def));
  return std::string(def);
}

bool Reader::boolean_or(std::string_view key, bool def) const {
  if (!require_object()) return def;
  if (has(key)) return at(key).boolean();
  write_default(key, def);
  return def;
}

int64_t Reader::integer_or(std::string_view key, int64_t min, int64_t max, int64_t def) const {
  if (!require_object()) return def;
  if (has(key)) return at(key).integer(min, max);
  write_default(key, def);
  return def;
}

double Reader::number_or(std::string_view key, double def) const {
  if (!require_object()) return def;
  if (has(key)) return at(key).number();
  write_default(key, def);
  return def;
}

double Reader::fraction_or(std::string_view key, double def) const {
  if (!require_object()) return def;
  if (has(key)) return at(key).fraction();
  write_default(key, def);
  return def;
}

double Reader::quantity_or(std::string_view key, Dimension d, double def, Bound bound) const {
  if (!require_object()) return def;
  if (has(key)) return at(key).quantity(d, bound);
  if (d == Dimension::Count || d == Dimension::Fraction) {
    write_default(key, def);
  } else {
    write_default(key, format_quantity(def, d));
  }
  return def;
}

Duration Reader::duration_or(std::string_view key, Duration def, Bound bound) const {
  if (!require_object()) return def;
  if (has(key)) return at(key).duration(bound);
  write_default(key, format_duration(def));
  return def;
}

// --- checks --------------------------------------------------------------------------------------

void Reader::reject_unknown_keys(std::initializer_list<std::string_view> known) const {
  if (!require_object()) return;
  const std::vector<std::string> candidates(known.begin(), known.end());
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    const std::string& key = it.key();
    if (is_annotation(key)) continue;
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    // Past the kept errors only the count shows: skip the did-you-mean search, which was most of the
    // time of a file of 100,000 unknown keys (and over the test's CPU limit under AddressSanitizer).
    if (diags_->full()) {
      diags_->count_only();
      continue;
    }
    std::string message = fmt::format("unknown property {}", quote(key));
    if (auto best = closest(key, candidates)) {
      message += fmt::format(" (did you mean {}?)", quote(*best));
    } else if (candidates.empty()) {
      message += " (no properties are allowed here)";
    } else {
      message += fmt::format(" (allowed: {})", quoted_list(std::vector<std::string_view>(known)));
    }
    diags_->error(pointer_ + "/" + escape_pointer_token(key), message);
  }
}

void Reader::error(std::string_view message) const {
  if (alive_) diags_->error(pointer_, message);
}

void Reader::expected(std::string_view what) const { error(fmt::format("expected {}, got {}", what, describe())); }

std::string Reader::describe() const {
  if (value_->is_string()) return quote(value_->get_ref<const std::string&>(), kMaxShownChars);
  const std::string s = value_->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() <= kMaxShownChars) return s;
  if (value_->is_object()) return fmt::format("an object with {} properties", value_->size());
  if (value_->is_array()) return fmt::format("an array of {} items", value_->size());
  return s.substr(0, kMaxShownChars - 3) + "...";
}

}  // namespace fleetsim
