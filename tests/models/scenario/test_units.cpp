// SPDX-License-Identifier: Apache-2.0
// Units at the scenario boundary (models/scenario/units.hpp, docs/units.md).
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <string>

#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/units.hpp"
#include "sim/time.hpp"
#include "sim/time_units.hpp"

#include <fmt/format.h>

using fleetsim::Dimension;
using fleetsim::kSecondsPerYear;
using fleetsim::parse_duration;
using fleetsim::time_units;
using fleetsim::TimeUnit;
using fleetsim::parse_quantity;

namespace {

struct Good {
  const char* text;
  Dimension dim;
  double expected;  // exact SI value
};

// Expected values are written as the double the decimal text denotes, so == is exact: decimal
// prefixes only move the decimal exponent ("1.5 TB" is the literal 1.5e12), binary prefixes and bit
// conversions are exact in binary, and divisions by 3600 etc. are written as the same division.
const Good kGood[] = {
    // Bandwidth: bytes per second. 400 Gbps = 400e9 bit/s = 5e10 B/s.
    {"400 Gbps", Dimension::Bandwidth, 5e10},
    {"400Gbps", Dimension::Bandwidth, 5e10},
    {"400 Gb/s", Dimension::Bandwidth, 5e10},
    {"400 Gbit/s", Dimension::Bandwidth, 5e10},
    {"50 GB/s", Dimension::Bandwidth, 5e10},
    {"50 GBps", Dimension::Bandwidth, 5e10},
    {"100 MB/s", Dimension::Bandwidth, 1e8},
    {"1 Tbps", Dimension::Bandwidth, 1.25e11},
    {"3.35 TB/s", Dimension::Bandwidth, 3.35e12},
    {"800 kbps", Dimension::Bandwidth, 1e5},
    {"8 bps", Dimension::Bandwidth, 1},
    {"1 GiB/s", Dimension::Bandwidth, 1073741824.0},
    {"5e10", Dimension::Bandwidth, 5e10},
    {"  1.8 TB/s  ", Dimension::Bandwidth, 1.8e12},
    // Data size: bytes; decimal and binary prefixes.
    {"80 GB", Dimension::DataSize, 80e9},
    {"192 GiB", Dimension::DataSize, 192.0 * 1073741824.0},
    {"1.5 TB", Dimension::DataSize, 1.5e12},
    {"1 KiB", Dimension::DataSize, 1024},
    {"2 PiB", Dimension::DataSize, 2.0 * 1125899906842624.0},
    {"1 kB", Dimension::DataSize, 1000},
    {"1 KB", Dimension::DataSize, 1000},
    {"4096 B", Dimension::DataSize, 4096},
    {"12 bytes", Dimension::DataSize, 12},
    {"1 EB", Dimension::DataSize, 1e18},
    {"0.1 GB", Dimension::DataSize, 1e8},
    // Power and energy.
    {"700 W", Dimension::Power, 700},
    {"1.2 kW", Dimension::Power, 1200},
    {"30 MW", Dimension::Power, 3e7},
    {"5 kWh", Dimension::Energy, 5e3 * 3600},
    {"3.6 MJ", Dimension::Energy, 3.6e6},
    {"1 GWh", Dimension::Energy, 1e9 * 3600},
    // Money: USD.
    {"$1.5", Dimension::Money, 1.5},
    {"1.5 USD", Dimension::Money, 1.5},
    {"$38e9", Dimension::Money, 38e9},
    {"$38 billion", Dimension::Money, 38e9},
    {"$38B", Dimension::Money, 38e9},
    {"$1.2 million", Dimension::Money, 1.2e6},
    {"2 million USD", Dimension::Money, 2e6},
    {"-$5", Dimension::Money, -5},
    {"250", Dimension::Money, 250},
    // Money rate: USD per second; month = 730 h, year = 365 d.
    {"$55.04/h", Dimension::MoneyRate, 55.04 / 3600},
    {"55.04 USD/h", Dimension::MoneyRate, 55.04 / 3600},
    {"$98.32/hour", Dimension::MoneyRate, 98.32 / 3600},
    {"$1000/day", Dimension::MoneyRate, 1000.0 / 86400},
    {"$730/month", Dimension::MoneyRate, 730.0 / (365.0 * 86400.0 / 12)},
    {"$1.2 million/year", Dimension::MoneyRate, 1.2e6 / (365.0 * 86400.0)},
    {"$2/s", Dimension::MoneyRate, 2},
    {"0.5", Dimension::MoneyRate, 0.5},
    // Rate: per second, with an optional noun.
    {"1000/s", Dimension::Rate, 1000},
    {"2.5e9/day", Dimension::Rate, 2.5e9 / 86400},
    {"2.5e9 requests/day", Dimension::Rate, 2.5e9 / 86400},
    {"3.6 requests/h", Dimension::Rate, 3.6 / 3600},
    {"1e-5 failures/h", Dimension::Rate, 1e-5 / 3600},
    {"60/min", Dimension::Rate, 1},
    {"12", Dimension::Rate, 12},
    // FLOP/s.
    {"989.4 TFLOPS", Dimension::Flops, 989.4e12},
    {"2.5 PFLOPS", Dimension::Flops, 2.5e15},
    {"1979 TFLOP/s", Dimension::Flops, 1979e12},
    {"1e15", Dimension::Flops, 1e15},
    // Fraction and count.
    {"95%", Dimension::Fraction, 0.95},
    {"0.95", Dimension::Fraction, 0.95},
    {"12.5 %", Dimension::Fraction, 0.125},
    {"8", Dimension::Count, 8},
    {"1e6", Dimension::Count, 1e6},
    // Time: seconds, through parse_duration.
    {"15h", Dimension::Time, 54000},
    {"250us", Dimension::Time, 250e-6},
};

struct Bad {
  const char* text;
  Dimension dim;
  const char* fragment;  // must appear in the message
};

const Bad kBad[] = {
    {"400 parsecs", Dimension::Bandwidth,
     R"(expected a bandwidth such as "400 Gbps" or "50 GB/s", got "400 parsecs" (unknown unit "parsecs"))"},
    {"400 gbps", Dimension::Bandwidth, R"(unknown unit "gbps"; did you mean "Gbps"?)"},
    {"Gbps", Dimension::Bandwidth, R"(expected a bandwidth such as "400 Gbps" or "50 GB/s", got "Gbps")"},
    {"", Dimension::Bandwidth, "(empty text)"},
    {"400 GB", Dimension::Bandwidth, R"(unknown unit "GB")"},
    {"1,000 GB", Dimension::DataSize, R"(unknown unit ",000 GB")"},
    {"80 Gb", Dimension::DataSize, R"(unknown unit "Gb"; did you mean "GB"?)"},
    {"1e400 GB", Dimension::DataSize, "(out of range)"},
    {"inf", Dimension::DataSize, R"(expected a data size such as "80 GB" or "192 GiB", got "inf")"},
    {"700 w", Dimension::Power, R"(did you mean "W"?)"},
    {"5 kwh", Dimension::Energy, R"(did you mean "kWh"?)"},
    {"5 EUR", Dimension::Money, R"(unknown unit "EUR")"},
    {"$5 USD", Dimension::Money, "write either \"$\" or \"USD\", not both"},
    {"5 million", Dimension::Money, "missing the currency"},
    {"$5/h", Dimension::Money, "this is an amount, not a rate per time"},
    {"$55.04", Dimension::MoneyRate, R"(missing the time unit, such as "/h")"},
    {"55.04/h", Dimension::MoneyRate, "missing the currency"},
    {"$55.04/fortnight", Dimension::MoneyRate, R"(unknown time unit "fortnight")"},
    {"$1/huor", Dimension::MoneyRate, R"(did you mean "hour"?)"},
    {"1000 requests", Dimension::Rate, R"(missing "/" and a time unit, such as "/s")"},
    {"3 big requests/h", Dimension::Rate, R"("big requests" is not a single word)"},
    {"5/dya", Dimension::Rate, R"(did you mean "day"?)"},
    {"989.4 TFLOP", Dimension::Flops, R"(did you mean "TFLOPS"?)"},
    {"95 percent", Dimension::Fraction, R"(unknown unit "percent")"},
    {"1.5", Dimension::Count, "(not a whole number)"},
    {"8 GPUs", Dimension::Count, "(a count takes no unit)"},
    {"3600", Dimension::Time, "invalid duration \"3600\""},
    {"15 parsecs", Dimension::Time, "invalid duration"},
};

}  // namespace

