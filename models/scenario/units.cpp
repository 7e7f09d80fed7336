// SPDX-License-Identifier: Apache-2.0
#include "models/scenario/units.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "models/scenario/diagnostics.hpp"
#include "models/scenario/did_you_mean.hpp"
#include "sim/time.hpp"
#include "sim/time_units.hpp"

namespace fleetsim {

namespace {

// ---------------------------------------------------------------------------------------------
// Numbers as decimal text: value = sign * mantissa * 10^exp10. Scaling by a decimal prefix changes
// exp10 only, so "1.5 TB" rounds to double once (from_chars is correctly rounded).

struct Number {
  bool negative = false;
  std::string mantissa;  // "1.5", "400", "0.25": digits with at most one '.', at least one digit
  int64_t exp10 = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Reads a number at s[pos...], advancing pos past it; nullopt (pos unchanged) if there is none.
std::optional<Number> lex_number(std::string_view s, size_t& pos) {
  size_t i = pos;
  Number n;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    n.negative = s[i] == '-';
    ++i;
  }
  std::string int_part;
  std::string frac_part;
  while (i < s.size() && is_digit(s[i])) int_part.push_back(s[i++]);
  if (i < s.size() && s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && is_digit(s[j])) frac_part.push_back(s[j++]);
    if (!int_part.empty() || !frac_part.empty()) i = j;
  }
  if (int_part.empty() && frac_part.empty()) return std::nullopt;
  n.mantissa = int_part.empty() ? "0" : int_part;
  if (!frac_part.empty()) n.mantissa += "." + frac_part;
  // An exponent only if 'e' is followed by digits: "5 EB" and "5EB" keep their unit.
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    bool exp_negative = false;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) {
      exp_negative = s[j] == '-';
      ++j;
    }
    if (j < s.size() && is_digit(s[j])) {
      int64_t e = 0;
      while (j < s.size() && is_digit(s[j])) {
        // Clamp: anything this large is out of range for a double anyway.
        e = std::min<int64_t>(e * 10 + (s[j] - '0'), 1'000'000);
        ++j;
      }
      n.exp10 = exp_negative ? -e : e;
      i = j;
    }
  }
  pos = i;
  return n;
}

// The double nearest sign * mantissa * 10^(exp10 + shift); nullopt if it overflows or underflows.
std::optional<double> to_double(const Number& n, int64_t shift) {
  const std::string text = fmt::format("{}{}e{}", n.negative ? "-" : "", n.mantissa, n.exp10 + shift);
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  if (v == 0 && n.mantissa.find_first_not_of("0.") != std::string::npos) return std::nullopt;  // underflow
  return v;
}

// ---------------------------------------------------------------------------------------------
// Unit tables: si = (number * 10^pow10) * mul / div.

struct Unit {
  std::string name;
  int pow10 = 0;
  double mul = 1;
  double div = 1;
};

struct Prefix {
  std::string_view name;
  int pow10;
};
// Listed so that did-you-mean prefers the common spelling on ties.
constexpr Prefix kDecimal[] = {{"G", 9}, {"T", 12}, {"M", 6}, {"k", 3}, {"K", 3}, {"P", 15}, {"E", 18}, {"", 0}};
struct BinaryPrefix {
  std::string_view name;
  int power_of_1024;
};
constexpr BinaryPrefix kBinary[] = {{"Gi", 3}, {"Ti", 4}, {"Mi", 2}, {"Ki", 1}, {"Pi", 5}, {"Ei", 6}};

double pow1024(int k) { return std::ldexp(1.0, 10 * k); }

std::vector<Unit> make_bandwidth() {
  std::vector<Unit> u;
  for (const auto& p : kDecimal) {
    for (const char* base : {"bps", "b/s", "bit/s"}) u.push_back({fmt::format("{}{}", p.name, base), p.pow10, 1, 8});
    for (const char* base : {"B/s", "Bps"}) u.push_back({fmt::format("{}{}", p.name, base), p.pow10, 1, 1});
  }
  for (const auto& p : kBinary) u.push_back({fmt::format("{}B/s", p.name), 0, pow1024(p.power_of_1024), 1});
  return u;
}

