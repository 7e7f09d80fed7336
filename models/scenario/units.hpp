// SPDX-License-Identifier: Apache-2.0
// Quantities with units at the scenario boundary: "400 Gbps", "192 GiB", "700 W", "$55.04/h",
// "2.5e9 requests/day", "95%". Parsed once, here; everything inside fleetsim is SI (docs/units.md):
//
//   parse_quantity("400 Gbps", Dimension::Bandwidth)   == 5e10        // bytes per second
//   parse_quantity("192 GiB", Dimension::DataSize)     == 192.0 * (1ull << 30)
//   parse_quantity("$55.04/h", Dimension::MoneyRate)   == 55.04 / 3600 // USD per second
//   format_bandwidth(5e10)                              == "400 Gbps"
//
// Rules, for every dimension:
// - "NUMBER UNIT" with optional spaces between; NUMBER is decimal with optional sign, fraction and
//   exponent ("1.5", "-3", ".5", "2.5e9"). No thousands separators, hex, inf or nan.
// - A bare number is already SI (bytes/s, bytes, W, J, USD, USD/s, 1/s, FLOP/s, fraction, count),
//   except for Time, whose strings must carry a unit (parse_duration's rule; a JSON *number* given
//   for a time is seconds, see Reader::duration).
// - Units are case-sensitive where case carries meaning: b = bit, B = byte, M = mega, m = milli.
//   Decimal prefixes (k M G T P E) are powers of 1000, binary ones (Ki Mi Gi Ti Pi Ei) powers of 1024.
// - Decimal scaling is exact: "1.5 TB" is the double nearest 1.5e12, because the prefix is applied to
//   the decimal exponent before the one rounding to double.
// - Time denominators of rates: s, min, h, day (d), week (w), month (mo) = 730 h = 1/12 of a year,
//   year (yr, y) = 365 days. Cloud price sheets use 730 hours per month.
// Errors throw std::invalid_argument: 'expected a bandwidth such as "400 Gbps" or "50 GB/s", got
// "400 parsecs" (unknown unit "parsecs")', with a did-you-mean for near-miss units.
#pragma once

#include <string>
#include <string_view>

namespace fleetsim {

enum class Dimension {
  Time,       ///< seconds (use Reader::duration / parse_duration for a Duration)
  Bandwidth,  ///< bytes per second
  DataSize,   ///< bytes
  Power,      ///< watts
  Energy,     ///< joules
  Money,      ///< US dollars
  MoneyRate,  ///< US dollars per second
  Rate,       ///< events per second
  Flops,      ///< floating-point operations per second
  Fraction,   ///< dimensionless; "95%" == 0.95
  Count,      ///< a whole number, as double
};

/// Parses `text` as a quantity of dimension `d` and returns it in the SI unit above.
/// Throws std::invalid_argument (message as in the header comment); for Time also TimeOverflow.
double parse_quantity(std::string_view text, Dimension d);

/// What a value of `d` looks like, for "expected ..." messages: 'a bandwidth such as "400 Gbps" or
/// "50 GB/s"'.
std::string_view dimension_example(Dimension d);
/// Lower-case noun: "bandwidth", "data size", "amount of money" ...
std::string_view dimension_name(Dimension d);
/// The internal SI unit: "B/s", "B", "W", "J", "USD", "USD/s", "1/s", "FLOP/s", "1", "s".
std::string_view si_unit(Dimension d);

/// Human form that parse_quantity maps back to exactly the same double (checked; when no unit
/// form round-trips, the plain SI number is returned). Non-finite values print as fmt does.
std::string format_quantity(double si_value, Dimension d);
std::string format_bandwidth(double bytes_per_s);        ///< bits, network style: "400 Gbps"
std::string format_bandwidth_bytes(double bytes_per_s);  ///< bytes, memory style: "3.35 TB/s"
std::string format_data_size(double bytes);              ///< "80 GB", "192 GiB" (fewer digits wins)
std::string format_power(double watts);                  ///< "700 W", "1.2 kW", "30 MW"
std::string format_energy(double joules);                ///< "5 kWh" or "12 kJ" (fewer digits wins)
std::string format_money(double usd);                    ///< "$1.5", "$38 billion"
std::string format_money_rate(double usd_per_s);         ///< "$55.04/h", "$1000/day"
std::string format_rate(double per_s);                   ///< "1000/s", "2.5e9/day"
std::string format_flops(double flop_per_s);             ///< "989.4 TFLOPS"
std::string format_fraction(double fraction);            ///< "95%"

}  // namespace fleetsim
