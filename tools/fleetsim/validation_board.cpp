// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/validation_board.hpp"

#include "models/scenario/reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fleetsim::validation {

namespace {

using nlohmann::json;

std::string describe(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

// The metric grammar: a pointer string, a number, or {"divide": [a, b]} / {"product": [a, ...]}.
void check_metric(const json& m, const std::string& ptr, Diagnostics& diags) {
  if (m.is_number()) return;
  if (m.is_string()) {
    const auto& s = m.get_ref<const std::string&>();
    if (s.empty() || s.front() != '/')
      diags.error(ptr, fmt::format("expected a JSON pointer into summary.json starting with '/', got {}", describe(m)));
    return;
  }
  if (m.is_object() && m.size() == 1 && (m.contains("divide") || m.contains("product"))) {
    const bool divide = m.contains("divide");
    const json& args = divide ? m["divide"] : m["product"];
    const std::string p = ptr + (divide ? "/divide" : "/product");
    if (!args.is_array() || (divide ? args.size() != 2 : args.empty())) {
      diags.error(p, fmt::format("expected an array of {} metrics, got {}", divide ? "two" : "one or more", describe(args)));
      return;
    }
    for (size_t i = 0; i < args.size(); ++i) check_metric(args[i], p + "/" + std::to_string(i), diags);
    return;
  }
  diags.error(ptr, fmt::format("expected a summary.json pointer, a number, {{\"divide\": [a, b]}} or "
                               "{{\"product\": [a, ...]}}, got {}", describe(m)));
}

std::string string_field(const json& o, const char* key, const std::string& ptr, Diagnostics& diags, bool required) {
  if (!o.contains(key)) {
    if (required) diags.error(ptr + "/" + key, "missing: every check needs it");
    return {};
  }
  if (!o[key].is_string() || (required && o[key].get_ref<const std::string&>().empty())) {
    diags.error(ptr + "/" + key, fmt::format("expected a non-empty string, got {}", describe(o[key])));
    return {};
  }
  return o[key].get<std::string>();
}

Check read_check(const json& c, const std::string& ptr, Diagnostics& diags) {
  Check k;
  if (!c.is_object()) {
    diags.error(ptr, fmt::format("expected a check object, got {}", describe(c)));
    return k;
  }
  static const std::vector<std::string> known = {"figure", "source", "metric", "expected", "tolerance", "bound",
                                                 "kind", "unit", "note", "known_miss"};
  for (const auto& [key, v] : c.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end() && key.front() != '_' && key.front() != '$')
      diags.error(ptr + "/" + key, "unknown key in a validation check (known: figure, source, metric, expected, "
                                   "tolerance, bound, kind, unit, note, known_miss)");
  }
  k.figure = string_field(c, "figure", ptr, diags, true);
  k.source = string_field(c, "source", ptr, diags, true);
  k.unit = string_field(c, "unit", ptr, diags, false);
  k.note = string_field(c, "note", ptr, diags, false);
  k.known_miss = string_field(c, "known_miss", ptr, diags, false);
  k.kind = c.contains("kind") ? string_field(c, "kind", ptr, diags, false) : "prediction";
  if (k.kind != "prediction" && k.kind != "consistency" && k.kind != "calibration")
    diags.error(ptr + "/kind", fmt::format("expected prediction, consistency or calibration, got \"{}\"", k.kind));
  if (!c.contains("metric")) diags.error(ptr + "/metric", "missing: a summary.json pointer or an expression");
  else {
    k.metric = c["metric"];
    check_metric(k.metric, ptr + "/metric", diags);
  }
  if (!c.contains("expected") || !c["expected"].is_number())
    diags.error(ptr + "/expected", fmt::format("expected the published figure as a number, got {}",
                                               c.contains("expected") ? describe(c["expected"]) : "nothing"));
  else k.expected = c["expected"].get<double>();
  const std::string bound = c.contains("bound") ? string_field(c, "bound", ptr, diags, false) : "within";
  if (bound == "within") k.bound = Bound::Within;
  else if (bound == "at_least") k.bound = Bound::AtLeast;
  else if (bound == "at_most") k.bound = Bound::AtMost;
  else diags.error(ptr + "/bound", fmt::format("expected within, at_least or at_most, got \"{}\"", bound));
  if (c.contains("tolerance")) {
    const json& t = c["tolerance"];
    if (k.bound != Bound::Within) {
      diags.error(ptr + "/tolerance", "a one-sided bound (at_least, at_most) takes no tolerance: the published "
                                      "figure is the bound");
    } else if (t.is_number() && t.get<double>() >= 0) {
      k.tolerance = t.get<double>();
    } else if (t.is_string() && !t.get_ref<const std::string&>().empty() && t.get_ref<const std::string&>().back() == '%') {
      const std::string s = t.get<std::string>();
      try {
        size_t used = 0;
        k.tolerance = std::stod(s.substr(0, s.size() - 1), &used) / 100.0;
        if (used != s.size() - 1 || k.tolerance < 0) throw std::invalid_argument(s);
        k.relative = true;
      } catch (const std::exception&) {
        diags.error(ptr + "/tolerance", fmt::format("expected a percentage such as \"10%\", got {}", describe(t)));
      }
    } else {
      diags.error(ptr + "/tolerance", fmt::format("expected \"10%\" (relative) or a non-negative number "
                                                  "(absolute, in the metric's unit), got {}", describe(t)));
    }
  } else if (k.bound == Bound::Within) {
    diags.error(ptr + "/tolerance", "missing: a two-sided check needs a tolerance (\"10%\" or an absolute number)");
  }
  return k;
}

// Sums every node matching the pointer's tokens from `at`; '*' in a token matches any run of characters
// in an object key.
bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// A token with a stray '~' is kept as written: it then matches no key.
std::string unescape(const std::string& token) { return unescape_pointer_token(token).value_or(token); }

void collect(const json& at, const std::vector<std::string>& tokens, size_t i, std::vector<const json*>& out) {
  if (i == tokens.size()) {
    out.push_back(&at);
    return;
  }
  const std::string& tok = tokens[i];
  if (at.is_object()) {
    if (tok.find('*') == std::string::npos) {
      if (auto it = at.find(tok); it != at.end()) collect(*it, tokens, i + 1, out);
      return;
    }
    for (const auto& [key, v] : at.items())
      if (glob_match(tok, key)) collect(v, tokens, i + 1, out);
  } else if (at.is_array()) {
    if (tok == "*") {
      for (const auto& v : at) collect(v, tokens, i + 1, out);
    } else if (!tok.empty() && tok.find_first_not_of("0123456789") == std::string::npos) {
      const size_t idx = std::stoul(tok);
      if (idx < at.size()) collect(at[idx], tokens, i + 1, out);
    }
  }
}

double lookup(const std::string& pointer, const json& summary) {
  std::vector<std::string> tokens;
  for (size_t pos = 1; pos <= pointer.size();) {
    const size_t next = pointer.find('/', pos);
    const size_t end = next == std::string::npos ? pointer.size() : next;
    tokens.push_back(unescape(pointer.substr(pos, end - pos)));
    pos = end + 1;
  }
  std::vector<const json*> hits;
  collect(summary, tokens, 0, hits);
  if (hits.empty()) throw std::invalid_argument(fmt::format("{} matches nothing in summary.json", pointer));
  double sum = 0;
  for (const json* h : hits) {
    if (!h->is_number()) throw std::invalid_argument(fmt::format("{} is {}, not a number", pointer, describe(*h)));
    sum += h->get<double>();
  }
  return sum;
}

// "4.19e+02" is unreadable in a table; fixed notation with 4 significant digits, grouped thousands.
std::string number(double v) {
  if (!std::isfinite(v)) return "n/a";
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e15)) return fmt::format("{:.4g}", v);
  const int digits = a == 0 ? 0 : std::max(0, 3 - static_cast<int>(std::floor(std::log10(a))));
  std::string s = fmt::format("{:.{}f}", v, digits);
  if (s.find('.') != std::string::npos) {  // 419.0 -> 419, 15.00 -> 15
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  const size_t dot = s.find('.');
  size_t int_end = dot == std::string::npos ? s.size() : dot;
  const size_t start = (s[0] == '-') ? 1 : 0;
  for (size_t i = int_end; i > start + 3; i -= 3) s.insert(i - 3, ",");
  return s;
}

