// SPDX-License-Identifier: Apache-2.0
#include "sim/time_units.hpp"

#include <array>

namespace fleetsim {

namespace {

constexpr int64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;
constexpr int64_t kMin = 60 * kS, kH = 3600 * kS, kD = 86400 * kS, kW = 7 * kD;
constexpr double kMonth = kSecondsPerYear / 12;

constexpr TimeUnit exact(std::string_view name, int64_t ns) {
  return TimeUnit{name, ns, static_cast<double>(ns) / 1e9};
}
constexpr TimeUnit calendar(std::string_view name, double seconds) { return TimeUnit{name, 0, seconds}; }

// "m" is minutes, as in Go and in format_duration's "1h30m".
constexpr std::array kUnits{
    exact("ns", 1),           exact("nsec", 1),           exact("nanosecond", 1),     exact("nanoseconds", 1),
    exact("us", kUs),         exact("\xC2\xB5s", kUs),    /* U+00B5 micro sign */    exact("\xCE\xBCs", kUs),  // U+03BC mu
    exact("usec", kUs),       exact("microsecond", kUs),  exact("microseconds", kUs), exact("ms", kMs),
    exact("msec", kMs),       exact("millisecond", kMs),  exact("milliseconds", kMs), exact("s", kS),
    exact("sec", kS),         exact("secs", kS),          exact("second", kS),        exact("seconds", kS),
    exact("m", kMin),         exact("min", kMin),         exact("mins", kMin),        exact("minute", kMin),
    exact("minutes", kMin),   exact("h", kH),             exact("hr", kH),            exact("hrs", kH),
    exact("hour", kH),        exact("hours", kH),         exact("d", kD),             exact("day", kD),
    exact("days", kD),        exact("w", kW),             exact("wk", kW),            exact("week", kW),
    exact("weeks", kW),       calendar("mo", kMonth),     calendar("month", kMonth),  calendar("months", kMonth),
    calendar("y", kSecondsPerYear), calendar("yr", kSecondsPerYear), calendar("year", kSecondsPerYear),
    calendar("years", kSecondsPerYear),
};

}  // namespace

std::span<const TimeUnit> time_units() { return kUnits; }

const TimeUnit* find_time_unit(std::string_view name) {
  for (const TimeUnit& u : kUnits)
    if (u.name == name) return &u;
  return nullptr;
}

std::optional<double> per_time_unit_seconds(std::string_view name) {
  if (name == "m") return std::nullopt;
  const TimeUnit* u = find_time_unit(name);
  if (u == nullptr) return std::nullopt;
  return u->seconds;
}

}  // namespace fleetsim
