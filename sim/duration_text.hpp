// SPDX-License-Identifier: Apache-2.0
// format_duration (sim/time.hpp) appended to a string instead of returned: a run writes one per line
// of events.jsonl, and a fresh string per line (and per part of "54d3h20m") was a third of the cost of
// writing a line (issue 21). Defined in sim/time.cpp; format_duration is this into an empty string.
//
//   std::string line = "{\"time\":\"";
//   append_duration(line, Duration::hours(27));   // line ends with 1d3h
#pragma once

#include "sim/time.hpp"

#include <string>

namespace fleetsim {

void append_duration(std::string& out, Duration d);

}  // namespace fleetsim
