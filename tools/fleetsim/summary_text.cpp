// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/summary_text.hpp"

#include "models/cost/cost_records.hpp"
#include "models/failures/failure_records.hpp"
#include "models/inference/inference_records.hpp"
#include "models/training/training_records.hpp"
#include "models/world/world_records.hpp"
#include "tools/fleetsim/answers.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

namespace fleetsim::cli {

namespace {
// Reads a number from the summary, or a dash when a model did not report it.
std::string figure(const nlohmann::json& j, const nlohmann::json::json_pointer& p) {
  if (!j.contains(p)) return "-";
  const auto& v = j.at(p);
  if (v.is_number_integer()) return fmt::format("{}", v.get<int64_t>());
  if (v.is_number()) return fmt::format("{:.4g}", v.get<double>());
  return v.is_string() ? v.get<std::string>() : v.dump();
}
// The files the run left in its directory, sorted (summary.json first: it marks a complete set).
std::vector<std::string> output_files(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    // Hidden files are not outputs: .fleetsim.lock is the run's claim on the directory, removed at exit.
    if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(a != "summary.json", a) < std::make_pair(b != "summary.json", b);
  });
  return names;
}

// A fraction as a percentage with one decimal, or a dash.
std::string percent(const nlohmann::json& j, const nlohmann::json::json_pointer& p) {
  if (!j.contains(p) || !j.at(p).is_number()) return "-";
  return fmt::format("{:.1f}%", 100.0 * j.at(p).get<double>());
}
}  // namespace

std::string format_run_summary(const Scenario& scenario, const SimulationResult& result, const std::string& dir) {
  using P = nlohmann::json::json_pointer;
  const auto& s = result.summary;
  std::string out;
  std::string status = "complete";
  if (!result.complete) {
    const std::string limit = result.stop_reason == "max_events"   ? "--max-events"
                              : result.stop_reason == "event_rate" ? "the runaway guard (--max-event-rate)"
                                                                   : "--max-wall";
    status = result.stop_reason == "interrupted" ? "INTERRUPTED" : "STOPPED by " + limit;
    status += ": outputs cover the simulated time reached";
  }
  out += fmt::format("fleetsim: {} ({})\n", scenario.run.name, status);
  // The planner's answers first: what each outage cost, and SLO attainment per service.
  out += format_answers(planner_answers(s, scenario.resolved));
  out += fmt::format("  simulated   {} of {} from {}, seed {}\n", format_duration(result.reached.since_epoch()),
                     format_duration(scenario.run.horizon), format_utc_ns(scenario.run.start_unix_ns),
                     scenario.run.seed);
  // Every key below is named by the record that writes it (models/*/*_records.hpp).
  using F = FleetSummary;
  const auto fleet = [](std::string_view k) { return summary_pointer({F::key, k}); };
  out += fmt::format("  fleet       {} GPUs in {} nodes, {} racks, {} regions\n", figure(s, fleet(at<&F::gpus>)),
                     figure(s, fleet(at<&F::nodes>)), figure(s, fleet(at<&F::racks>)), figure(s, fleet(at<&F::regions>)));
  using Fl = FailureSummary;
  if (s.contains(summary_pointer({Fl::key})))
    out += fmt::format("  failures    {} failures, {} repairs, {} outages\n",
                       figure(s, summary_pointer({Fl::key, at<&Fl::failures>})),
                       figure(s, summary_pointer({Fl::key, at<&Fl::repairs>})),
                       figure(s, summary_pointer({Fl::key, at<&Fl::outages>})));
  using T = TrainingSummary;
  if (s.contains(summary_pointer({T::key})))
    out += fmt::format("  training    {} tokens trained, effective training time {}, {} interruptions\n",
                       human_count(s.value(summary_pointer({T::key, at<&T::tokens_trained>}), 0.0)),
                       percent(s, summary_pointer({T::key, at<&T::ettr>})),
                       figure(s, summary_pointer({T::key, at<&T::interruptions>})));
  using I = InferenceServiceSummary;
  using Lat = InferenceLatency;
  if (s.contains(summary_pointer({kInferenceSummaryKey})))
    for (const auto& [name, service] : s.at(std::string(kInferenceSummaryKey)).items())
      out += fmt::format("  inference   {}: TTFT p50 {} s, p99 {} s; end-to-end p50 {} s\n", name,
                         figure(service, summary_pointer({at<&I::ttft_s>, at<&Lat::p50>})),
                         figure(service, summary_pointer({at<&I::ttft_s>, at<&Lat::p99>})),
                         figure(service, summary_pointer({at<&I::e2e_s>, at<&Lat::p50>})));
  using C = CostSummary;
  if (s.contains(summary_pointer({C::key}))) {
    const auto money = [&](const P& ptr) {
      if (!s.contains(ptr) || !s.at(ptr).is_number()) return std::string("-");
      return human_usd(s.at(ptr).get<double>());  // three significant digits, for reading
    };
    const P energy_mwh = summary_pointer({C::key, at<&C::energy_mwh>});
    const bool energy = s.contains(energy_mwh) && s.at(energy_mwh).is_number();
    out += fmt::format("  cost        {} total, {}, {} per useful GPU-hour, {} per million tokens\n",
                       money(summary_pointer({C::key, at<&C::total_usd>})),
                       energy ? human_energy_mwh(s.at(energy_mwh).get<double>()) : "-",
                       money(summary_pointer({C::key, at<&C::usd_per_useful_gpu_hour>})),
                       money(summary_pointer({C::key, at<&C::usd_per_million_tokens>, at<&CostPerMillionTokens::overall>})));
    using M = CostCommitmentSummary;
    const auto commitment = [](std::string_view k) { return summary_pointer({C::key, at<&C::commitment>, k}); };
    if (s.contains(summary_pointer({C::key, at<&C::commitment>}))) {
      const std::string when = figure(s, commitment(at<&M::projected_exhaustion>));
      out += fmt::format("  commitment  {} spent against a plan of {}; exhausted {} at this rate\n",
                         money(commitment(at<&M::spent_usd>)), money(commitment(at<&M::plan_to_date_usd>)),
                         when == "null" ? std::string("never") : when.substr(0, 10));
    }
  }
  out += fmt::format("  engine      {} events in {:.2f} s wall, fingerprint {:016x}\n", result.events, result.wall_s,
                     result.fingerprint);
  out += fmt::format("  outputs     {}/ ({})\n", dir, fmt::join(output_files(dir), ", "));
  return out;
}

}  // namespace fleetsim::cli
