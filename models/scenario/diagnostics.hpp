// SPDX-License-Identifier: Apache-2.0
// Scenario errors: every problem found in one input file, each with its JSON pointer, collected so a
// user sees all of them at once (sorted, capped) instead of fixing one per run.
//
//   Diagnostics diags("scenarios/quickstart.json");
//   diags.error("/fleet/regions/1/gpus", "expected a positive integer, got -8");
//   diags.throw_if_any();   // ScenarioError; what() ==
//   // "error: scenarios/quickstart.json: /fleet/regions/1/gpus: expected a positive integer, got -8"
//
// Order: by top-level section in the order the loader reads them (run keys, catalog, fleet, network,
// failures, training, inference, cost), so an error in what others refer to (the fleet) comes before
// the errors it causes; then by JSON pointer, comparing reference tokens one by one (array indices
// numerically, so /a/2 comes before /a/10; a parent before its children), then by message. Identical (pointer,
// message) pairs are recorded once, so a reader asked twice about the same bad value reports it once.
// Bounded: at most kMaxKept errors (and kMaxKeptBytes of their text) are kept; further ones are only
// counted, so a hostile file of 100,000 unknown keys costs neither quadratic time nor unbounded memory
// (docs/robustness.md). The count then includes repeats of errors it could no longer compare.
// An error with the empty pointer "" concerns the whole file (a syntax error, a missing file) and is
// rendered without one: "error: FILE: message".
#pragma once

#include "sim/error.hpp"

#include <cstddef>
#include <set>
#include <utility>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

struct Diagnostic {
  std::string pointer;  ///< RFC 6901 JSON pointer ("" = the whole document).
  std::string message;  ///< "expected a positive integer, got -8"
  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

/// Orders pointers token by token, array indices (all-digit tokens) numerically.
bool pointer_less(std::string_view a, std::string_view b);

class Diagnostics {
 public:
  /// Default cap on rendered lines; the rest are summarized as "... and N more errors".
  static constexpr size_t kDefaultMaxShown = 50;
  /// Errors kept with their text; beyond either bound they are only counted (see the header comment).
  static constexpr size_t kMaxKept = 1000;
  static constexpr size_t kMaxKeptBytes = size_t{1} << 20;

  explicit Diagnostics(std::string file);

  const std::string& file() const { return file_; }
  /// Records one error at `pointer` (RFC 6901, already escaped). Duplicates are dropped.
  void error(std::string_view pointer, std::string_view message);
  /// True once kMaxKept errors are kept: any further error() is only counted, so a caller facing many
  /// errors (100,000 unknown keys) can call count_only() instead of composing each message.
  bool full() const { return items_.size() >= kMaxKept; }
  /// Counts one error beyond the kept ones without its text (see full()).
  void count_only() { ++dropped_; }
  bool empty() const { return items_.empty() && dropped_ == 0; }
  /// Errors recorded, the counted-only ones included.
  size_t size() const { return items_.size() + dropped_; }
  /// All errors, sorted (see the header comment).
  std::vector<Diagnostic> sorted() const;
  /// One line per error, "error: FILE: /pointer: message", sorted, at most max_shown lines plus a
  /// final "error: FILE: ... and N more errors" line. No trailing newline.
  std::string render(size_t max_shown = kDefaultMaxShown) const;
  /// Throws ScenarioError carrying a copy of these diagnostics if any error was recorded.
  void throw_if_any() const;

  /// A problem that does not stop a run but is likely a mistake (a price per instance-hour that looks
  /// like a price per GPU-hour). Kept apart from errors; duplicates dropped.
  void warning(std::string_view pointer, std::string_view message);
  /// The warnings in the order of sorted().
  std::vector<Diagnostic> sorted_warnings() const;

 private:
  std::string file_;
  std::vector<Diagnostic> items_;  // insertion order; sorted on demand
  std::vector<Diagnostic> warnings_;
  std::set<std::pair<std::string, std::string>> seen_;  // (pointer, message) of items_: O(log n) dedupe
  size_t kept_bytes_ = 0;
  size_t dropped_ = 0;  // errors beyond kMaxKept / kMaxKeptBytes, counted only
};

/// One line per warning, "warning: FILE: /pointer: message"; no trailing newline; "" for none.
std::string render_warnings(std::string_view file, const std::vector<Diagnostic>& warnings);

/// Invalid scenario (syntax or content): the CLI maps it to exit code 65 (EX_DATAERR).
/// what() is Diagnostics::render().
class ScenarioError : public std::runtime_error, public ErrorWithKind {
 public:
  explicit ScenarioError(Diagnostics diagnostics);
  const Diagnostics& diagnostics() const { return diagnostics_; }

 private:
  Diagnostics diagnostics_;
};

/// The input file is missing or unreadable: the CLI maps it to exit code 66 (EX_NOINPUT).
/// what() is "error: FILE: cannot read: REASON".
class InputError : public std::runtime_error, public ErrorWithKind {
 public:
  InputError(std::string file, std::string_view reason);
  const std::string& file() const { return file_; }

 private:
  std::string file_;
};

/// `text` in double quotes with JSON escapes, cut to about max_chars (keeping UTF-8 sequences whole)
/// with "..." inside the quotes when longer: quote("400 parsecs") == "\"400 parsecs\"".
std::string quote(std::string_view text, size_t max_chars = 60);

}  // namespace fleetsim
