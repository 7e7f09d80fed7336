// SPDX-License-Identifier: Apache-2.0
// Metrics of a run: every numeric leaf of its summary.json, named by its JSON pointer.
//
//   Metrics m = numeric_leaves(nlohmann::json::parse(summary_text));
//   // m[i].name == "/failures/failures", m[i].value == 2
//
// "Headline metrics" are not a hand-picked list: a sweep or a comparison works for any scenario and
// any model added later, and --metric narrows the set (a pointer selects a leaf or every leaf under
// it). Booleans and strings are not metrics; "/seed" is run bookkeeping, not an outcome, and is left
// out (a sweep writes it in its own column).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace fleetsim::sweep {

struct Metric {
  std::string name;     ///< JSON pointer into summary.json, e.g. "/training/jobs/llm-70b/goodput"
  nlohmann::json value; ///< an integer or a floating-point JSON number, kept as read (exact text)
  double as_double() const { return value.get<double>(); }
};

using Metrics = std::vector<Metric>;

/// Numeric leaves in document order (summary.json keys are sorted, so the order is stable).
Metrics numeric_leaves(const nlohmann::json& doc);

/// A metric selector is a JSON pointer; a missing leading "/" is added. It selects the leaf with that
/// name and every leaf under it ("/failures" selects "/failures/failures" and "/failures/by_class/node").
std::string normalize_selector(std::string_view selector);
bool selected(std::string_view name, const std::vector<std::string>& selectors);

/// Keeps the metrics any selector selects (all of them when there are no selectors).
Metrics select(const Metrics& all, const std::vector<std::string>& selectors);

/// For a selector that selects none of `names`: " (did you mean \"/training/jobs/llm-70b\"?)" with the
/// closest metric or group of metrics (a pointer some metric lies under), or "" when none is close.
std::string selector_hint(std::string_view selector, const std::vector<std::string>& names);

}  // namespace fleetsim::sweep