std::string with_unit(const std::string& n, const std::string& unit) {
  if (unit.empty()) return n;
  if (unit == "%") return n + "%";
  return n + " " + unit;
}

std::string cell(std::string s) {
  for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
}

}  // namespace

std::optional<Board> read_board(const json& doc, const std::string& file, Diagnostics& diags) {
  if (!doc.is_object() || !doc.contains("validation")) return std::nullopt;
  Board b;
  b.file = file;
  if (doc.contains("name") && doc["name"].is_string()) b.name = doc["name"].get<std::string>();
  const json& v = doc["validation"];
  if (!v.is_object()) {
    diags.error("/validation", fmt::format("expected an object with \"checks\", got {}", describe(v)));
    return b;
  }
  for (const auto& [key, value] : v.items())
    if (key != "seeds" && key != "checks" && key.front() != '_' && key.front() != '$')
      diags.error("/validation/" + key, "unknown key (known: seeds, checks)");
  if (v.contains("seeds")) {
    const json& s = v["seeds"];
    if (!s.is_array() || s.empty()) diags.error("/validation/seeds", fmt::format("expected a non-empty array of seeds, got {}", describe(s)));
    else
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i].is_number_unsigned()) b.seeds.push_back(s[i].get<uint64_t>());
        else diags.error(fmt::format("/validation/seeds/{}", i), fmt::format("expected a non-negative integer, got {}", describe(s[i])));
      }
  }
  if (!v.contains("checks") || !v["checks"].is_array() || v["checks"].empty()) {
    diags.error("/validation/checks", "expected a non-empty array of checks");
    return b;
  }
  for (size_t i = 0; i < v["checks"].size(); ++i)
    b.checks.push_back(read_check(v["checks"][i], fmt::format("/validation/checks/{}", i), diags));
  return b;
}

