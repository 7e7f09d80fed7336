// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the unit and time parsers (models/scenario/units.hpp, sim/time.hpp). The first byte
// picks the parser, the rest is the text. Properties checked, each a documented promise:
// - parse_quantity throws only std::invalid_argument (or TimeOverflow for Time);
// - a parsed finite quantity formats back (format_quantity) to text that parses to the same double;
// - parse_duration throws only std::invalid_argument or TimeOverflow, and
//   parse_duration(format_duration(d)) == d;
// - parse_utc_ns throws only std::invalid_argument, and format_utc_ns(t) parses back to t.
// Built by the `fuzz` preset; how to run it: docs/fuzzing.md.
#include "models/scenario/units.hpp"
#include "sim/time.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using fleetsim::Dimension;

constexpr Dimension kDimensions[] = {
    Dimension::Time,     Dimension::Bandwidth, Dimension::DataSize, Dimension::Power,
    Dimension::Energy,   Dimension::Money,     Dimension::MoneyRate, Dimension::Rate,
    Dimension::Flops,    Dimension::Fraction,  Dimension::Count,
};
constexpr size_t kQuantityModes = sizeof(kDimensions) / sizeof(kDimensions[0]);

[[noreturn]] void finding(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "fuzz_units: %s: input \"%.*s\": %s\n", what, static_cast<int>(input.size()), input.data(),
               detail.c_str());
  std::abort();
}

void quantity(std::string_view text, Dimension d) {
  double v = 0;
  try {
    v = fleetsim::parse_quantity(text, d);
  } catch (const fleetsim::TimeOverflow&) {
    if (d != Dimension::Time) finding("TimeOverflow outside Time", text, "");
    return;
  } catch (const std::invalid_argument&) {
    return;
  } catch (const std::exception& e) {
    finding("unexpected exception from parse_quantity", text, e.what());
  }
  if (!std::isfinite(v)) finding("parse_quantity returned a non-finite value", text, std::to_string(v));
  const std::string shown = fleetsim::format_quantity(v, d);
  double back = 0;
  try {
    back = fleetsim::parse_quantity(shown, d);
  } catch (const std::exception& e) {
    finding("format_quantity gave text that does not parse", text, shown + ": " + e.what());
  }
  // Time goes through whole nanoseconds on the way out; everything else must come back bit-exact.
  const bool same = d == Dimension::Time ? std::abs(back - v) <= 5e-10 * std::max(1.0, std::abs(v)) : back == v;
  if (!same) finding("format_quantity does not round-trip", text, shown);
}

void duration(std::string_view text) {
  fleetsim::Duration d;
  try {
    d = fleetsim::parse_duration(text);
  } catch (const std::invalid_argument&) {
    return;
  } catch (const fleetsim::TimeOverflow&) {
    return;
  } catch (const std::exception& e) {
    finding("unexpected exception from parse_duration", text, e.what());
  }
  const std::string shown = fleetsim::format_duration(d);
  try {
    if (fleetsim::parse_duration(shown) != d) finding("format_duration does not round-trip", text, shown);
  } catch (const std::exception& e) {
    finding("format_duration gave text that does not parse", text, shown + ": " + e.what());
  }
}

void utc(std::string_view text) {
  int64_t t = 0;
  try {
    t = fleetsim::parse_utc_ns(text);
  } catch (const std::invalid_argument&) {
    return;
  } catch (const std::exception& e) {
    finding("unexpected exception from parse_utc_ns", text, e.what());
  }
  const std::string shown = fleetsim::format_utc_ns(t);
  try {
    if (fleetsim::parse_utc_ns(shown) != t) finding("format_utc_ns does not round-trip", text, shown);
  } catch (const std::exception& e) {
    finding("format_utc_ns gave text that does not parse", text, shown + ": " + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t mode = data[0] % (kQuantityModes + 2);
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode < kQuantityModes) quantity(text, kDimensions[mode]);
  else if (mode == kQuantityModes) duration(text);
  else utc(text);
  return 0;
}