TEST_CASE("units: unit strings parse to exact SI values", "[scenario][units]") {
  for (const auto& g : kGood) {
    INFO(g.text);
    CHECK(parse_quantity(g.text, g.dim) == g.expected);
  }
}

TEST_CASE("units: bad strings name what was expected and what was wrong", "[scenario][units]") {
  for (const auto& b : kBad) {
    INFO(b.text);
    try {
      (void)parse_quantity(b.text, b.dim);
      FAIL_CHECK("no exception for " << b.text);
    } catch (const std::invalid_argument& e) {
      CHECK_THAT(e.what(), Catch::Contains(b.fragment));
    }
  }
}

TEST_CASE("units: every error message starts with the dimension example", "[scenario][units]") {
  for (const Dimension d : {Dimension::Bandwidth, Dimension::DataSize, Dimension::Power, Dimension::Energy,
                            Dimension::Money, Dimension::MoneyRate, Dimension::Rate, Dimension::Flops,
                            Dimension::Fraction, Dimension::Count}) {
    try {
      (void)parse_quantity("lots", d);
      FAIL_CHECK("no exception");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()) == "expected " + std::string(fleetsim::dimension_example(d)) + ", got \"lots\"");
    }
  }
}

TEST_CASE("units: case matters where it carries meaning", "[scenario][units]") {
  // b is a bit and B a byte: a factor of 8.
  CHECK(parse_quantity("8 Gbps", Dimension::Bandwidth) * 8 == parse_quantity("8 GBps", Dimension::Bandwidth));
  CHECK(parse_quantity("1 Gb/s", Dimension::Bandwidth) == 1.25e8);
  CHECK_THROWS_AS(parse_quantity("1 mW", Dimension::Power), std::invalid_argument);  // milli is not mega
}

