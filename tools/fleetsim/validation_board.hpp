// SPDX-License-Identifier: Apache-2.0
// The validation scoreboard: a scenario's "validation" block (published figures with their source,
// the summary.json value to compare, a tolerance), its evaluation over one or more seeds, and the
// generated Markdown page (docs/validation.md). `fleetsim validation` (cmd_validation.cpp) runs it.
//
//   "validation": {
//     "seeds": [1, 2, 3],                                  // optional: mean over these runs
//     "checks": [{
//       "figure": "unexpected interruptions in 54 days", "source": "arXiv:2407.21783 Table 5",
//       "metric": "/training/jobs/llama3-405b/interruptions",   // or {"divide": [a, b]}, {"product": [...]}
//       "expected": 419, "tolerance": "15%",               // relative ("15%") or absolute (a number)
//       "bound": "within",                                 // or "at_least" / "at_most" (no tolerance)
//       "kind": "prediction", "unit": "", "known_miss": "why it misses (optional)"}]}
//
// Metric pointers are JSON pointers into summary.json; a token may hold '*' wildcards matching object
// keys ("/training/jobs/small-*/interruptions"); all matches are summed.
#pragma once

#include "models/scenario/diagnostics.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace fleetsim::validation {

enum class Bound { Within, AtLeast, AtMost };

struct Check {
  std::string figure, source, kind, unit, note, known_miss;
  nlohmann::json metric;          ///< a pointer string, a number, or {"divide"|"product": [...]}
  double expected = 0;
  double tolerance = 0;           ///< absolute, or relative when `relative`
  bool relative = false;
  Bound bound = Bound::Within;
};

struct Board {
  std::string file;               ///< the scenario file, as given
  std::string name;               ///< the scenario's "name"
  std::vector<uint64_t> seeds;    ///< empty: the scenario's own seed
  std::vector<Check> checks;
};

/// Reads `doc["validation"]`. Every problem goes to `diags` with its JSON pointer; returns nullopt
/// when the document has no "validation" key.
std::optional<Board> read_board(const nlohmann::json& doc, const std::string& file, Diagnostics& diags);

/// The metric's value in one run's summary; throws std::invalid_argument naming the pointer when a
/// pointer matches nothing or a non-number.
double evaluate(const nlohmann::json& metric, const nlohmann::json& summary);

struct Outcome {
  const Check* check = nullptr;
  std::string file;
  std::vector<double> values;     ///< one per seed
  double value = 0;               ///< mean over seeds
  bool within = false;            ///< the figure is inside its tolerance or bound
  /// Counts against the board: outside tolerance without a declared known miss, or a declared
  /// known miss that now passes (so the declaration is removed and the row becomes a real pass).
  bool failing() const { return check->known_miss.empty() ? !within : within; }
};

/// Decides `within` from value and the check.
void judge(Outcome& o);

/// The whole generated page. Deterministic: no times, no host names.
std::string render_markdown(const std::vector<Outcome>& outcomes, const std::string& command);

}  // namespace fleetsim::validation
