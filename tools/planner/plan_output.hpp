// SPDX-License-Identifier: Apache-2.0
// What `fleetsim plan` writes (docs/planning.md):
// - candidates.csv: one row per simulation run (candidate, variant, replication), appended and
//   flushed as each run ends, so an interrupted search leaves a valid file and --resume loses nothing;
// - plan.json: the best plan (values, --set lines, each constraint's value with its 95% interval and
//   whether it binds), the search's path and the Pareto front; best-scenario.json: the best plan's
//   scenario with every default filled in, ready for `fleetsim run`;
// - plan.html: one self-contained page with the path of the search and the Pareto front.
#pragma once

#include "tools/planner/evaluator.hpp"
#include "tools/planner/search.hpp"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace fleetsim::planner {

/// A value as a cell of candidates.csv: strings bare, numbers as JSON.
std::string display(const nlohmann::json& value);
/// The inverse for variable `v`; nullopt when the text is not one of its values.
std::optional<nlohmann::json> parse_display(const Variable& v, const std::string& text);

/// The header of candidates.csv for this plan.
std::vector<std::string> candidates_header(const PlanSpec& spec);

/// Appends rows to candidates.csv (creating it with its header when absent).
class CandidatesCsv {
 public:
  CandidatesCsv(const std::filesystem::path& path, const PlanSpec& spec, bool append);
  ~CandidatesCsv();
  CandidatesCsv(const CandidatesCsv&) = delete;
  CandidatesCsv& operator=(const CandidatesCsv&) = delete;
  void append(const RunRecord& r);

 private:
  std::FILE* file_ = nullptr;
  const PlanSpec& spec_;
  std::filesystem::path path_;
  size_t rows_ = 0;
};

struct PlanContext {
  std::string scenario_path;
  std::string plan_source;          ///< the plan file, or "SCENARIO#/plan"
  std::vector<Override> base_overrides;  ///< the command's --set lines
};

/// plan.json as text (deterministic: no wall times; those go to the terminal).
std::string plan_json(const PlanSpec& spec, const Evaluator& ev, const SearchResult& result, const PlanContext& ctx);
/// plan.html as text.
std::string plan_html(const PlanSpec& spec, const Evaluator& ev, const SearchResult& result, const PlanContext& ctx);
/// The lines the terminal shows at the end.
std::string plan_text(const PlanSpec& spec, const Evaluator& ev, const SearchResult& result);

}  // namespace fleetsim::planner
