// SPDX-License-Identifier: Apache-2.0
#include "tools/sweep/metrics.hpp"

#include "models/scenario/did_you_mean.hpp"
#include "models/scenario/reader.hpp"

#include <set>

namespace fleetsim::sweep {

namespace {

void walk(const nlohmann::json& node, const std::string& pointer, Metrics& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) walk(it.value(), pointer + "/" + escape_pointer_token(it.key()), out);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) walk(node[i], pointer + "/" + std::to_string(i), out);
  } else if (node.is_number() && pointer != "/seed") {
    out.push_back(Metric{pointer, node});
  }
}

}  // namespace

Metrics numeric_leaves(const nlohmann::json& doc) {
  Metrics out;
  walk(doc, "", out);
  return out;
}

std::string normalize_selector(std::string_view selector) {
  std::string s(selector);
  if (s.empty() || s.front() != '/') s.insert(s.begin(), '/');
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

bool selected(std::string_view name, const std::vector<std::string>& selectors) {
  if (selectors.empty()) return true;
  for (const auto& raw : selectors) {
    const std::string sel = normalize_selector(raw);
    if (name == sel) return true;
    if (sel == "/" || (name.size() > sel.size() && name.starts_with(sel) && name[sel.size()] == '/')) return true;
  }
  return false;
}

Metrics select(const Metrics& all, const std::vector<std::string>& selectors) {
  Metrics out;
  for (const auto& m : all)
    if (selected(m.name, selectors)) out.push_back(m);
  return out;
}

std::string selector_hint(std::string_view selector, const std::vector<std::string>& names) {
  // Candidates: every metric and every group above one, so "/training/jobs/llm70b" finds the job's group.
  std::set<std::string> groups;
  std::vector<std::string> candidates;
  for (const auto& name : names) {
    candidates.push_back(name);
    for (size_t slash = name.find('/', 1); slash != std::string::npos; slash = name.find('/', slash + 1))
      if (groups.insert(name.substr(0, slash)).second) candidates.push_back(name.substr(0, slash));
  }
  return did_you_mean(normalize_selector(selector), candidates);
}

}  // namespace fleetsim::sweep