std::vector<Unit> make_data_size() {
  std::vector<Unit> u;
  for (const auto& p : kDecimal) u.push_back({fmt::format("{}B", p.name), p.pow10, 1, 1});
  for (const auto& p : kBinary) u.push_back({fmt::format("{}B", p.name), 0, pow1024(p.power_of_1024), 1});
  u.push_back({"byte", 0, 1, 1});
  u.push_back({"bytes", 0, 1, 1});
  return u;
}

std::vector<Unit> make_simple(std::string_view base, std::initializer_list<Prefix> prefixes) {
  std::vector<Unit> u;
  for (const auto& p : prefixes) u.push_back({fmt::format("{}{}", p.name, base), p.pow10, 1, 1});
  return u;
}

std::vector<Unit> make_energy() {
  std::vector<Unit> u;
  for (const auto& p : {Prefix{"k", 3}, Prefix{"M", 6}, Prefix{"G", 9}, Prefix{"T", 12}, Prefix{"", 0}}) {
    u.push_back({fmt::format("{}Wh", p.name), p.pow10, 3600, 1});
  }
  for (const auto& p : {Prefix{"", 0}, Prefix{"k", 3}, Prefix{"M", 6}, Prefix{"G", 9}, Prefix{"T", 12},
                        Prefix{"P", 15}}) {
    u.push_back({fmt::format("{}J", p.name), p.pow10, 1, 1});
  }
  return u;
}

std::vector<Unit> make_flops() {
  std::vector<Unit> u;
  for (const auto& p : {Prefix{"T", 12}, Prefix{"P", 15}, Prefix{"E", 18}, Prefix{"G", 9}, Prefix{"M", 6},
                        Prefix{"k", 3}, Prefix{"", 0}}) {
    for (const char* base : {"FLOPS", "FLOP/s", "flop/s", "flops"}) {
      u.push_back({fmt::format("{}{}", p.name, base), p.pow10, 1, 1});
    }
  }
  return u;
}

const std::vector<Unit>& units_of(Dimension d) {
  static const std::vector<Unit> bandwidth = make_bandwidth();
  static const std::vector<Unit> data_size = make_data_size();
  static const std::vector<Unit> power =
      make_simple("W", {{"", 0}, {"k", 3}, {"K", 3}, {"M", 6}, {"G", 9}});
  static const std::vector<Unit> energy = make_energy();
  static const std::vector<Unit> flops = make_flops();
  static const std::vector<Unit> fraction = {{"%", -2, 1, 1}};
  static const std::vector<Unit> none;
  switch (d) {
    case Dimension::Bandwidth: return bandwidth;
    case Dimension::DataSize: return data_size;
    case Dimension::Power: return power;
    case Dimension::Energy: return energy;
    case Dimension::Flops: return flops;
    case Dimension::Fraction: return fraction;
    default: return none;
  }
}

// Denominators of rates: the one table of time units (sim/time_units.hpp), calendar units included.
constexpr double kYear = kSecondsPerYear;

struct Per {  // a unit for formatting a rate
  std::string_view name;
  double seconds;
};

std::optional<double> per_seconds(std::string_view name) { return per_time_unit_seconds(name); }

std::string unknown_unit_detail(std::string_view unit, const std::vector<std::string>& candidates) {
  if (auto best = closest(unit, candidates)) return fmt::format("unknown unit {}; did you mean {}?", quote(unit), quote(*best));
  return fmt::format("unknown unit {}", quote(unit));
}

std::vector<std::string> per_names() {
  std::vector<std::string> out;
  for (const TimeUnit& u : time_units())
    if (per_time_unit_seconds(u.name)) out.emplace_back(u.name);
  return out;
}

std::string unknown_per_detail(std::string_view per) {
  if (auto best = closest(per, per_names())) {
    return fmt::format("unknown time unit {} after \"/\"; did you mean {}?", quote(per), quote(*best));
  }
  return fmt::format("unknown time unit {} after \"/\" (use s, min, h, day, week, month or year)", quote(per));
}

[[noreturn]] void fail(std::string_view text, Dimension d, std::string_view detail) {
  std::string message = fmt::format("expected {}, got {}", dimension_example(d), quote(text));
  if (!detail.empty()) message += fmt::format(" ({})", detail);
  throw std::invalid_argument(message);
}

