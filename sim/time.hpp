// SPDX-License-Identifier: Apache-2.0
// Simulated time: Duration (a signed span) and SimTime (a point), both int64 nanoseconds.
//
//   Duration d = Duration::hours(15);            // 15 h
//   SimTime t = SimTime::zero() + parse_duration("250us");
//   fmt::print("{}", t - SimTime::zero());        // "250us"
//
// Why integer nanoseconds: same-time events are common (a rack takes its nodes down at one instant) and
// doubles make "same time" fragile; int64 ns spans +-292 years, enough for seven-year commitments with
// margin, while picoseconds would overflow after ~106 days. Arithmetic is overflow-checked and throws
// TimeOverflow rather than wrapping (OMNeT++'s checkedAdd does the same). Rates such as bytes over
// bandwidth are computed in double and rounded once, with Duration::from_seconds.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fleetsim {

class TimeOverflow : public std::overflow_error {
 public:
  using std::overflow_error::overflow_error;
};

namespace time_detail {
[[noreturn]] void throw_overflow(const char* what);
constexpr int64_t checked_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) throw_overflow("time addition");
  return r;
}
constexpr int64_t checked_sub(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) throw_overflow("time subtraction");
  return r;
}
constexpr int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) throw_overflow("time multiplication");
  return r;
}
}  // namespace time_detail

/// A signed span of simulated time in integer nanoseconds.
class Duration {
 public:
  constexpr Duration() = default;
  static constexpr Duration ns(int64_t v) { return Duration{v}; }
  static constexpr Duration us(int64_t v) { return Duration{time_detail::checked_mul(v, 1'000)}; }
  static constexpr Duration ms(int64_t v) { return Duration{time_detail::checked_mul(v, 1'000'000)}; }
  static constexpr Duration s(int64_t v) { return Duration{time_detail::checked_mul(v, 1'000'000'000)}; }
  static constexpr Duration minutes(int64_t v) { return s(time_detail::checked_mul(v, 60)); }
  static constexpr Duration hours(int64_t v) { return s(time_detail::checked_mul(v, 3600)); }
  static constexpr Duration days(int64_t v) { return s(time_detail::checked_mul(v, 86400)); }
  /// Rounds to the nearest nanosecond; throws TimeOverflow if out of range or not finite.
  static Duration from_seconds(double seconds);
  static constexpr Duration max() { return Duration{std::numeric_limits<int64_t>::max()}; }
  static constexpr Duration zero() { return Duration{0}; }

  constexpr int64_t ticks() const { return ns_; }
  /// For rate, energy and cost arithmetic only; never feed the result back into event times unrounded.
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  constexpr double hours_f() const { return seconds() / 3600.0; }

  constexpr Duration operator+(Duration o) const { return Duration{time_detail::checked_add(ns_, o.ns_)}; }
  constexpr Duration operator-(Duration o) const { return Duration{time_detail::checked_sub(ns_, o.ns_)}; }
  constexpr Duration operator-() const { return Duration{time_detail::checked_sub(0, ns_)}; }
  constexpr Duration operator*(int64_t k) const { return Duration{time_detail::checked_mul(ns_, k)}; }
  constexpr Duration& operator+=(Duration o) { return *this = *this + o; }
  constexpr Duration& operator-=(Duration o) { return *this = *this - o; }
  /// Scales by a real factor (e.g. a slowdown), rounding once.
  Duration scaled(double factor) const;
  friend constexpr auto operator<=>(Duration, Duration) = default;

 private:
  constexpr explicit Duration(int64_t v) : ns_(v) {}
  int64_t ns_ = 0;
};

/// A point in simulated time: nanoseconds since the scenario's epoch (its `start`).
class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime zero() { return SimTime{0}; }
  static constexpr SimTime from_ticks(int64_t ns) { return SimTime{ns}; }
  static constexpr SimTime max() { return SimTime{std::numeric_limits<int64_t>::max()}; }
  constexpr int64_t ticks() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  constexpr Duration since_epoch() const { return Duration::ns(ns_); }

  constexpr SimTime operator+(Duration d) const { return SimTime{time_detail::checked_add(ns_, d.ticks())}; }
  constexpr SimTime operator-(Duration d) const { return SimTime{time_detail::checked_sub(ns_, d.ticks())}; }
  constexpr Duration operator-(SimTime o) const { return Duration::ns(time_detail::checked_sub(ns_, o.ns_)); }
  constexpr SimTime& operator+=(Duration d) { return *this = *this + d; }
  friend constexpr auto operator<=>(SimTime, SimTime) = default;

 private:
  constexpr explicit SimTime(int64_t v) : ns_(v) {}
  int64_t ns_ = 0;
};

/// Parses a span with a unit: "250us", "1.5 s", "15h", "54d", "2w", "-3ms". Units: ns us ms s min h d w
/// (and long forms: seconds, hours, days ...). A bare number is rejected: the unit is the point.
/// Decimal values are exact to the nanosecond ("0.1s" is 100000000 ns, not a double's neighbour).
/// Throws std::invalid_argument with a message naming what was expected, TimeOverflow if too large.
Duration parse_duration(std::string_view text);

/// Formats with the largest unit that keeps it exact and short: "250us", "15h", "54d", "1h30m",
/// "1.5s", "0ns". parse_duration(format_duration(d)) == d for every d.
std::string format_duration(Duration d);

/// Parses an ISO-8601 UTC instant ("2025-10-20T06:48:00Z", "2025-10-20T06:48Z", "2025-10-20") to
/// nanoseconds since 1970-01-01T00:00:00Z. Throws std::invalid_argument.
int64_t parse_utc_ns(std::string_view text);
/// Formats nanoseconds since the Unix epoch as "2025-10-20T06:48:00Z" (sub-second part if non-zero).
std::string format_utc_ns(int64_t unix_ns);

}  // namespace fleetsim

#include <fmt/format.h>

template <>
struct fmt::formatter<fleetsim::Duration> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(fleetsim::Duration d, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(fleetsim::format_duration(d), ctx);
  }
};
template <>
struct fmt::formatter<fleetsim::SimTime> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(fleetsim::SimTime t, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(fleetsim::format_duration(t.since_epoch()), ctx);
  }
};