TEST_CASE("units: formatters give the human form", "[scenario][units]") {
  CHECK(fleetsim::format_bandwidth(5e10) == "400 Gbps");
  CHECK(fleetsim::format_bandwidth(1.25e11) == "1 Tbps");
  CHECK(fleetsim::format_bandwidth_bytes(3.35e12) == "3.35 TB/s");
  CHECK(fleetsim::format_data_size(80e9) == "80 GB");
  CHECK(fleetsim::format_data_size(192.0 * 1073741824.0) == "192 GiB");
  CHECK(fleetsim::format_power(700) == "700 W");
  CHECK(fleetsim::format_power(1200) == "1.2 kW");
  CHECK(fleetsim::format_energy(5e3 * 3600) == "5 kWh");
  CHECK(fleetsim::format_energy(1000) == "1 kJ");
  CHECK(fleetsim::format_money(38e9) == "$38 billion");
  CHECK(fleetsim::format_money(1.5) == "$1.5");
  CHECK(fleetsim::format_money(-5) == "-$5");
  CHECK(fleetsim::format_money_rate(55.04 / 3600) == "$55.04/h");
  CHECK(fleetsim::format_money_rate(1000.0 / 86400) == "$1000/day");
  CHECK(fleetsim::format_rate(1000) == "1000/s");
  CHECK(fleetsim::format_rate(2.5e9 / 86400) == "2.5e9/day");
  CHECK(fleetsim::format_flops(989.4e12) == "989.4 TFLOPS");
  CHECK(fleetsim::format_fraction(0.95) == "95%");
  CHECK(fleetsim::format_quantity(54000, Dimension::Time) == "15h");
  CHECK(fleetsim::format_quantity(8, Dimension::Count) == "8");
  CHECK(fleetsim::format_quantity(0, Dimension::Bandwidth) == "0 bps");
}

