// SPDX-License-Identifier: Apache-2.0
// The planner's answers, read from a run's summary.json and resolved.json: per scheduled outage what
// it cost (capacity paid while dark, training work lost, requests failed, late and rerouted, the
// latency bump) and SLO attainment per inference service. The terminal summary and the top of
// report.html lead with them (issue 18, "answers up front"), and both word numbers the same way:
//
//   human_count(9.37e11) == "937 billion";  human_usd(4.4e6) == "$4.4 million";
//   human_energy_mwh(2.62e7) == "26.2 TWh";  human_seconds(5400) == "1.5 h"
#pragma once

#include "sim/record.hpp"

#include <nlohmann/json.hpp>

#include <initializer_list>
#include <string>
#include <string_view>

namespace fleetsim::cli {

/// summary.json's keys are named by the records that write them (sim/record.hpp): `at<&R::member>` is
/// the member's key (a member without a field does not compile), and summary_pointer a JSON pointer
/// made of such keys, e.g. summary_pointer({CostSummary::key, at<&CostSummary::total_usd>}).
template <auto Member>
inline constexpr std::string_view at = member_name<Member>();
/// The keys hold no '/' or '~', so they need no escaping.
nlohmann::json::json_pointer summary_pointer(std::initializer_list<std::string_view> keys);

/// Three significant digits with a word for the power of a thousand ("12.3 thousand", "937 billion").
std::string human_count(double v);
std::string human_usd(double v);
std::string human_energy_mwh(double mwh);
std::string human_seconds(double s);
std::string human_percent(double fraction);

/// {"outages": [...], "outage_cost": {...} or null, "services": [...]}: see answers.cpp for the fields.
/// Fields a run did not report are left out (a value that is absent or empty is missing, never 0).
nlohmann::json planner_answers(const nlohmann::json& summary, const nlohmann::json& resolved);
/// The answers as lines for the terminal summary (each starting with two spaces), empty if none.
std::string format_answers(const nlohmann::json& answers);

}  // namespace fleetsim::cli
