// SPDX-License-Identifier: Apache-2.0
// `fleetsim compare`: the metrics of a baseline and a new result side by side, each within a relative
// tolerance or not. A side is a run directory (its summary.json), a summary.json file, or a sweep
// directory (its sweep.json: each cell's mean, matched between sides by the cell's parameters).
//
//   Side a = load_side("baseline/summary.json"), b = load_side("out/run");
//   Comparison c = compare(a, b, {.rel_tol = 0.01, .metrics = {"/training/jobs/llm-70b/tokens_per_s"}});
//   // c.rows[0].within; c.outside == 0 means exit 0
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace fleetsim::sweep {

/// Anything that makes a comparison impossible (exit 2): a missing or unreadable side, a file that is
/// not a summary or sweep, sides of different kinds, a --metric neither side has.
class CompareError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SideValue {
  std::string metric;  ///< pointer into summary.json
  std::string cell;    ///< sweep cell label ("/a=1 /b=2"), empty for a run
  double value = 0;
};

struct Side {
  enum class Kind { Summary, Sweep } kind = Kind::Summary;
  std::string path;
  std::vector<SideValue> values;
};

/// Reads a run directory, a sweep directory or a summary.json (or a sweep.json). Throws CompareError.
Side load_side(const std::filesystem::path& path);

struct CompareOptions {
  double rel_tol = 0.01;              ///< |new - baseline| <= rel_tol * |baseline|
  std::vector<std::string> metrics;   ///< selectors (metrics.hpp); empty: every metric of either side
};

struct CompareRow {
  std::string name;                   ///< metric, followed by " @ cell" for sweeps
  std::optional<double> baseline, candidate;
  double delta_pct = 0;               ///< (new - baseline) / |baseline| * 100; +-inf from a zero baseline
  bool within = false;
};

struct Comparison {
  std::vector<CompareRow> rows;
  size_t outside = 0;                 ///< rows not within tolerance (a metric missing on one side counts)
};

/// Throws CompareError for different kinds of side or a selector that matches nothing on a side.
Comparison compare(const Side& baseline, const Side& candidate, const CompareOptions& options);

/// Parses "1%", "0.5 %" or "0.01" into a fraction; throws std::invalid_argument otherwise.
double parse_rel_tol(const std::string& text);

/// The table for the terminal: metric, baseline, new, delta %, ok / OUTSIDE / missing.
std::string format_comparison(const Comparison& c, double rel_tol);

/// JUnit XML: one testcase per row, a <failure> for each row outside the tolerance.
std::string junit_xml(const Comparison& c, double rel_tol, const std::string& baseline_path,
                      const std::string& candidate_path);

}  // namespace fleetsim::sweep