TEST_CASE("units: formatted values parse back to the same double", "[scenario][units]") {
  const double values[] = {5e10, 1, 0.1, 1.0 / 3, 123456789.123, 3.35e12, 1e-7, 7e20, 1073741824.0 * 1.5};
  for (const double v : values) {
    for (const Dimension d : {Dimension::Bandwidth, Dimension::DataSize, Dimension::Power, Dimension::Energy,
                              Dimension::Money, Dimension::MoneyRate, Dimension::Rate, Dimension::Flops,
                              Dimension::Fraction}) {
      const std::string text = fleetsim::format_quantity(v, d);
      INFO(v << " " << text);
      CHECK(parse_quantity(text, d) == v);
    }
  }
}

TEST_CASE("did you mean: closest candidate within the distance limit", "[scenario]") {
  CHECK(fleetsim::closest("horizn", {"seed", "horizon", "start"}) == "horizon");
  CHECK(fleetsim::closest("hbm", {"HBM", "NIC"}) == "HBM");                   // case-insensitive
  CHECK(fleetsim::closest("raegion", {"region", "regions"}) == "region");    // transposition = 1
  CHECK(fleetsim::closest("qqqq", {"seed", "horizon"}) == std::nullopt);
  CHECK(fleetsim::closest("x", {"w"}) == std::nullopt);                      // not every letter
  CHECK(fleetsim::closest("ab", {"cd"}) == std::nullopt);
  CHECK(fleetsim::closest("gpu", {"gpus", "gpux"}) == "gpus");               // tie: first wins
  CHECK(fleetsim::edit_distance("abcd", "acbd") == 1);
  CHECK(fleetsim::edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("units: one table of time units for durations, rates and prices", "[units][time]") {
  // Every exact unit spelling is a duration unit and, but for "m", a rate denominator of the same length.
  for (const TimeUnit& u : time_units()) {
    const std::string one = fmt::format("1{}", u.name);
    if (u.calendar()) {
      CHECK_THROWS_WITH(parse_duration(one), Catch::Contains("vary in length; use d"));
    } else {
      CHECK(parse_duration(one).ticks() == u.ns);
    }
    const std::string rate = fmt::format("1/{}", u.name);
    if (u.name == "m") {
      CHECK_THROWS_WITH(parse_quantity(rate, Dimension::Rate), Catch::Contains("unknown time unit \"m\""));
    } else {
      CHECK(parse_quantity(rate, Dimension::Rate) == Approx(1.0 / u.seconds));
      CHECK(parse_quantity(fmt::format("$2/{}", u.name), Dimension::MoneyRate) == Approx(2.0 / u.seconds));
    }
  }
  // Spellings that one of the three former tables lacked.
  CHECK(parse_duration("2hrs") == parse_duration("2h"));
  CHECK(parse_duration("1wk") == parse_duration("7d"));
  CHECK(parse_quantity("$1/hours", Dimension::MoneyRate) == Approx(1.0 / 3600));
  CHECK(parse_quantity("30/minutes", Dimension::Rate) == Approx(0.5));
  CHECK(parse_quantity("1/years", Dimension::Rate) == Approx(1.0 / kSecondsPerYear));
  CHECK(parse_quantity("1/month", Dimension::Rate) == Approx(12.0 / kSecondsPerYear));
}