double evaluate(const json& metric, const json& summary) {
  if (metric.is_number()) return metric.get<double>();
  if (metric.is_string()) return lookup(metric.get<std::string>(), summary);
  if (metric.contains("divide")) {
    const double den = evaluate(metric["divide"][1], summary);
    return den == 0 ? std::nan("") : evaluate(metric["divide"][0], summary) / den;
  }
  double p = 1;
  for (const auto& f : metric["product"]) p *= evaluate(f, summary);
  return p;
}

void judge(Outcome& o) {
  const Check& c = *o.check;
  const double v = o.value;
  if (!std::isfinite(v)) {
    o.within = false;
    return;
  }
  switch (c.bound) {
    case Bound::AtLeast: o.within = v >= c.expected; break;
    case Bound::AtMost: o.within = v <= c.expected; break;
    case Bound::Within: {
      const double tol = c.relative ? c.tolerance * std::fabs(c.expected) : c.tolerance;
      o.within = std::fabs(v - c.expected) <= tol;
      break;
    }
  }
}

std::string render_markdown(const std::vector<Outcome>& outcomes, const std::string& command) {
  size_t pass = 0, known = 0, failing = 0;
  for (const auto& o : outcomes) {
    if (o.failing()) ++failing;
    else if (o.within) ++pass;
    else ++known;
  }
  std::string md;
  md += "# Validation scoreboard\n\n";
  md += fmt::format("<!-- GENERATED by `{}`. Do not edit by hand: change the scenarios and regenerate. -->\n\n",
                    command);
  md += fmt::format(
      "Generated by `{}` from the scenarios in `scenarios/validation/`, each of which carries its published "
      "figures, their sources and tolerances in a `\"validation\"` block. **Do not edit this file**: the CTest "
      "`validation:scoreboard` regenerates it, fails when a figure leaves its tolerance, and fails when this "
      "file differs from what the scenarios produce. What each comparison means, and why the misses miss: "
      "[validation-notes.md](validation-notes.md).\n\n",
      command);
  md += fmt::format("**{} checks: {} pass, {} known misses (declared and explained), {} failing.**\n\n",
                    outcomes.size(), pass, known, failing);
  md += "Kinds: *prediction*, fleetsim computes a figure it was not fitted to; *consistency*, the inputs come "
        "from the same publication and the check tests the wiring; *calibration*, a parameter was fitted to "
        "this figure (shown for completeness, not evidence).\n\n";
  md += "| scenario | figure | published | source | fleetsim | error | tolerance | kind | verdict |\n";
  md += "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n";
  for (const auto& o : outcomes) {
    const Check& c = *o.check;
    std::string published = with_unit(number(c.expected), c.unit);
    std::string tolerance;
    switch (c.bound) {
      case Bound::AtLeast: published = "≥ " + published; tolerance = "bound"; break;
      case Bound::AtMost: published = "≤ " + published; tolerance = "bound"; break;
      case Bound::Within:
        tolerance = c.relative ? fmt::format("±{}%", number(c.tolerance * 100)) : "±" + with_unit(number(c.tolerance), c.unit);
        break;
    }
    std::string value = with_unit(number(o.value), c.unit);
    if (o.values.size() > 1) {
      const auto [lo, hi] = std::minmax_element(o.values.begin(), o.values.end());
      value += *lo == *hi ? fmt::format(" (same in {} seeds)", o.values.size())
                          : fmt::format(" (mean of {} seeds, {} to {})", o.values.size(), number(*lo), number(*hi));
    }
    const std::string error = (c.expected != 0 && std::isfinite(o.value))
                                  ? fmt::format("{:+.1f}%", (o.value - c.expected) / std::fabs(c.expected) * 100)
                                  : "n/a";
    std::string verdict;
    if (c.known_miss.empty()) verdict = o.within ? "pass" : "**FAIL**";
    else verdict = o.within ? "**UNEXPECTED PASS** (remove known_miss)" : "fail (known miss: " + c.known_miss + ")";
    md += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n", o.file, cell(c.figure), cell(published),
                      cell(c.source), cell(value), error, tolerance, c.kind, cell(verdict));
  }
  bool any_note = false;
  for (const auto& o : outcomes) any_note = any_note || !o.check->note.empty();
  if (any_note) {
    md += "\n## Notes from the scenarios\n\n";
    for (const auto& o : outcomes)
      if (!o.check->note.empty()) md += fmt::format("- **{}** (`{}`): {}\n", o.check->figure, o.file, o.check->note);
  }
  return md;
}

}  // namespace fleetsim::validation
