// SPDX-License-Identifier: Apache-2.0
// Checks on a Chrome trace-event JSON document, shared by the trace writer and translator tests.
//
//   auto problems = fleetsim::test::nesting_problems(nlohmann::json::parse(text));
//   CHECK(problems.empty());
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace fleetsim::test {

/// Microseconds as written ("ts":1.5) back to integer ns.
inline int64_t trace_ns(const nlohmann::json& v) { return static_cast<int64_t>(v.get<double>() * 1000.0 + 0.5); }

/// Every pair of X slices on one (pid, tid) must be disjoint or one inside the other (Perfetto's rule).
/// Returns a description of each violation; empty if the trace nests.
inline std::vector<std::string> nesting_problems(const nlohmann::json& trace) {
  std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<int64_t, int64_t>>> tracks;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    const int64_t a = trace_ns(e.at("ts"));
    tracks[{e.at("pid").get<int64_t>(), e.at("tid").get<int64_t>()}].push_back({a, a + trace_ns(e.at("dur"))});
  }
  std::vector<std::string> problems;
  for (auto& [track, slices] : tracks) {
    // By start, longer first: a parent comes before the children that start with it.
    std::sort(slices.begin(), slices.end(), [](auto x, auto y) {
      return x.first != y.first ? x.first < y.first : x.second > y.second;
    });
    std::vector<int64_t> open_ends;  // a stack of the enclosing slices' ends
    for (const auto& [a, b] : slices) {
      if (b < a) problems.push_back("negative duration on pid " + std::to_string(track.first));
      while (!open_ends.empty() && open_ends.back() <= a) open_ends.pop_back();
      if (!open_ends.empty() && b > open_ends.back()) {
        problems.push_back("pid " + std::to_string(track.first) + " tid " + std::to_string(track.second) +
                           ": slice [" + std::to_string(a) + ", " + std::to_string(b) + "] overlaps its parent ending at " +
                           std::to_string(open_ends.back()));
      }
      open_ends.push_back(b);
    }
  }
  return problems;
}

/// The same rule read as a double-parsing reader (Perfetto's JSON importer) reads it: ts and dur as
/// doubles, a slice's end as the double sum ts + dur, compared with no rounding back to ns.
inline std::vector<std::string> double_overlap_problems(const nlohmann::json& trace) {
  std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<double, double>>> tracks;
  for (const auto& e : trace.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    const double a = e.at("ts").get<double>();
    tracks[{e.at("pid").get<int64_t>(), e.at("tid").get<int64_t>()}].push_back({a, a + e.at("dur").get<double>()});
  }
  std::vector<std::string> problems;
  for (auto& [track, slices] : tracks) {
    std::sort(slices.begin(), slices.end(), [](auto x, auto y) {
      return x.first != y.first ? x.first < y.first : x.second > y.second;
    });
    std::vector<double> open_ends;
    for (const auto& [a, b] : slices) {
      while (!open_ends.empty() && open_ends.back() <= a) open_ends.pop_back();
      if (!open_ends.empty() && b > open_ends.back()) {
        problems.push_back("pid " + std::to_string(track.first) + " tid " + std::to_string(track.second) +
                           ": slice from ts " + std::to_string(a) + " ends after its neighbour or parent");
      }
      open_ends.push_back(b);
    }
  }
  return problems;
}

/// The events of one phase ("X", "i", "C", "M").
inline std::vector<nlohmann::json> trace_events(const nlohmann::json& trace, const std::string& ph) {
  std::vector<nlohmann::json> out;
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == ph) out.push_back(e);
  return out;
}

/// pid of the process with this name, or -1.
inline int64_t trace_pid(const nlohmann::json& trace, const std::string& name) {
  for (const auto& e : trace.at("traceEvents"))
    if (e.at("ph") == "M" && e.at("name") == "process_name" && e.at("args").at("name") == name)
      return e.at("pid").get<int64_t>();
  return -1;
}

}  // namespace fleetsim::test
