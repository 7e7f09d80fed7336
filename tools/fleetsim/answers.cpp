// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/answers.hpp"

#include "models/cost/cost_records.hpp"
#include "models/inference/inference_records.hpp"
#include "models/scenario/embedded.hpp"
#include "models/training/training_records.hpp"

#include "sim/time.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

namespace fleetsim::cli {

namespace {

// A field of an outage as the scenario gave it, as text: the loader accepts numbers where a quantity
// may be one (a duration of 2.0 is two seconds), so a string is not guaranteed (found by fuzz_cli).
std::string field_text(const nlohmann::json& o, const char* key, std::string fallback) {
  if (!o.contains(key)) return fallback;
  const nlohmann::json& v = o[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return fallback;
}
using json = nlohmann::json;

std::optional<double> number_at(const json& j, std::initializer_list<std::string_view> keys) {
  const json::json_pointer p = summary_pointer(keys);
  if (!j.contains(p) || !j.at(p).is_number()) return std::nullopt;
  const double v = j.at(p).get<double>();
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

// "12.3" with three significant digits and no trailing zeros.
std::string sig3(double v) { return fmt::format("{:.3g}", v); }

// The outage's start in ns since the scenario's start: "from" is an instant or a time into the run.
std::optional<int64_t> start_ns(const json& outage, const json& resolved) {
  if (!outage.contains("from") || !outage["from"].is_string()) return std::nullopt;
  const std::string from = outage["from"].get<std::string>();
  try {
    return parse_duration(from).ticks();
  } catch (const std::exception&) {
  }
  try {
    const int64_t run_start = parse_utc_ns(resolved.value("start", std::string()));
    return parse_utc_ns(from) - run_start;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}
}  // namespace

nlohmann::json::json_pointer summary_pointer(std::initializer_list<std::string_view> keys) {
  std::string p;
  for (auto k : keys) {
    p += '/';
    p += k;
  }
  return nlohmann::json::json_pointer(p);
}

std::string human_count(double v) {
  if (!std::isfinite(v)) return "-";
  const double a = std::fabs(v);
  if (a >= 1e12) return sig3(v / 1e12) + " trillion";
  if (a >= 1e9) return sig3(v / 1e9) + " billion";
  if (a >= 1e6) return sig3(v / 1e6) + " million";
  if (a >= 1e4) return sig3(v / 1e3) + " thousand";
  if (v == std::floor(v)) return fmt::format("{}", static_cast<int64_t>(v));
  return sig3(v);
}

std::string human_usd(double v) {
  if (!std::isfinite(v)) return "-";
  if (std::fabs(v) < 1e4) return fmt::format("${:.2f}", v);
  return "$" + human_count(v);
}

std::string human_energy_mwh(double mwh) {
  if (!std::isfinite(mwh)) return "-";
  const double a = std::fabs(mwh);
  if (a >= 1e6) return sig3(mwh / 1e6) + " TWh";
  if (a >= 1e3) return sig3(mwh / 1e3) + " GWh";
  if (a >= 1) return sig3(mwh) + " MWh";
  return sig3(mwh * 1e3) + " kWh";
}

std::string human_seconds(double s) {
  if (!std::isfinite(s)) return "-";
  const double a = std::fabs(s);
  if (a >= 2 * 86400) return sig3(s / 86400) + " days";
  if (a >= 3600) return sig3(s / 3600) + " h";
  if (a >= 60) return sig3(s / 60) + " min";
  if (a >= 1) return sig3(s) + " s";
  return sig3(s * 1e3) + " ms";
}

std::string human_percent(double f) { return std::isfinite(f) ? fmt::format("{:.1f}%", 100 * f) : "-"; }

// Each outage: name, region, kind, cause, start_ns, end_ns; training (summed over jobs, from the
// jobs' by_cause "outage: <cause>"): interruptions, lost_s (work redone), down_s, lost_tokens;
// inference (summed over the services' outage windows in its region that began inside it): arrived,
// failed, late, rerouted, and the worst ttft_p99_s beside the service's own p99 (the bump).
json planner_answers(const json& summary, const json& resolved) {
  json out = {{"outages", json::array()}, {"outage_cost", nullptr}, {"services", json::array()}};
  // The scenario's own outages, then those its failure presets bring (the quickstart's us-east-1
  // preset: a launch and a network outage), as the loader expands them.
  json all_outages = json::array();
  const json::json_pointer po("/failures/outages"), pp("/failures/presets");
  if (resolved.is_object() && resolved.contains(po) && resolved.at(po).is_array())
    for (const json& o : resolved.at(po)) all_outages.push_back(o);
  if (resolved.is_object() && resolved.contains(pp) && resolved.at(pp).is_array()) {
    if (const auto text = embedded_file("catalog/failure_presets.json")) {
      const json presets = json::parse(*text, nullptr, false);
      for (const json& name : resolved.at(pp)) {
        if (!name.is_string() || !presets.is_object() || !presets.contains("presets")) continue;
        const json& p = presets["presets"].value(name.get<std::string>(), json::object());
        if (p.contains("outages") && p["outages"].is_array())
          for (const json& o : p["outages"]) all_outages.push_back(o);
      }
    }
  }
  int index = 0;
  for (const json& o : all_outages) {
    ++index;
    if (!o.is_object()) continue;
    json a;
    const std::string kind = field_text(o, "kind", "full");
    a["name"] = field_text(o, "name", fmt::format("outage{}", index));
    a["region"] = field_text(o, "region", "");
    a["kind"] = kind;
    a["cause"] = field_text(o, "cause", kind + " outage");
    a["from"] = field_text(o, "from", "");
    const bool seconds = o.contains("duration") && o["duration"].is_number();
    a["duration"] = field_text(o, "duration", "");
    try {
      if (seconds) a["duration"] = format_duration(Duration::from_seconds(o["duration"].get<double>()));
    } catch (const std::exception&) {  // beyond the clock's range: the number as given
    }
    const auto start = start_ns(o, resolved);
    std::optional<int64_t> end;
    try {
      if (start && o.contains("duration") && o["duration"].is_string())
        end = *start + parse_duration(o["duration"].get<std::string>()).ticks();
      else if (start && seconds)
        end = *start + Duration::from_seconds(o["duration"].get<double>()).ticks();
    } catch (const std::exception&) {
    }
    // Training: the jobs' losses booked to this outage's cause.
    const std::string cause_key = "outage: " + a["cause"].get<std::string>();
    double intr = 0, lost = 0, down = 0, tokens = 0;
    bool any_job = false;
    const json::json_pointer pj = summary_pointer({TrainingSummary::key, at<&TrainingSummary::jobs>});
    const std::string by_cause(at<&TrainingJobSummary::by_cause>);
    if (summary.contains(pj) && summary.at(pj).is_object()) {
      for (const auto& [name, job] : summary.at(pj).items()) {
        if (!job.contains(by_cause) || !job[by_cause].contains(cause_key)) continue;
        const json& c = job[by_cause][cause_key];
        any_job = true;
        using L = TrainingLossSummary;
        intr += number_at(c, {at<&L::interruptions>}).value_or(0);
        lost += number_at(c, {at<&L::lost_s>}).value_or(0);
        down += number_at(c, {at<&L::down_s>}).value_or(0);
        tokens += number_at(c, {at<&L::lost_tokens>}).value_or(0);
      }
    }
    if (any_job)
      a["training"] = {{"interruptions", intr}, {"lost_s", lost}, {"down_s", down}, {"lost_tokens", tokens}};
    // Inference: the services' windows in this region that began inside the outage. Only a full
    // outage takes replicas down (a launch outage blocks new capacity, a network one slows links), so
    // the windows are booked to full outages alone, each window once.
    json services = json::array();
    const std::string inference(kInferenceSummaryKey), outages(at<&InferenceServiceSummary::outages>);
    if (start && kind == "full" && summary.contains(inference) && summary[inference].is_object()) {
      for (const auto& [name, svc] : summary[inference].items()) {
        if (!svc.contains(outages) || !svc[outages].is_array()) continue;
        double arrived = 0, failed = 0, late = 0, rerouted = 0, worst = NAN;
        bool any = false;
        using W = InferenceOutageSummary;
        const std::string region_key(at<&W::region>), start_key(at<&W::start>);
        for (const json& w : svc[outages]) {
          if (w.value(region_key, std::string()) != a["region"].get<std::string>()) continue;
          if (!w.contains(start_key) || !w[start_key].is_number_integer()) continue;
          const int64_t ws = w[start_key].get<int64_t>();
          if (ws < *start || (end && ws > *end)) continue;
          any = true;
          arrived += number_at(w, {at<&W::arrived>}).value_or(0);
          failed += number_at(w, {at<&W::failed>}).value_or(0);
          late += number_at(w, {at<&W::late>}).value_or(0);
          rerouted += number_at(w, {at<&W::rerouted>}).value_or(0);
          if (const auto p = number_at(w, {at<&W::ttft_p99_s>})) worst = std::isnan(worst) ? *p : std::max(worst, *p);
        }
        if (!any) continue;
        json s = {{"service", name}, {"arrived", arrived}, {"failed", failed}, {"late", late}, {"rerouted", rerouted}};
        if (std::isfinite(worst)) s["ttft_p99_s"] = worst;
        if (const auto p = number_at(svc, {at<&InferenceServiceSummary::ttft_s>, at<&InferenceLatency::p99>}))
          s["service_ttft_p99_s"] = *p;
        services.push_back(std::move(s));
      }
    }
    if (!services.empty()) a["inference"] = std::move(services);
    if (start) a["start_ns"] = *start;
    if (end) a["end_ns"] = *end;
    out["outages"].push_back(std::move(a));
  }
  const json::json_pointer outage_cost = summary_pointer({CostSummary::key, at<&CostSummary::outage>});
  if (summary.contains(outage_cost) && summary.at(outage_cost).is_object()) out["outage_cost"] = summary.at(outage_cost);
  const std::string inference(kInferenceSummaryKey);
  if (summary.contains(inference) && summary[inference].is_object()) {
    // The SLO target per service, from the resolved scenario (services are an array there).
    std::map<std::string, double> targets;
    const json::json_pointer ps("/inference/services");
    if (resolved.is_object() && resolved.contains(ps) && resolved.at(ps).is_array())
      for (const json& s : resolved.at(ps))
        if (s.is_object() && s.contains("name") && s.contains(json::json_pointer("/slo/target")) &&
            s.at(json::json_pointer("/slo/target")).is_number())
          targets[s["name"].get<std::string>()] = s.at(json::json_pointer("/slo/target")).get<double>();
    using S = InferenceServiceSummary;
    for (const auto& [name, svc] : summary[inference].items()) {
      json s = {{"service", name}};
      if (const auto v = number_at(svc, {at<&S::slo_attainment>})) s["slo_attainment"] = *v;
      if (targets.count(name)) s["target"] = targets[name];
      if (const auto v = number_at(svc, {at<&S::ttft_s>, at<&InferenceLatency::p99>})) s["ttft_p99_s"] = *v;
      if (const auto v = number_at(svc, {at<&S::e2e_s>, at<&InferenceLatency::p99>})) s["e2e_p99_s"] = *v;
      if (const auto v = number_at(svc, {at<&S::requests>, at<&InferenceRequestCounts::failed>})) s["failed"] = *v;
      out["services"].push_back(std::move(s));
    }
  }
  return out;
}

std::string format_answers(const json& answers) {
  std::string out;
  for (const json& a : answers["outages"]) {
    out += fmt::format("  outage      {} in {} ({}, {} from {}):", a.value("name", ""), a.value("region", ""),
                       a.value("kind", ""), a.value("duration", ""), a.value("from", ""));
    std::vector<std::string> parts;
    if (a.contains("training")) {
      const json& t = a["training"];
      parts.push_back(fmt::format("training redid {} of work ({} tokens) over {} interruption{}, down {}",
                                  human_seconds(t["lost_s"].get<double>()), human_count(t["lost_tokens"].get<double>()),
                                  human_count(t["interruptions"].get<double>()),
                                  t["interruptions"].get<double>() == 1 ? "" : "s",
                                  human_seconds(t["down_s"].get<double>())));
    }
    for (const json& s : a.value("inference", json::array())) {
      std::string bump;
      if (s.contains("ttft_p99_s"))
        bump = fmt::format(", TTFT p99 {}{}", human_seconds(s["ttft_p99_s"].get<double>()),
                           s.contains("service_ttft_p99_s")
                               ? fmt::format(" (run {})", human_seconds(s["service_ttft_p99_s"].get<double>()))
                               : std::string());
      parts.push_back(fmt::format("{}: {} requests failed, {} late, {} rerouted of {}{}", s.value("service", ""),
                                  human_count(s["failed"].get<double>()), human_count(s["late"].get<double>()),
                                  human_count(s["rerouted"].get<double>()), human_count(s["arrived"].get<double>()),
                                  bump));
    }
    if (parts.empty()) parts.push_back("no training job or service was hit");
    for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? " " : "\n              ") + parts[i];
    out += "\n";
  }
  const json& c = answers["outage_cost"];
  if (c.is_object()) {
    // The summary's cost.outage object as it stands (CostOutageSummary's keys).
    auto num = [&](std::string_view k) { return number_at(c, {k}).value_or(NAN); };
    using O = CostOutageSummary;
    out += fmt::format("  outage cost {} in all: {} capacity paid while dark, {} training work lost, {} SLO "
                       "penalties\n",
                       human_usd(num(at<&O::total_usd>)), human_usd(num(at<&O::paid_idle_usd>) + num(at<&O::paid_failed_usd>)),
                       human_usd(num(at<&O::lost_work_usd>)), human_usd(num(at<&O::slo_penalty_usd>)));
  }
  for (const json& s : answers["services"]) {
    if (!s.contains("slo_attainment")) continue;
    out += fmt::format("  SLO         {}: {} of requests met the SLO{}{}\n", s.value("service", ""),
                       human_percent(s["slo_attainment"].get<double>()),
                       s.contains("target") ? fmt::format(" (target {})", human_percent(s["target"].get<double>())) : "",
                       s.contains("failed") ? fmt::format(", {} failed", human_count(s["failed"].get<double>())) : "");
  }
  return out;
}

}  // namespace fleetsim::cli