double scaled(std::string_view text, Dimension d, const Number& n, int64_t shift) {
  auto v = to_double(n, shift);
  if (!v) fail(text, d, "out of range");
  return *v;
}

double finite(std::string_view text, Dimension d, double v) {
  if (!std::isfinite(v)) fail(text, d, "out of range");
  return v;
}

// "$1.5", "1.5 USD", "$38 billion", "$38B", "$55.04/h", "1000 USD/day", "1.2 million USD/month".
double parse_money(std::string_view text, std::string_view s, Dimension d) {
  bool sign_before_dollar = false;
  bool negative = false;
  if (s.size() >= 2 && (s[0] == '-' || s[0] == '+') && s[1] == '$') {
    sign_before_dollar = true;
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  const bool dollar = !s.empty() && s.front() == '$';
  if (dollar) s = trim(s.substr(1));
  size_t pos = 0;
  auto n = lex_number(s, pos);
  if (!n) fail(text, d, "");
  if (sign_before_dollar) {
    if (s[0] == '-' || s[0] == '+') fail(text, d, "two signs");
    n->negative = negative;
  }
  std::string_view rest = trim(s.substr(pos));
  std::string_view per;
  bool has_per = false;
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    has_per = true;
    per = trim(rest.substr(slash + 1));
    rest = trim(rest.substr(0, slash));
  }
  // rest: [multiplier] [USD]
  int64_t shift = 0;
  bool usd = false;
  static const std::vector<std::pair<std::string_view, int>> kMultipliers = {
      {"thousand", 3}, {"k", 3}, {"K", 3}, {"million", 6}, {"M", 6}, {"billion", 9}, {"bn", 9}, {"B", 9},
      {"trillion", 12}};
  std::vector<std::string> known_words = {"USD"};
  for (const auto& [w, p] : kMultipliers) known_words.emplace_back(w);
  bool multiplier_seen = false;
  while (!rest.empty()) {
    size_t end = 0;
    while (end < rest.size() && !is_space(rest[end])) ++end;
    const std::string_view word = rest.substr(0, end);
    rest = trim(rest.substr(end));
    if (word == "USD" && !usd) {
      usd = true;
      continue;
    }
    const auto m = std::find_if(kMultipliers.begin(), kMultipliers.end(), [&](const auto& x) { return x.first == word; });
    if (m != kMultipliers.end() && !multiplier_seen && !usd) {
      multiplier_seen = true;
      shift = m->second;
      continue;
    }
    fail(text, d, unknown_unit_detail(word, known_words));
  }
  if (dollar && usd) fail(text, d, "write either \"$\" or \"USD\", not both");
  const bool plain = !dollar && !usd && !multiplier_seen && !has_per;
  if (!plain && !dollar && !usd) fail(text, d, "missing the currency: write \"$\" or \"USD\"");
  if (d == Dimension::Money && has_per) fail(text, d, "this is an amount, not a rate per time");
  double v = scaled(text, d, *n, shift);
  if (d == Dimension::MoneyRate && !plain) {
    if (!has_per) fail(text, d, "missing the time unit, such as \"/h\"");
    const auto secs = per_seconds(per);
    if (!secs) fail(text, d, unknown_per_detail(per));
    v = finite(text, d, v / *secs);
  }
  return v;
}

// "1000/s", "2.5e9/day", "3.6 requests/h": an optional noun between the number and '/'.
double parse_rate(std::string_view text, const Number& n, std::string_view rest) {
  const Dimension d = Dimension::Rate;
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) fail(text, d, "missing \"/\" and a time unit, such as \"/s\"");
  const std::string_view noun = trim(rest.substr(0, slash));
  const bool noun_ok = std::all_of(noun.begin(), noun.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
  });
  if (!noun_ok) fail(text, d, fmt::format("{} is not a single word", quote(noun)));
  const std::string_view per = trim(rest.substr(slash + 1));
  const auto secs = per_seconds(per);
  if (!secs) fail(text, d, unknown_per_detail(per));
  return finite(text, d, scaled(text, d, n, 0) / *secs);
}

}  // namespace

