// SPDX-License-Identifier: Apache-2.0
// Duration parsing and formatting, double conversions and ISO-8601 UTC instants (see time.hpp).
//
// Parsing is exact: the decimal text is read into an integer significand and a power of ten, and the
// value in nanoseconds is computed in 128-bit integers, so "0.1s" is exactly 100000000 ns and a value
// that is not a whole number of nanoseconds is rejected rather than rounded.
#include "sim/time.hpp"

#include "sim/duration_text.hpp"
#include "sim/rounding.hpp"
#include "sim/time_units.hpp"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <string>

namespace fleetsim {

namespace time_detail {
void throw_overflow(const char* what) {
  throw TimeOverflow(fmt::format("{} overflows the simulated time range (int64 nanoseconds, about +-292 years)",
                                 what));
}
}  // namespace time_detail

namespace {

__extension__ typedef __int128 i128;  // __extension__: a GCC/Clang type, quiet under -Wpedantic

constexpr int64_t kNsPerUs = 1'000;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerS = 1'000'000'000;
constexpr int64_t kNsPerMin = 60 * kNsPerS;
constexpr int64_t kNsPerH = 3600 * kNsPerS;
constexpr int64_t kNsPerD = 86400 * kNsPerS;
// Magnitude of the most negative int64, the largest magnitude a Duration can have.
constexpr i128 kMaxMagnitude = i128{1} << 63;

constexpr std::string_view kExpected =
    "expected a number with a unit such as \"250us\", \"1.5 s\", \"15h\", \"54d\" or \"1h30m\" "
    "(units: ns us ms s min h d w)";

[[noreturn]] void bad_duration(std::string_view text, std::string_view why) {
  throw std::invalid_argument(fmt::format("invalid duration \"{}\": {}; {}", text, why, kExpected));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_unit_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

int64_t unit_ns(std::string_view text, std::string_view unit) {
  // One table for every time unit (sim/time_units.hpp); a duration takes only the exact ones.
  const TimeUnit* u = find_time_unit(unit);
  if (u != nullptr && !u->calendar()) return u->ns;
  // Common mistakes get a pointed hint; everything else the generic list.
  if (unit == "M" || (u != nullptr && u->seconds < kSecondsPerYear)) {
    bad_duration(text, fmt::format("unit \"{}\" is not supported (months vary in length; use d)", unit));
  }
  if (u != nullptr) {
    bad_duration(text, fmt::format("unit \"{}\" is not supported (years vary in length; use d)", unit));
  }
  bad_duration(text, fmt::format("unknown unit \"{}\"", unit));
}

// 10^k for 0 <= k <= 38 as a 128-bit integer.
i128 pow10_128(int k) {
  i128 r = 1;
  for (int i = 0; i < k; ++i) r *= 10;
  return r;
}

// Parses one "<decimal><optional space><unit>" component starting at pos; returns its magnitude in ns
// (non-negative), advancing pos past it. Throws for malformed text; returns kMaxMagnitude + 1 to mean
// "too large" so the caller reports the whole text.
i128 parse_component(std::string_view text, size_t& pos) {
  const size_t n = text.size();
  // Significant digits of the mantissa, with the position of the decimal point folded into `scale`
  // (value = digits * 10^scale).
  std::string digits;
  int64_t scale = 0;
  bool any_digit = false;
  while (pos < n && is_digit(text[pos])) {
    any_digit = true;
    if (!(digits.empty() && text[pos] == '0')) digits.push_back(text[pos]);
    ++pos;
  }
  if (pos < n && text[pos] == '.') {
    ++pos;
    while (pos < n && is_digit(text[pos])) {
      any_digit = true;
      if (!(digits.empty() && text[pos] == '0')) digits.push_back(text[pos]);
      --scale;
      ++pos;
    }
  }
  if (!any_digit) {
    if (pos < n && (text[pos] == '-' || text[pos] == '+')) bad_duration(text, "a sign may appear only once, first");
    if (pos < n && is_unit_char(text[pos])) bad_duration(text, "missing number before the unit");
    bad_duration(text, "missing number");
  }
  // Optional exponent ("1e3s", "2.5E-3 s"). An 'e' is an exponent only if a digit (or sign and digit)
  // follows; no unit starts with 'e', so this is unambiguous.
  if (pos < n && (text[pos] == 'e' || text[pos] == 'E')) {
    size_t p = pos + 1;
    bool neg = false;
    if (p < n && (text[p] == '+' || text[p] == '-')) {
      neg = text[p] == '-';
      ++p;
    }
    if (p >= n || !is_digit(text[p])) bad_duration(text, "malformed exponent");
    int64_t e = 0;
    while (p < n && is_digit(text[p])) {
      if (e < 100'000) e = e * 10 + (text[p] - '0');  // saturate: anything this large is out of range
      ++p;
    }
    scale += neg ? -e : e;
    pos = p;
  }
  while (pos < n && is_space(text[pos])) ++pos;
  const size_t unit_begin = pos;
  while (pos < n && is_unit_char(text[pos])) ++pos;
  if (pos == unit_begin) {
    if (pos >= n) bad_duration(text, "missing unit (a bare number is ambiguous)");
    bad_duration(text, fmt::format("unexpected character '{}'", text[pos]));
  }
  const int64_t unit = unit_ns(text, text.substr(unit_begin, pos - unit_begin));

  if (digits.empty()) return 0;  // zero in any unit, whatever the exponent
  // Trailing zeros of the significand move into the scale, so "digits" has no factor of ten.
  while (digits.back() == '0') {
    digits.pop_back();
    ++scale;
  }
  // Twenty or more integer digits is at least 1e19 ns, beyond int64 whatever the unit.
  if (static_cast<int64_t>(digits.size()) + scale >= 20) return kMaxMagnitude + 1;
  // With at most 22 significant digits, digits * unit < 1e22 * 6.05e14 fits in 128 bits. More digits
  // either overflow (scale >= 0) or describe a value finer than a nanosecond.
  if (digits.size() > 22) {
    if (scale >= 0) return kMaxMagnitude + 1;
    bad_duration(text, "too many significant digits (at most 22)");
  }
  i128 sig = 0;
  for (char c : digits) sig = sig * 10 + (c - '0');
  i128 value = sig * unit;
  if (scale >= 0) {
    for (int64_t i = 0; i < scale; ++i) {
      value *= 10;
      if (value > kMaxMagnitude) return kMaxMagnitude + 1;
    }
    return value;
  }
  // value < 1e37 <= 10^-scale would leave a fraction of a nanosecond.
  if (-scale > 37) bad_duration(text, "finer than the 1 ns resolution");
  const i128 div = pow10_128(static_cast<int>(-scale));
  if (value % div != 0) bad_duration(text, "finer than the 1 ns resolution");
  return value / div;
}

}  // namespace

Duration Duration::from_seconds(double seconds) {
  if (!std::isfinite(seconds)) {
    throw TimeOverflow(fmt::format("duration of {} s is not finite", seconds));
  }
  const double ns = seconds * 1e9;
  // 2^63 is exactly representable; every double below it converts without overflow.
  if (ns >= 9223372036854775808.0 || ns < -9223372036854775808.0) {
    throw TimeOverflow(fmt::format("duration of {} s overflows the simulated time range (about +-292 years)",
                                   seconds));
  }
  return Duration::ns(round_half_away(ns));
}

Duration Duration::scaled(double factor) const {
  if (factor == 1.0) return *this;  // exact even beyond 2^53 ns
  if (!std::isfinite(factor)) {
    throw TimeOverflow(fmt::format("scaling {} by {} is not finite", format_duration(*this), factor));
  }
  const double ns = static_cast<double>(ns_) * factor;
  if (ns >= 9223372036854775808.0 || ns < -9223372036854775808.0) {
    throw TimeOverflow(fmt::format("scaling {} by {} overflows the simulated time range (about +-292 years)",
                                   format_duration(*this), factor));
  }
  return Duration::ns(round_half_away(ns));
}

Duration parse_duration(std::string_view text) {
  size_t pos = 0;
  size_t end = text.size();
  while (pos < end && (is_space(text[pos]) || text[pos] == '\n' || text[pos] == '\r')) ++pos;
  while (end > pos && (is_space(text[end - 1]) || text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
  if (pos == end) bad_duration(text, "empty text");
  const std::string_view body = text.substr(0, end);

  bool negative = false;
  if (body[pos] == '-' || body[pos] == '+') {
    negative = body[pos] == '-';
    ++pos;
  }
  // One or more components, "1h30m" or "1h 30m"; the sign applies to the whole.
  i128 total = 0;
  bool overflow = false;
  while (true) {
    const i128 part = parse_component(body, pos);
    total += part;
    if (part > kMaxMagnitude || total > kMaxMagnitude) overflow = true;
    if (overflow) break;
    while (pos < end && is_space(body[pos])) ++pos;
    if (pos >= end) break;
    if (!is_digit(body[pos]) && body[pos] != '.') {
      bad_duration(text, fmt::format("unexpected character '{}'", body[pos]));
    }
  }
  if (overflow || (!negative && total == kMaxMagnitude)) {
    throw TimeOverflow(fmt::format(
        "duration \"{}\" is out of range: the simulated time range is int64 nanoseconds, about +-292 years",
        text));
  }
  const auto magnitude = static_cast<int64_t>(negative ? -total : total);
  return Duration::ns(magnitude);
}

namespace {
// "whole.frac" of magnitude / unit appended to out, trailing zeros of the fraction removed; unit is a
// power of 10.
void append_decimal(std::string& out, uint64_t magnitude, uint64_t unit) {
  const uint64_t whole = magnitude / unit;
  uint64_t frac = magnitude % unit;
  fmt::format_to(std::back_inserter(out), "{}", whole);
  if (frac == 0) return;
  int width = 0;
  for (uint64_t u = unit; u > 1; u /= 10) ++width;
  while (frac % 10 == 0) {
    frac /= 10;
    --width;
  }
  fmt::format_to(std::back_inserter(out), ".{:0{}}", frac, width);
}
}  // namespace

// Appends rather than returns: events.jsonl formats one of these per line, and building a string per
// part (as this did with fmt::format) was a third of the cost of writing a line (issue 21).
void append_duration(std::string& out, Duration d) {
  const int64_t t = d.ticks();
  if (t == 0) {
    out += "0ns";
    return;
  }
  const bool negative = t < 0;
  // Magnitude as unsigned so INT64_MIN has one too.
  const uint64_t m = negative ? uint64_t{0} - static_cast<uint64_t>(t) : static_cast<uint64_t>(t);
  if (negative) out += '-';
  auto whole = [&out](uint64_t v, std::string_view unit) {
    fmt::format_to(std::back_inserter(out), "{}", v);
    out += unit;
  };

  constexpr auto D = static_cast<uint64_t>(kNsPerD);
  constexpr auto H = static_cast<uint64_t>(kNsPerH);
  constexpr auto MIN = static_cast<uint64_t>(kNsPerMin);
  constexpr auto S = static_cast<uint64_t>(kNsPerS);
  constexpr auto MS = static_cast<uint64_t>(kNsPerMs);
  constexpr auto US = static_cast<uint64_t>(kNsPerUs);

  if (m < MIN) {
    // Below a minute: one unit, the largest not above the value, with an exact decimal fraction.
    if (m >= S) {
      append_decimal(out, m, S);
      out += 's';
    } else if (m >= MS) {
      append_decimal(out, m, MS);
      out += "ms";
    } else if (m >= US) {
      append_decimal(out, m, US);
      out += "us";
    } else {
      whole(m, "ns");
    }
    return;
  }
  if (m % D == 0) return whole(m / D, "d");
  if (m % H == 0) return whole(m / H, "h");
  if (m < H && m % MIN == 0) return whole(m / MIN, "min");
  // Compound, largest parts first, zero parts left out: "1h30m", "54d3h20m", "2m30.5s".
  uint64_t rest = m;
  if (rest >= D) {
    whole(rest / D, "d");
    rest %= D;
  }
  if (rest >= H) {
    whole(rest / H, "h");
    rest %= H;
  }
  if (rest >= MIN) {
    whole(rest / MIN, "m");
    rest %= MIN;
  }
  if (rest > 0) {
    // Seconds with a decimal fraction; a sub-second rest becomes "0.25s" so every part reads alike.
    append_decimal(out, rest, S);
    out += 's';
  }
}

std::string format_duration(Duration d) {
  std::string out;
  append_duration(out, d);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Calendar arithmetic on the proleptic Gregorian calendar. Days are counted from 1970-01-01; the
// computation shifts the year to start in March so the leap day falls at the end of a year, and
// works in 400-year eras (146097 days), which makes it exact for negative years too.

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t days_from_civil(int64_t y, unsigned month, unsigned day) {
  y -= month <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const auto yoe = static_cast<unsigned>(y - era * 400);                       // [0, 399]
  const unsigned mp = month > 2 ? month - 3 : month + 9;                       // March = 0
  const unsigned doy = (153 * mp + 2) / 5 + day - 1;                           // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                  // [0, 146096]
  return era * 146097 + static_cast<int64_t>(doe) - 719468;  // 719468: days from 0000-03-01 to 1970-01-01
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = floor_div(z, 146097);
  const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;                           // [1, 31]
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;                            // [1, 12]
  const int64_t year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

[[noreturn]] void bad_utc(std::string_view text, std::string_view why) {
  throw std::invalid_argument(fmt::format(
      "invalid UTC time \"{}\": {}; expected ISO-8601 UTC such as \"2025-10-20T06:48:00Z\", "
      "\"2025-10-20T06:48Z\" or \"2025-10-20\"",
      text, why));
}

// Reads exactly `width` digits at pos.
unsigned fixed_digits(std::string_view text, size_t& pos, int width, std::string_view field) {
  unsigned v = 0;
  for (int i = 0; i < width; ++i) {
    if (pos >= text.size() || !is_digit(text[pos])) {
      bad_utc(text, fmt::format("expected {} digits for the {}", width, field));
    }
    v = v * 10 + static_cast<unsigned>(text[pos] - '0');
    ++pos;
  }
  return v;
}

void expect_char(std::string_view text, size_t& pos, char c, std::string_view what) {
  if (pos >= text.size() || text[pos] != c) bad_utc(text, fmt::format("expected '{}' {}", c, what));
  ++pos;
}

}  // namespace

int64_t parse_utc_ns(std::string_view text) {
  size_t pos = 0;
  const unsigned year = fixed_digits(text, pos, 4, "year");
  expect_char(text, pos, '-', "after the year");
  const unsigned month = fixed_digits(text, pos, 2, "month");
  expect_char(text, pos, '-', "after the month");
  const unsigned day = fixed_digits(text, pos, 2, "day");
  if (month < 1 || month > 12) bad_utc(text, fmt::format("month {} is not in 1..12", month));
  if (day < 1 || day > days_in_month(year, month)) {
    bad_utc(text, fmt::format("day {} does not exist in {:04}-{:02}", day, year, month));
  }
  unsigned hour = 0;
  unsigned minute = 0;
  unsigned second = 0;
  int64_t frac_ns = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') bad_utc(text, "expected 'T' after the date");
    ++pos;
    hour = fixed_digits(text, pos, 2, "hour");
    expect_char(text, pos, ':', "after the hour");
    minute = fixed_digits(text, pos, 2, "minute");
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      second = fixed_digits(text, pos, 2, "second");
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        ++pos;
        int n = 0;
        while (pos < text.size() && is_digit(text[pos])) {
          if (n == 9) bad_utc(text, "fraction of a second finer than 1 ns");
          frac_ns = frac_ns * 10 + (text[pos] - '0');
          ++n;
          ++pos;
        }
        if (n == 0) bad_utc(text, "expected digits after the decimal point");
        for (; n < 9; ++n) frac_ns *= 10;
      }
    }
    if (hour > 23) bad_utc(text, fmt::format("hour {} is not in 0..23", hour));
    if (minute > 59) bad_utc(text, fmt::format("minute {} is not in 0..59", minute));
    if (second > 59) bad_utc(text, fmt::format("second {} is not in 0..59", second));
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
      ++pos;
    } else if (text.substr(pos) == "+00:00") {
      pos += 6;
    } else if (pos >= text.size()) {
      bad_utc(text, "missing 'Z': the time must be UTC");
    } else {
      bad_utc(text, "only UTC ('Z' or '+00:00') is accepted");
    }
  }
  if (pos != text.size()) bad_utc(text, fmt::format("unexpected text \"{}\" at the end", text.substr(pos)));

  const int64_t days = days_from_civil(year, month, day);
  const int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
  int64_t ns = 0;
  if (__builtin_mul_overflow(secs, kNsPerS, &ns) || __builtin_add_overflow(ns, frac_ns, &ns)) {
    bad_utc(text, "outside the representable range (years 1677 to 2262)");
  }
  return ns;
}

std::string format_utc_ns(int64_t unix_ns) {
  const int64_t secs = floor_div(unix_ns, kNsPerS);
  const int64_t frac = unix_ns - secs * kNsPerS;  // [0, 1e9)
  const int64_t days = floor_div(secs, 86400);
  const int64_t sod = secs - days * 86400;
  const Civil c = civil_from_days(days);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.year, c.month, c.day, sod / 3600,
                                (sod / 60) % 60, sod % 60);
  if (frac != 0) {
    // Milli-, micro- or nanosecond precision, whichever is the shortest exact one.
    if (frac % 1'000'000 == 0) {
      out += fmt::format(".{:03}", frac / 1'000'000);
    } else if (frac % 1'000 == 0) {
      out += fmt::format(".{:06}", frac / 1'000);
    } else {
      out += fmt::format(".{:09}", frac);
    }
  }
  out += 'Z';
  return out;
}

}  // namespace fleetsim
