// SPDX-License-Identifier: Apache-2.0
// The one table of time-unit spellings. Durations (sim/time.hpp), rates and prices per time
// (models/scenario/units.hpp) and failure rates and spans (models/scenario/load_failures.cpp) all read their
// units from it, so "hrs", "wk" or "minutes" mean the same in every key (issue 17: before, three
// tables each accepted a different set of spellings).
//
//   find_time_unit("hrs")->ns            // 3'600'000'000'000
//   find_time_unit("month")->calendar()  // true: not exact, so not a duration unit
//   per_time_unit_seconds("year")        // 31'536'000 (365 days)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace fleetsim {

/// A year is 365 days and a month 1/12 of it (730 h), as in cloud price sheets; both are calendar units.
inline constexpr double kSecondsPerYear = 365.0 * 86400.0;

struct TimeUnit {
  std::string_view name;
  int64_t ns;      ///< exact length in nanoseconds; 0 for a calendar unit (month, year), whose length varies
  double seconds;  ///< length in seconds (for a calendar unit, its mean as above)
  constexpr bool calendar() const { return ns == 0; }
};

/// Every accepted spelling, case-sensitive ("M" is not "m").
std::span<const TimeUnit> time_units();

/// The unit spelled exactly `name`, or nullptr.
const TimeUnit* find_time_unit(std::string_view name);

/// Seconds in one `name` as the denominator of a rate or the unit of a span ("/h", "/GPU-year",
/// "5.7y"): every unit, calendar ones included, except "m", which a duration reads as minutes
/// ("1h30m") but which after a "/" could as well mean a month.
std::optional<double> per_time_unit_seconds(std::string_view name);

}  // namespace fleetsim