std::string_view dimension_example(Dimension d) {
  switch (d) {
    case Dimension::Time: return "a duration such as \"15h\" or \"250us\"";
    case Dimension::Bandwidth: return "a bandwidth such as \"400 Gbps\" or \"50 GB/s\"";
    case Dimension::DataSize: return "a data size such as \"80 GB\" or \"192 GiB\"";
    case Dimension::Power: return "a power such as \"700 W\" or \"1.2 kW\"";
    case Dimension::Energy: return "an energy such as \"5 kWh\" or \"3.6 MJ\"";
    case Dimension::Money: return "an amount of money such as \"$1.5\", \"1.5 USD\" or \"$38 billion\"";
    case Dimension::MoneyRate: return "a cost rate such as \"$55.04/h\" or \"1000 USD/day\"";
    case Dimension::Rate: return "a rate such as \"1000/s\" or \"2.5e9 requests/day\"";
    case Dimension::Flops: return "a compute rate such as \"989.4 TFLOPS\" or \"2.5 PFLOPS\"";
    case Dimension::Fraction: return "a fraction such as 0.95 or \"95%\"";
    case Dimension::Count: return "a whole number such as 8";
  }
  return "a quantity";
}

std::string_view dimension_name(Dimension d) {
  switch (d) {
    case Dimension::Time: return "duration";
    case Dimension::Bandwidth: return "bandwidth";
    case Dimension::DataSize: return "data size";
    case Dimension::Power: return "power";
    case Dimension::Energy: return "energy";
    case Dimension::Money: return "amount of money";
    case Dimension::MoneyRate: return "cost rate";
    case Dimension::Rate: return "rate";
    case Dimension::Flops: return "compute rate";
    case Dimension::Fraction: return "fraction";
    case Dimension::Count: return "count";
  }
  return "quantity";
}

std::string_view si_unit(Dimension d) {
  switch (d) {
    case Dimension::Time: return "s";
    case Dimension::Bandwidth: return "B/s";
    case Dimension::DataSize: return "B";
    case Dimension::Power: return "W";
    case Dimension::Energy: return "J";
    case Dimension::Money: return "USD";
    case Dimension::MoneyRate: return "USD/s";
    case Dimension::Rate: return "1/s";
    case Dimension::Flops: return "FLOP/s";
    case Dimension::Fraction: return "1";
    case Dimension::Count: return "1";
  }
  return "1";
}

double parse_quantity(std::string_view text, Dimension d) {
  // Durations have their own exact parser (integer nanoseconds) and its own messages.
  if (d == Dimension::Time) return parse_duration(text).seconds();
  const std::string_view s = trim(text);
  if (s.empty()) fail(text, d, "empty text");
  if (d == Dimension::Money || d == Dimension::MoneyRate) return parse_money(text, s, d);

  size_t pos = 0;
  const auto n = lex_number(s, pos);
  if (!n) fail(text, d, "");
  const std::string_view rest = trim(s.substr(pos));
  if (rest.empty()) {
    const double v = scaled(text, d, *n, 0);
    if (d == Dimension::Count && std::floor(v) != v) fail(text, d, "not a whole number");
    return v;
  }
  if (d == Dimension::Rate) return parse_rate(text, *n, rest);
  const auto& units = units_of(d);
  for (const auto& u : units) {
    if (u.name == rest) return finite(text, d, scaled(text, d, *n, u.pow10) * u.mul / u.div);
  }
  std::vector<std::string> names;
  names.reserve(units.size());
  for (const auto& u : units) names.push_back(u.name);
  if (names.empty()) fail(text, d, fmt::format("a {} takes no unit", dimension_name(d)));
  fail(text, d, unknown_unit_detail(rest, names));
}

// -----------------------------------------------------------------------------------------------
// Formatting. A value's shortest round-trip decimal digits (fmt "{}") are shifted by a decimal
// prefix as text, so "400 Gbps" parses back to the very same double; forms that divide by a
// non-power of ten (per hour, Wh, GiB) are kept only if they round-trip, checked by parsing.

