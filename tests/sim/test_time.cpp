// SPDX-License-Identifier: Apache-2.0
// Simulated time: exact parsing, formatting round trips, overflow checks, UTC instants.
#include "sim/rng.hpp"
#include "sim/rounding.hpp"
#include "sim/time.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

using fleetsim::Duration;
using fleetsim::format_duration;
using fleetsim::format_utc_ns;
using fleetsim::parse_duration;
using fleetsim::parse_utc_ns;
using fleetsim::SimTime;
using fleetsim::TimeOverflow;

namespace {
constexpr int64_t kS = 1'000'000'000;
constexpr int64_t kMin = 60 * kS;
constexpr int64_t kH = 3600 * kS;
constexpr int64_t kD = 86400 * kS;
}  // namespace

TEST_CASE("duration parsing is exact to the nanosecond", "[time]") {
  CHECK(parse_duration("0.1s").ticks() == 100'000'000);
  CHECK(parse_duration("54d").ticks() == 54 * kD);
  CHECK(parse_duration("15h").ticks() == 15 * kH);
  CHECK(parse_duration("250us").ticks() == 250'000);
  CHECK(parse_duration("1.5 s").ticks() == 1'500'000'000);
  CHECK(parse_duration("2w").ticks() == 14 * kD);
  CHECK(parse_duration("-3ms").ticks() == -3'000'000);
  CHECK(parse_duration("+7ns").ticks() == 7);
  CHECK(parse_duration("90min").ticks() == 90 * kMin);
  CHECK(parse_duration("0.000000001s").ticks() == 1);
  CHECK(parse_duration("1.000000001s").ticks() == 1'000'000'001);
  // 0.3 is not a double; the parser must not go through one (0.3 * 1e9 in double is 299999999.99999994).
  CHECK(parse_duration("0.3s").ticks() == 300'000'000);
  CHECK(parse_duration("12.5ms").ticks() == 12'500'000);
  CHECK(parse_duration(".5s").ticks() == 500'000'000);
  CHECK(parse_duration("5.s").ticks() == 5 * kS);
  CHECK(parse_duration("0ns").ticks() == 0);
  CHECK(parse_duration("  15h  ").ticks() == 15 * kH);
}

TEST_CASE("duration parsing accepts long unit names and compound forms", "[time]") {
  CHECK(parse_duration("10 seconds").ticks() == 10 * kS);
  CHECK(parse_duration("2 hours").ticks() == 2 * kH);
  CHECK(parse_duration("3 days").ticks() == 3 * kD);
  CHECK(parse_duration("1 day").ticks() == kD);
  CHECK(parse_duration("5 minutes").ticks() == 5 * kMin);
  CHECK(parse_duration("1h30m").ticks() == 90 * kMin);
  CHECK(parse_duration("1h 30m").ticks() == 90 * kMin);
  CHECK(parse_duration("-1h30m").ticks() == -90 * kMin);
  CHECK(parse_duration("2d3h4m5.5s").ticks() == 2 * kD + 3 * kH + 4 * kMin + 5'500'000'000);
  CHECK(parse_duration("1e3s").ticks() == 1000 * kS);
  CHECK(parse_duration("2.5e-3 s").ticks() == 2'500'000);
}

TEST_CASE("duration parsing rejects malformed text with a message saying what was expected", "[time]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_AS(parse_duration(""), std::invalid_argument);
  CHECK_THROWS_WITH(parse_duration(""), Contains("empty") && Contains("expected a number with a unit"));
  CHECK_THROWS_WITH(parse_duration("5"), Contains("missing unit"));
  CHECK_THROWS_WITH(parse_duration("5 parsecs"), Contains("unknown unit \"parsecs\""));
  CHECK_THROWS_WITH(parse_duration("--3s"), Contains("sign"));
  CHECK_THROWS_WITH(parse_duration("s"), Contains("missing number"));
  CHECK_THROWS_WITH(parse_duration("0.5ns"), Contains("finer than the 1 ns resolution"));
  CHECK_THROWS_WITH(parse_duration("3 months"), Contains("months vary in length"));
  CHECK_THROWS_WITH(parse_duration("1h-30m"), Contains("unexpected character '-'"));
  CHECK_THROWS_WITH(parse_duration("1.2.3s"), Contains("unexpected character '.'") || Contains("missing"));
  CHECK_THROWS_AS(parse_duration("1e400s"), TimeOverflow);
  CHECK_THROWS_WITH(parse_duration("1e400s"), Contains("out of range") && Contains("1e400s"));
}

TEST_CASE("duration parsing range ends at int64 nanoseconds", "[time]") {
  CHECK(parse_duration("9223372036854775807ns") == Duration::max());
  CHECK(parse_duration("-9223372036854775808ns").ticks() == std::numeric_limits<int64_t>::min());
  CHECK_THROWS_AS(parse_duration("9223372036854775808ns"), TimeOverflow);
  CHECK_THROWS_AS(parse_duration("106752d"), TimeOverflow);
  CHECK_THROWS_AS(parse_duration("99999999999999999999999999h"), TimeOverflow);
  CHECK(parse_duration("106751d").ticks() == 106751 * kD);
}

TEST_CASE("duration formatting gives short exact strings", "[time]") {
  CHECK(format_duration(Duration::zero()) == "0ns");
  CHECK(format_duration(Duration::us(250)) == "250us");
  CHECK(format_duration(Duration::hours(15)) == "15h");
  CHECK(format_duration(Duration::days(54)) == "54d");
  CHECK(format_duration(Duration::minutes(90)) == "1h30m");
  CHECK(format_duration(Duration::ms(1500)) == "1.5s");
  CHECK(format_duration(Duration::minutes(5)) == "5min");
  CHECK(format_duration(Duration::ns(7)) == "7ns");
  CHECK(format_duration(Duration::ns(1'000'000'001)) == "1.000000001s");
  CHECK(format_duration(Duration::ms(-3)) == "-3ms");
  CHECK(format_duration(Duration::hours(25)) == "25h");
  CHECK(format_duration(Duration::days(2) + Duration::minutes(30)) == "2d30m");
}

TEST_CASE("format then parse round-trips every duration", "[time]") {
  std::vector<int64_t> values = {0,
                                 1,
                                 -1,
                                 999,
                                 1000,
                                 1001,
                                 kS - 1,
                                 kS,
                                 kS + 1,
                                 kMin - 1,
                                 kMin,
                                 kMin + 1,
                                 kH - 1,
                                 kH,
                                 kH + 1,
                                 kD - 1,
                                 kD,
                                 kD + 1,
                                 std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::min(),
                                 std::numeric_limits<int64_t>::max() - 1,
                                 std::numeric_limits<int64_t>::min() + 1};
  fleetsim::Rng rng(12345);
  for (int i = 0; i < 20000; ++i) {
    // Mix scales: raw 64-bit values, values rounded to units, and small values.
    const uint64_t raw = rng.next_u64();
    const int shift = static_cast<int>(rng.uniform_int(64));
    auto v = static_cast<int64_t>(raw >> shift);
    if (rng.bernoulli(0.5)) v = -v;
    const int64_t units[] = {1, 1000, 1'000'000, kS, kMin, kH, kD};
    const int64_t unit = units[rng.uniform_int(7)];
    values.push_back(v / unit * unit);
    values.push_back(v);
  }
  for (int64_t v : values) {
    const Duration d = Duration::ns(v);
    const std::string text = format_duration(d);
    INFO("ticks " << v << " formatted \"" << text << "\"");
    REQUIRE(parse_duration(text) == d);
  }
}

TEST_CASE("time arithmetic throws TimeOverflow instead of wrapping", "[time]") {
  CHECK_THROWS_AS(Duration::max() + Duration::ns(1), TimeOverflow);
  CHECK_THROWS_AS(Duration::ns(std::numeric_limits<int64_t>::min()) - Duration::ns(1), TimeOverflow);
  CHECK_THROWS_AS(-Duration::ns(std::numeric_limits<int64_t>::min()), TimeOverflow);
  CHECK_THROWS_AS(Duration::days(1'000'000'000), TimeOverflow);
  CHECK_THROWS_AS(Duration::hours(int64_t{1} << 40), TimeOverflow);
  CHECK_THROWS_AS(Duration::s(10) * (int64_t{1} << 60), TimeOverflow);
  CHECK_THROWS_AS(SimTime::max() + Duration::ns(1), TimeOverflow);
  CHECK_THROWS_AS(SimTime::from_ticks(std::numeric_limits<int64_t>::min()) - SimTime::max(), TimeOverflow);
  CHECK_THROWS_WITH(Duration::max() + Duration::ns(1), Catch::Matchers::Contains("292 years"));
  CHECK((Duration::days(106751) + Duration::hours(23)).ticks() == 106751 * kD + 23 * kH);
}

TEST_CASE("durations from seconds round to the nearest nanosecond and checks range", "[time]") {
  CHECK(Duration::from_seconds(1.5).ticks() == 1'500'000'000);
  CHECK(Duration::from_seconds(1e-9).ticks() == 1);
  CHECK(Duration::from_seconds(0.4e-9).ticks() == 0);
  CHECK(Duration::from_seconds(-2.5e-9).ticks() == -3);  // llround: halves away from zero
  CHECK(Duration::from_seconds(3600.0) == Duration::hours(1));
  CHECK_THROWS_AS(Duration::from_seconds(1e10), TimeOverflow);
  CHECK_THROWS_AS(Duration::from_seconds(-1e10), TimeOverflow);
  CHECK_THROWS_AS(Duration::from_seconds(std::numeric_limits<double>::infinity()), TimeOverflow);
  CHECK_THROWS_AS(Duration::from_seconds(std::numeric_limits<double>::quiet_NaN()), TimeOverflow);
}

TEST_CASE("scaled multiplies by a real factor and rounds once", "[time]") {
  CHECK(Duration::s(10).scaled(1.5) == Duration::s(15));
  CHECK(Duration::ns(3).scaled(0.5).ticks() == 2);
  CHECK(Duration::max().scaled(1.0) == Duration::max());
  CHECK(Duration::hours(1).scaled(0.0) == Duration::zero());
  CHECK_THROWS_AS(Duration::days(100000).scaled(10.0), TimeOverflow);
}

TEST_CASE("UTC instants parse and format in ISO-8601", "[time]") {
  // 2025-10-20T06:48:00Z: 20381 days after 1970-01-01, plus 6 h 48 min.
  const int64_t t = parse_utc_ns("2025-10-20T06:48:00Z");
  CHECK(t == (20381 * 86400LL + 6 * 3600 + 48 * 60) * kS);
  CHECK(parse_utc_ns("2025-10-20T06:48Z") == t);
  CHECK(parse_utc_ns("2025-10-20") == 20381 * 86400LL * kS);
  CHECK(parse_utc_ns("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_utc_ns("2000-02-29") == 951782400LL * kS);
  CHECK(parse_utc_ns("1969-12-31T23:59:59Z") == -kS);
  CHECK(parse_utc_ns("2025-10-20T06:48:00.25Z") == t + 250'000'000);
  CHECK(format_utc_ns(t) == "2025-10-20T06:48:00Z");
  CHECK(format_utc_ns(t + 250'000'000) == "2025-10-20T06:48:00.250Z");
  CHECK(format_utc_ns(t + 1) == "2025-10-20T06:48:00.000000001Z");
  CHECK(format_utc_ns(-1) == "1969-12-31T23:59:59.999999999Z");
  CHECK(format_utc_ns(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("UTC round trip over many days including leap years", "[time]") {
  fleetsim::Rng rng(7);
  for (int i = 0; i < 5000; ++i) {
    // Between 1700 and 2260 (int64 ns covers 1677 to 2262).
    const int64_t ns = rng.uniform_int(int64_t{-8'520'000'000} * kS, int64_t{9'200'000'000} * kS);
    const std::string text = format_utc_ns(ns);
    INFO(text);
    REQUIRE(parse_utc_ns(text) == ns);
  }
}

TEST_CASE("UTC parse rejects malformed or non-UTC text", "[time]") {
  using Catch::Matchers::Contains;
  CHECK_THROWS_WITH(parse_utc_ns("2025-02-29"), Contains("does not exist"));
  CHECK_THROWS_WITH(parse_utc_ns("2025-13-01"), Contains("month 13"));
  CHECK_THROWS_WITH(parse_utc_ns("2025-10-20T06:48:00"), Contains("missing 'Z'"));
  CHECK_THROWS_WITH(parse_utc_ns("2025-10-20T06:48:00+02:00"), Contains("only UTC"));
  CHECK_THROWS_WITH(parse_utc_ns("2025-10-20T24:00Z"), Contains("hour 24"));
  CHECK_THROWS_WITH(parse_utc_ns("20251020"), Contains("expected '-'"));
  CHECK_THROWS_WITH(parse_utc_ns(""), Contains("4 digits for the year"));
  CHECK_THROWS_WITH(parse_utc_ns("2300-01-01"), Contains("representable range"));
}

TEST_CASE("fmt formats durations and times with units", "[time]") {
  CHECK(fmt::format("{}", Duration::us(250)) == "250us");
  CHECK(fmt::format("{}", SimTime::zero() + Duration::hours(3)) == "3h");
}

TEST_CASE("round_half_away gives std::llround's result across the range", "[time]") {
  using fleetsim::round_half_away;
  // Halves, the doubles next to them, and the edges where a double stops holding fractions.
  const double cases[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994,
                          0.5000000000000001, 4503599627370495.5, -4503599627370495.5, 4503599627370497.0,
                          9007199254740993.0, 9223372036854774784.0, -9223372036854775808.0, 1e-300, -1e-300,
                          123456789.49999999, 999999999.5};
  for (double x : cases) CHECK(round_half_away(x) == std::llround(x));
  // Random magnitudes from 1e-3 to 1e18, both signs, and numbers with exact halves.
  fleetsim::Rng rng(77);
  for (int i = 0; i < 200000; ++i) {
    const double magnitude = std::pow(10.0, rng.uniform(-3.0, 18.0));
    const double x = rng.bernoulli(0.5) ? magnitude : -magnitude;
    REQUIRE(round_half_away(x) == std::llround(x));
    const double half = std::floor(magnitude) + 0.5;
    REQUIRE(round_half_away(half) == std::llround(half));
    REQUIRE(round_half_away(-half) == std::llround(-half));
  }
}