namespace {

struct Dec {
  bool negative = false;
  std::string digits;  // no leading or trailing zeros; "" for zero
  int64_t exp10 = 0;   // value = digits * 10^exp10
  bool zero() const { return digits.empty(); }
  int64_t lead() const { return exp10 + static_cast<int64_t>(digits.size()) - 1; }  // exponent of first digit
};

Dec shortest(double v) {
  const std::string s = fmt::format("{}", v);
  size_t pos = 0;
  const auto n = lex_number(s, pos);
  Dec d;
  if (!n) return d;
  d.negative = n->negative;
  const size_t dot = n->mantissa.find('.');
  std::string all = n->mantissa;
  int64_t e = n->exp10;
  if (dot != std::string::npos) {
    e -= static_cast<int64_t>(all.size() - dot - 1);
    all.erase(dot, 1);
  }
  const size_t first = all.find_first_not_of('0');
  if (first == std::string::npos) return Dec{};
  all.erase(0, first);
  while (!all.empty() && all.back() == '0') {
    all.pop_back();
    ++e;
  }
  d.digits = all;
  d.exp10 = e;
  return d;
}

// Decimal text of d * 10^-shift: plain when short, else "2.5e9".
std::string render(const Dec& d, int64_t shift) {
  if (d.zero()) return "0";
  const std::string sign = d.negative ? "-" : "";
  const int64_t e = d.exp10 - shift;
  const auto len = static_cast<int64_t>(d.digits.size());
  if (e >= 0 && e <= 5) return sign + d.digits + std::string(static_cast<size_t>(e), '0');
  if (e < 0) {
    const int64_t point = len + e;  // digits before the decimal point
    if (point > 0) {
      return sign + d.digits.substr(0, static_cast<size_t>(point)) + "." + d.digits.substr(static_cast<size_t>(point));
    }
    if (point > -5) return sign + "0." + std::string(static_cast<size_t>(-point), '0') + d.digits;
  }
  std::string m = d.digits.substr(0, 1);
  if (len > 1) m += "." + d.digits.substr(1);
  return fmt::format("{}{}e{}", sign, m, e + len - 1);
}

bool round_trips(const std::string& text, Dimension d, double v) {
  try {
    return parse_quantity(text, d) == v;
  } catch (const std::exception&) {
    return false;
  }
}

std::string plain(double v) { return render(shortest(v), 0); }

// The largest decimal prefix that keeps the number >= 1: "400 Gbps".
std::string with_prefix(double v, const std::vector<Prefix>& ascending, std::string_view base) {
  const Dec d = shortest(v);
  Prefix chosen = ascending.front();
  for (const auto& p : ascending) {
    if (!d.zero() && d.lead() >= p.pow10) chosen = p;
  }
  return fmt::format("{} {}{}", render(d, chosen.pow10), chosen.name, base);
}

struct Candidate {
  std::string text;
  size_t digits;
};

// The checked candidate with the fewest significant digits (earlier wins ties), else plain SI.
std::string pick(const std::vector<Candidate>& candidates, Dimension dim, double v) {
  const Candidate* best = nullptr;
  for (const auto& c : candidates) {
    if (!round_trips(c.text, dim, v)) continue;
    if (best == nullptr || c.digits < best->digits) best = &c;
  }
  return best ? best->text : plain(v);
}

size_t digits_of(double v) { return shortest(v).digits.size(); }

// A non-negative amount with a scale word when large: "38 billion", "1.2 million", "1500".
std::string money_words(const Dec& magnitude) {
  if (!magnitude.zero() && magnitude.lead() >= 9) return render(magnitude, 9) + " billion";
  if (!magnitude.zero() && magnitude.lead() >= 6) return render(magnitude, 6) + " million";
  return render(magnitude, 0);
}

std::string per_candidates(double v, Dimension dim, std::initializer_list<Per> pers, std::string_view prefix) {
  const bool money = dim == Dimension::MoneyRate;
  std::vector<Candidate> cs;
  for (const auto& p : pers) {
    const double m = v * p.seconds;
    if (!std::isfinite(m)) continue;
    const Dec d = shortest(m);
    const std::string sign = d.negative ? "-" : "";
    Dec magnitude = d;
    magnitude.negative = false;
    cs.push_back({fmt::format("{}{}{}/{}", sign, prefix, money ? money_words(magnitude) : render(magnitude, 0), p.name),
                  d.digits.size()});
  }
  return pick(cs, dim, v);
}

const std::vector<Prefix> kBits = {{"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}};

}  // namespace

std::string format_bandwidth(double bytes_per_s) {
  if (!std::isfinite(bytes_per_s)) return plain(bytes_per_s);
  return pick({{with_prefix(bytes_per_s * 8, kBits, "bps"), 0}}, Dimension::Bandwidth, bytes_per_s);
}

std::string format_bandwidth_bytes(double bytes_per_s) {
  if (!std::isfinite(bytes_per_s)) return plain(bytes_per_s);
  return pick({{with_prefix(bytes_per_s, kBits, "B/s"), 0}}, Dimension::Bandwidth, bytes_per_s);
}

std::string format_data_size(double bytes) {
  if (!std::isfinite(bytes)) return plain(bytes);
  std::vector<Candidate> cs;
  cs.push_back({with_prefix(bytes, kBits, "B"), digits_of(bytes)});
  constexpr std::string_view kBinaryAscending[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (int k = 6; k >= 1; --k) {
    if (std::fabs(bytes) >= pow1024(k)) {
      const double m = bytes / pow1024(k);
      cs.push_back({fmt::format("{} {}B", plain(m), kBinaryAscending[k - 1]), digits_of(m)});
      break;
    }
  }
  return pick(cs, Dimension::DataSize, bytes);
}

std::string format_power(double watts) {
  if (!std::isfinite(watts)) return plain(watts);
  return pick({{with_prefix(watts, {{"", 0}, {"k", 3}, {"M", 6}, {"G", 9}}, "W"), 0}}, Dimension::Power, watts);
}

std::string format_energy(double joules) {
  if (!std::isfinite(joules)) return plain(joules);
  const double wh = joules / 3600;
  return pick({{with_prefix(wh, {{"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}}, "Wh"), digits_of(wh)},
               {with_prefix(joules, {{"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}}, "J"),
                digits_of(joules)}},
              Dimension::Energy, joules);
}

std::string format_money(double usd) {
  if (!std::isfinite(usd)) return plain(usd);
  Dec d = shortest(usd);
  const std::string sign = d.negative ? "-" : "";
  d.negative = false;
  return pick({{fmt::format("{}${}", sign, money_words(d)), 0}}, Dimension::Money, usd);
}

std::string format_money_rate(double usd_per_s) {
  if (!std::isfinite(usd_per_s)) return plain(usd_per_s);
  return per_candidates(usd_per_s, Dimension::MoneyRate,
                        {{"h", 3600}, {"day", 86400}, {"month", kYear / 12}, {"year", kYear}, {"s", 1}}, "$");
}

std::string format_rate(double per_s) {
  if (!std::isfinite(per_s)) return plain(per_s);
  return per_candidates(per_s, Dimension::Rate,
                        {{"s", 1}, {"min", 60}, {"h", 3600}, {"day", 86400}, {"month", kYear / 12}, {"year", kYear}},
                        "");
}

std::string format_flops(double flop_per_s) {
  if (!std::isfinite(flop_per_s)) return plain(flop_per_s);
  return pick({{with_prefix(flop_per_s, {{"", 0}, {"k", 3}, {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18}},
                            "FLOPS"),
                0}},
              Dimension::Flops, flop_per_s);
}

std::string format_fraction(double fraction) {
  if (!std::isfinite(fraction)) return plain(fraction);
  return pick({{render(shortest(fraction), -2) + "%", 0}}, Dimension::Fraction, fraction);
}

std::string format_quantity(double si_value, Dimension d) {
  switch (d) {
    case Dimension::Time:
      try {
        return format_duration(Duration::from_seconds(si_value));
      } catch (const std::exception&) {
        return plain(si_value);
      }
    case Dimension::Bandwidth: return format_bandwidth(si_value);
    case Dimension::DataSize: return format_data_size(si_value);
    case Dimension::Power: return format_power(si_value);
    case Dimension::Energy: return format_energy(si_value);
    case Dimension::Money: return format_money(si_value);
    case Dimension::MoneyRate: return format_money_rate(si_value);
    case Dimension::Rate: return format_rate(si_value);
    case Dimension::Flops: return format_flops(si_value);
    case Dimension::Fraction: return format_fraction(si_value);
    case Dimension::Count: return plain(si_value);
  }
  return plain(si_value);
}

}  // namespace fleetsim
