// SPDX-License-Identifier: Apache-2.0
// The data behind report.html, read from a run directory's files (docs/report.md).
#include "tools/fleetsim/report.hpp"

#include "models/cost/cost_records.hpp"
#include "models/failures/failure_records.hpp"
#include "models/inference/inference_records.hpp"
#include "models/training/training_records.hpp"
#include "tools/run/failure_counts.hpp"
#include "sim/atomic_file.hpp"
#include "tools/fleetsim/answers.hpp"
#include "tools/fleetsim/csv_read.hpp"
#include "sim/time.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

namespace fleetsim::cli {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The files, columns, event kinds and summary keys read here are named by the records that write
// them (sim/record.hpp): col<&CostSample::total_usd> is "total_usd", and a member without a field
// does not compile, so the report cannot drift from what the models publish.
template <auto Member>
inline constexpr std::string_view col = member_name<Member>();
std::string csv_name(std::string_view table) { return std::string(table) + ".csv"; }
// A summary key or an events.jsonl field name as nlohmann's object key.
std::string json_key(std::string_view k) { return std::string(k); }

struct Point {
  int64_t t_ns;
  double v;
};

enum class Keep { MinMax, Last };

// At most two points per bucket (min and max, in time order) for levels, one (the last) for running
// totals. Series already short enough are kept whole.
std::vector<Point> downsample(const std::vector<Point>& pts, int64_t span_ns, Keep keep) {
  if (pts.size() <= static_cast<size_t>(2 * kReportBuckets) || span_ns <= 0) return pts;
  const int64_t width = std::max<int64_t>(1, span_ns / kReportBuckets);
  std::vector<Point> out;
  size_t i = 0;
  while (i < pts.size()) {
    const int64_t bucket = pts[i].t_ns / width;
    size_t lo = i, hi = i, last = i;
    bool any = false;  // a finite value: NaN (no value, drawn as a gap) is kept only for a bucket of NaNs
    bool gap = false;  // a NaN among finite values: a NaN point after them, so the chart breaks there
    for (; i < pts.size() && pts[i].t_ns / width == bucket; ++i) {
      last = i;
      if (std::isnan(pts[i].v)) {
        gap = true;
        continue;
      }
      if (!any || pts[i].v < pts[lo].v) lo = i;
      if (!any || pts[i].v > pts[hi].v) hi = i;
      any = true;
    }
    if (keep == Keep::Last) {
      out.push_back(pts[last]);
    } else if (!any) {
      out.push_back(pts[lo]);
    } else {
      out.push_back(pts[std::min(lo, hi)]);
      if (lo != hi) out.push_back(pts[std::max(lo, hi)]);
    }
    if (gap && any && keep == Keep::MinMax) out.push_back({bucket * width, NAN});
  }
  return out;
}

// Five significant digits: what a chart can show, at a third of the text.
json round5(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::stod(fmt::format("{:.5g}", v));
}

json series_json(const std::string& name, const std::vector<Point>& pts, int64_t span_ns, Keep keep) {
  json t = json::array(), v = json::array();
  for (const auto& p : downsample(pts, span_ns, keep)) {
    t.push_back(p.t_ns / 1'000'000'000);  // whole seconds are plenty for a chart
    v.push_back(round5(p.v));
  }
  return json{{"name", name}, {"t", std::move(t)}, {"v", std::move(v)}};
}

using SeriesMap = std::map<std::string, std::vector<Point>>;  // sorted: stable legend order

json series_list(const SeriesMap& m, int64_t span_ns, Keep keep) {
  json out = json::array();
  for (const auto& [name, pts] : m) out.push_back(series_json(name, pts, span_ns, keep));
  return out;
}

json empty_chart(std::string reason) { return json{{"empty", std::move(reason)}}; }

json utilization_chart(const fs::path& dir, int64_t span) {
  using U = FleetStateSample;
  CsvReader r(dir / csv_name(U::table));
  if (!r.ok() || !r.has({col<&U::time>, col<&U::region>, col<&U::accelerator>, col<&U::gpus_installed>, col<&U::gpus_usable>}))
    return empty_chart("no utilization.csv in this run");
  const size_t t = r.column(col<&U::time>), reg = r.column(col<&U::region>), acc = r.column(col<&U::accelerator>),
               inst = r.column(col<&U::gpus_installed>), use = r.column(col<&U::gpus_usable>);
  SeriesMap usable;
  while (r.next()) {
    const double installed = r.number(inst);
    if (!(installed > 0)) continue;
    usable[std::string(r.text(reg)) + " " + std::string(r.text(acc))].push_back(
        {r.integer(t), r.number(use) / installed});
  }
  // Busy GPUs come from the cost model's table, when the run has one.
  SeriesMap busy;
  using C = CostSample;
  CsvReader c(dir / csv_name(C::table));
  if (c.ok() && c.has({col<&C::time>, col<&C::region>, col<&C::accelerator>, col<&C::gpus_busy>, col<&C::gpus_paid>})) {
    const size_t ct = c.column(col<&C::time>), creg = c.column(col<&C::region>), cacc = c.column(col<&C::accelerator>),
                 cbusy = c.column(col<&C::gpus_busy>), cpaid = c.column(col<&C::gpus_paid>);
    while (c.next()) {
      const double paid = c.number(cpaid);
      if (!(paid > 0)) continue;
      busy[std::string(c.text(creg)) + " " + std::string(c.text(cacc)) + " busy"].push_back(
          {c.integer(ct), c.number(cbusy) / paid});
    }
  }
  if (usable.empty() && busy.empty()) return empty_chart("utilization.csv has no rows");
  return json{{"usable", series_list(usable, span, Keep::MinMax)}, {"busy", series_list(busy, span, Keep::MinMax)}};
}

json cost_chart(const fs::path& dir, int64_t span) {
  using C = CostSample;
  CsvReader c(dir / csv_name(C::table));
  if (!c.ok()) return empty_chart("no cost model in this run");
  if (!c.has({col<&C::time>, col<&C::cumulative_usd>})) return empty_chart("cost.csv has no cumulative_usd column");
  const size_t t = c.column(col<&C::time>), cum = c.column(col<&C::cumulative_usd>),
               plan = c.column(col<&C::commitment_plan_usd>), fleet = c.column(col<&C::fleet_cumulative_usd>);
  // Per instant: the fleet's spend (fleet_cumulative_usd, the same in every row of an instant, when
  // the table has it; else cumulative_usd summed over the (region, accelerator) rows). The plan is
  // fleet-wide when every row of an instant carries the same value (counted once; the cost model
  // writes it so), a per-row share otherwise (summed).
  struct At {
    double spend = 0, fleet_spend = NAN, plan_sum = 0, plan_first = NAN;
    bool plan_same = true, any_plan = false;
  };
  std::map<int64_t, At> at;
  while (c.next()) {
    At& a = at[c.integer(t)];
    const double s = c.number(cum);
    if (std::isfinite(s)) a.spend += s;
    if (fleet != CsvReader::npos && std::isnan(a.fleet_spend)) a.fleet_spend = c.number(fleet);
    if (plan != CsvReader::npos) {
      const double p = c.number(plan);
      if (!std::isfinite(p)) continue;
      if (!a.any_plan) a.plan_first = p;
      else if (p != a.plan_first) a.plan_same = false;
      a.any_plan = true;
      a.plan_sum += p;
    }
  }
  if (at.empty()) return empty_chart("cost.csv has no rows");
  std::vector<Point> spend, planned;
  for (const auto& [time, a] : at) {
    spend.push_back({time, std::isfinite(a.fleet_spend) ? a.fleet_spend : a.spend});
    if (a.any_plan) planned.push_back({time, a.plan_same ? a.plan_first : a.plan_sum});
  }
  json series = json::array();
  series.push_back(series_json("cumulative spend", spend, span, Keep::Last));
  if (!planned.empty()) series.push_back(series_json("commitment plan", planned, span, Keep::Last));
  return json{{"series", std::move(series)}};
}

// Past this many jobs the training chart draws one line per group of jobs, not per job: with one line
// and one target per job, the 38B flagship's 88 jobs with samples made a legend of 176 entries and a
// chart nobody could read.
constexpr size_t kTrainingJobLines = 12;

// The group a job belongs to: its name without a trailing number and the separator before it
// ("research-07" and "research-12": "research"; "run-3": "run"); a name that is all digits, or has
// none at the end, is its own group.
std::string job_group(const std::string& name) {
  size_t end = name.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(name[end - 1]))) --end;
  if (end == name.size() || end == 0) return name;
  while (end > 0 && (name[end - 1] == '-' || name[end - 1] == '_' || name[end - 1] == '.')) --end;
  return end == 0 ? name : name.substr(0, end);
}

// Sums the members' running totals at every time any of them has a sample: each member counts with its
// last sample at or before that time (0 before its first).
std::vector<Point> sum_of_totals(const std::vector<const std::vector<Point>*>& members) {
  struct Step {
    int64_t t;
    size_t member;
    double v;
  };
  std::vector<Step> steps;
  for (size_t k = 0; k < members.size(); ++k)
    for (const Point& p : *members[k]) steps.push_back({p.t_ns, k, std::isfinite(p.v) ? p.v : 0.0});
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.t < b.t; });
  std::vector<double> now(members.size(), 0.0);
  std::vector<Point> out;
  double total = 0;
  for (size_t i = 0; i < steps.size(); ++i) {
    total += steps[i].v - now[steps[i].member];
    now[steps[i].member] = steps[i].v;
    if (i + 1 == steps.size() || steps[i + 1].t != steps[i].t) out.push_back({steps[i].t, total});
  }
  return out;
}

json training_chart(const fs::path& dir, int64_t span, const json& summary) {
  using T = TrainingSample;
  CsvReader r(dir / csv_name(T::table));
  if (!r.ok()) return empty_chart("no training jobs in this run");
  if (!r.has({col<&T::time>, col<&T::job>, col<&T::tokens_committed>})) return empty_chart("training.csv lacks tokens_committed");
  const size_t t = r.column(col<&T::time>), job = r.column(col<&T::job>), tok = r.column(col<&T::tokens_committed>);
  SeriesMap m;
  while (r.next()) m[std::string(r.text(job))].push_back({r.integer(t), r.number(tok)});
  if (m.empty()) return empty_chart("training.csv has no rows");
  // Each job's target from the summary (NaN when it has none).
  const std::string jobs_key = json_key(col<&TrainingSummary::jobs>), target_key = json_key(col<&TrainingJobSummary::tokens_target>);
  const auto training = summary.find(json_key(TrainingSummary::key));
  const auto target_of = [&](const std::string& name) -> double {
    if (training == summary.end() || !training->contains(jobs_key) || !(*training)[jobs_key].contains(name)) return NAN;
    const json& j = (*training)[jobs_key][name];
    return j.contains(target_key) && j[target_key].is_number() ? j[target_key].get<double>() : NAN;
  };
  if (m.size() <= kTrainingJobLines) {
    json series = series_list(m, span, Keep::Last);
    for (auto& s : series)
      if (const double target = target_of(s["name"].get<std::string>()); std::isfinite(target)) s["target"] = target;
    return json{{"series", std::move(series)}, {"jobs", m.size()}};
  }
  std::map<std::string, std::vector<std::string>> groups;  // sorted: stable legend order
  for (const auto& [name, pts] : m) groups[job_group(name)].push_back(name);
  json series = json::array();
  for (const auto& [group, names] : groups) {
    std::vector<const std::vector<Point>*> members;
    double target = 0;
    for (const std::string& n : names) {
      members.push_back(&m.at(n));
      target += target_of(n);  // NaN if any member has none: then the group has no target line
    }
    const std::string label = names.size() == 1 ? names.front() : fmt::format("{} ({} jobs)", group, names.size());
    json s = series_json(label, names.size() == 1 ? m.at(names.front()) : sum_of_totals(members), span, Keep::Last);
    if (std::isfinite(target)) s["target"] = target;
    series.push_back(std::move(s));
  }
  return json{{"series", std::move(series)}, {"jobs", m.size()}, {"grouped", true}};
}

// Latency (p99 TTFT and end-to-end) and SLO attainment per interval, per (service, region).
std::pair<json, json> inference_charts(const fs::path& dir, int64_t span) {
  using I = InferenceSample;
  CsvReader r(dir / csv_name(I::table));
  if (!r.ok()) return {empty_chart("no inference services in this run"), empty_chart("no inference services in this run")};
  if (!r.has({col<&I::time>, col<&I::service>, col<&I::region>, col<&I::ttft_p99_s>, col<&I::e2e_p99_s>,
              col<&I::completed>, col<&I::late>, col<&I::failed>}))
    return {empty_chart("inference.csv lacks latency columns"), empty_chart("inference.csv lacks SLO columns")};
  const size_t t = r.column(col<&I::time>), svc = r.column(col<&I::service>), reg = r.column(col<&I::region>),
               ttft = r.column(col<&I::ttft_p99_s>), e2e = r.column(col<&I::e2e_p99_s>),
               done = r.column(col<&I::completed>), late = r.column(col<&I::late>), failed = r.column(col<&I::failed>);
  SeriesMap ttft_series, e2e_series, slo;
  bool any_latency = false;
  while (r.next()) {
    const std::string key = std::string(r.text(svc)) + " " + std::string(r.text(reg));
    const int64_t time = r.integer(t);
    // An empty field (nothing completed in the interval: a dark region) is kept as a gap, drawn as a
    // break in the line rather than a dive to 0 (issue 18 defect 3).
    const double a = r.number(ttft), b = r.number(e2e);
    ttft_series[key].push_back({time, std::isfinite(a) ? a : NAN});
    e2e_series[key].push_back({time, std::isfinite(b) ? b : NAN});
    any_latency = any_latency || std::isfinite(a) || std::isfinite(b);
    // The inference model's definition (docs/inference.md): (completed - late) / (completed + failed).
    const double c = r.number(done), l = r.number(late), f = r.number(failed);
    if (c + f > 0) slo[key].push_back({time, (c - l) / (c + f)});
  }
  json lat = !any_latency ? empty_chart("inference.csv has no latency samples")
                          : json{{"ttft", series_list(ttft_series, span, Keep::MinMax)},
                                 {"e2e", series_list(e2e_series, span, Keep::MinMax)}};
  json att = slo.empty() ? empty_chart("no requests were served") : json{{"series", series_list(slo, span, Keep::MinMax)}};
  return {lat, att};
}

// Up to this many training interruptions are marked one by one; more are counted per time bucket.
constexpr size_t kMaxInterruptMarks = 2000;

// The kind of an events.jsonl line: the text after its first "kind":" (a quote inside a string value
// is escaped, so that is the key), empty if none.
std::string_view line_kind(std::string_view line) {
  constexpr std::string_view key = "\"kind\":\"";
  const size_t at = line.find(key);
  if (at == std::string_view::npos) return {};
  const size_t from = at + key.size();
  const size_t to = line.find('"', from);
  return to == std::string_view::npos ? std::string_view{} : line.substr(from, to - from);
}

// A string field's text as the recorder writes it (,"key":"text"), when the text has no escape;
// nullopt otherwise (absent, not a string, or escaped: the caller then parses the line in full).
std::optional<std::string_view> plain_text_field(std::string_view line, std::string_view key) {
  std::string pattern = ",\"";
  pattern += key;
  pattern += "\":\"";
  const size_t at = line.find(pattern);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t from = at + pattern.size();
  const size_t to = line.find('"', from);
  if (to == std::string_view::npos) return std::nullopt;
  const std::string_view text = line.substr(from, to - from);
  if (text.find('\\') != std::string_view::npos) return std::nullopt;
  return text;
}

// What the timeline needs of a training_interrupt line, read without building a JSON tree: a 7-year
// fleet run writes hundreds of thousands of them, and parsing each into a tree was most of the
// report's time. Only the recorder's own form is read this way ({"time_ns":<integer>,... with job
// and cause as plain strings); anything else gives nullopt and is parsed in full, as before.
struct InterruptLine {
  int64_t time_ns = 0;
  std::string_view job, cause;
};
std::optional<InterruptLine> read_interrupt_line(std::string_view line) {
  constexpr std::string_view head = "{\"time_ns\":";
  if (!line.starts_with(head) || !line.ends_with('}')) return std::nullopt;
  InterruptLine out;
  const char* first = line.data() + head.size();
  const char* last = line.data() + line.size();
  const auto [end, ec] = std::from_chars(first, last, out.time_ns);
  if (ec != std::errc() || end == last || *end != ',') return std::nullopt;
  const auto job = plain_text_field(line, col<&TrainingInterrupt::job>);
  const auto cause = plain_text_field(line, col<&TrainingInterrupt::cause>);
  if (!job || !cause) return std::nullopt;
  out.job = *job;
  out.cause = *cause;
  return out;
}

// Outages as bars, failures counted per bucket, training interrupts as marks; one lane per region.
json timeline_chart(const fs::path& dir, int64_t span) {
  std::ifstream in(dir / "events.jsonl", std::ios::binary);
  using N = FailureCountRow;
  CsvReader counted(dir / csv_name(N::table));
  const bool have_counts =
      counted.ok() && counted.has({col<&N::time_ns>, col<&N::region>, col<&N::component_class>, col<&N::failures>});
  if (!in && !have_counts) return empty_chart("no events.jsonl or failure_counts.csv in this run");
  const int64_t width = std::max<int64_t>(1, span / kReportBuckets);
  struct Lane {
    std::map<int64_t, int> failures;  // bucket -> count
    json outages = json::array();
    std::map<std::string, std::pair<int64_t, json>> open;  // outage name -> start, label
  };
  std::map<std::string, Lane> lanes;
  json interrupts = json::array();
  // Interruptions per (bucket, job), for runs with too many to mark one by one (a 7-year run at
  // Llama 3 rates has over 100k): one mark per bucket and job keeps the page small.
  std::map<std::pair<int64_t, std::string>, int> interrupts_bucketed;
  std::map<std::string, int> by_class;
  // Failures per bucket, region and class as the run counted them while it published them
  // (tools/run/failure_counts.hpp): events.jsonl holds every failure only at --events all, and a
  // 7-year fleet has hundreds of thousands. Runs without the table fall back to events.jsonl.
  if (have_counts) {
    const size_t t = counted.column(col<&N::time_ns>), reg = counted.column(col<&N::region>),
                 cls = counted.column(col<&N::component_class>), n = counted.column(col<&N::failures>);
    while (counted.next()) {
      const auto count = static_cast<int>(counted.integer(n));
      lanes[std::string(counted.text(reg))].failures[counted.integer(t) / width] += count;
      by_class[std::string(counted.text(cls))] += count;
    }
  }
  std::string line;
  auto region_of = [](const std::string& path) { return path.substr(0, path.find('/')); };
  while (in && std::getline(in, line)) {
    // Only the kinds drawn here are parsed; the rest (repairs, checkpoints ...) are skipped unread.
    const std::string_view kind_text = line_kind(line);
    const bool fail = !have_counts && kind_text == ComponentFailure::kind;
    const bool outage = kind_text == OutageStart::kind || kind_text == OutageEnd::kind;
    const bool intr = kind_text == TrainingInterrupt::kind;
    if (!fail && !outage && !intr) continue;
    if (intr) {
      if (const auto i = read_interrupt_line(line)) {
        ++interrupts_bucketed[{i->time_ns / width, std::string(i->job)}];
        if (interrupts.size() <= kMaxInterruptMarks) {
          std::string label(i->job);
          label += ": ";
          label += i->cause;
          interrupts.push_back(json::array({i->time_ns / 1'000'000'000, std::move(label)}));
        }
        continue;
      }
    }
    const json e = json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.contains("time_ns") || !e["time_ns"].is_number_integer()) continue;
    try {
      const int64_t t = e["time_ns"].get<int64_t>();
      const std::string kind = e.value("kind", "");
      // Every kind drawn here names its component "path" and its outage "outage" alike.
      static_assert(col<&ComponentFailure::path> == col<&OutageStart::path> && col<&OutageStart::path> == col<&OutageEnd::path>);
      static_assert(col<&OutageStart::outage> == col<&OutageEnd::outage>);
      const std::string path = e.value(json_key(col<&OutageStart::path>), "");
      if (kind == ComponentFailure::kind) {
        ++lanes[region_of(path)].failures[t / width];
        ++by_class[e.value(json_key(col<&ComponentFailure::component_class>), "other")];
      } else if (kind == OutageStart::kind) {
        lanes[region_of(path)].open[e.value(json_key(col<&OutageStart::outage>), path)] = {
            t, e.value(json_key(col<&OutageStart::outage_kind>), "") + " outage: " + e.value(json_key(col<&OutageStart::cause>), "") +
                   " (" + path + ")"};
      } else if (kind == OutageEnd::kind) {
        Lane& l = lanes[region_of(path)];
        auto it = l.open.find(e.value(json_key(col<&OutageEnd::outage>), path));
        if (it != l.open.end()) {
          l.outages.push_back(json::array({it->second.first / 1'000'000'000, t / 1'000'000'000, it->second.second}));
          l.open.erase(it);
        }
      } else if (kind == TrainingInterrupt::kind) {
        const std::string job = e.value(json_key(col<&TrainingInterrupt::job>), "");
        ++interrupts_bucketed[{t / width, job}];
        if (interrupts.size() <= kMaxInterruptMarks)
          interrupts.push_back(json::array({t / 1'000'000'000, job + ": " + e.value(json_key(col<&TrainingInterrupt::cause>), "")}));
      }
    } catch (const json::exception&) {
      continue;  // a field of an unexpected type (another tool's line): not drawn
    }
  }
  if (interrupts.size() > kMaxInterruptMarks) {
    interrupts = json::array();
    for (const auto& [key, n] : interrupts_bucketed)
      interrupts.push_back(json::array({key.first * width / 1'000'000'000,
                                        fmt::format("{}: {} interruption{}", key.second, n, n == 1 ? "" : "s"), n}));
  }
  json out_lanes = json::array();
  for (auto& [name, l] : lanes) {
    for (auto& [oname, o] : l.open)  // still open when the run ended
      l.outages.push_back(json::array({o.first / 1'000'000'000, span / 1'000'000'000, o.second}));
    json f = json::array();
    for (const auto& [b, n] : l.failures) f.push_back(json::array({b * width / 1'000'000'000, n}));
    out_lanes.push_back(json{{"name", name}, {"outages", l.outages}, {"failures", f}});
  }
  if (out_lanes.empty() && interrupts.empty()) return empty_chart("no failures, outages or interruptions in this run");
  return json{{"lanes", out_lanes}, {"interrupts", interrupts}, {"bucket_s", width / 1'000'000'000.0},
              {"by_class", by_class}};
}

}  // namespace

std::string build_report_data(const fs::path& dir, const std::string* summary_text) {
  std::stringstream text;
  if (summary_text) {
    text << *summary_text;
  } else {
    std::ifstream sin(dir / "summary.json", std::ios::binary);
    if (!sin)
      throw ReportInputError(fmt::format("{}: no summary.json (not the directory of a finished run)", dir.string()));
    text << sin.rdbuf();
  }
  const json summary = json::parse(text.str(), nullptr, false);
  if (summary.is_discarded() || !summary.is_object())
    throw ReportInputError(fmt::format("{}: summary.json is not a JSON object", (dir / "summary.json").string()));
  if (!summary.contains("simulated_until_ns") || !summary["simulated_until_ns"].is_number_integer())
    throw ReportInputError(fmt::format("{}: summary.json has no integer \"simulated_until_ns\"",
                                       (dir / "summary.json").string()));
  const int64_t span = summary["simulated_until_ns"].get<int64_t>();
  json resolved = json::object();
  if (std::ifstream rin(dir / "resolved.json", std::ios::binary); rin) {
    std::stringstream rtext;
    rtext << rin.rdbuf();
    resolved = json::parse(rtext.str(), nullptr, false);
    if (resolved.is_discarded()) resolved = json::object();
  }
  json data;
  data["summary"] = summary;
  data["answers"] = planner_answers(summary, resolved);
  if (resolved.contains("start") && resolved["start"].is_string()) data["start"] = resolved["start"];
  // Each service's TTFT objective (slo.ttft, a duration text or seconds), drawn on the latency chart.
  json slo_ttft = json::object();
  const json::json_pointer services("/inference/services");
  if (resolved.contains(services) && resolved.at(services).is_array()) {
    for (const json& sv : resolved.at(services)) {
      if (!sv.is_object() || !sv.contains("name") || !sv.contains(json::json_pointer("/slo/ttft"))) continue;
      const json& v = sv.at(json::json_pointer("/slo/ttft"));
      try {
        if (v.is_number()) slo_ttft[sv["name"].get<std::string>()] = v.get<double>();
        else if (v.is_string()) slo_ttft[sv["name"].get<std::string>()] = parse_duration(v.get<std::string>()).seconds();
      } catch (const std::exception&) {
        // an unreadable objective is simply not drawn
      }
    }
  }
  data["slo_ttft_s"] = std::move(slo_ttft);
  data["span_s"] = span / 1'000'000'000;
  data["charts"]["utilization"] = utilization_chart(dir, span);
  data["charts"]["cost"] = cost_chart(dir, span);
  data["charts"]["training"] = training_chart(dir, span, summary);
  auto [latency, slo] = inference_charts(dir, span);
  data["charts"]["latency"] = std::move(latency);
  data["charts"]["slo"] = std::move(slo);
  data["charts"]["timeline"] = timeline_chart(dir, span);
  data["charts"]["links"] = links_chart(dir, span);
  return data.dump(-1, ' ', false, json::error_handler_t::replace);
}

void write_report(const fs::path& run_dir, const fs::path& out, const std::string* summary_text) {
  const std::string page = render_report_page(build_report_data(run_dir, summary_text));
  write_file_atomically(out.empty() ? run_dir / "report.html" : out, page);
}

}  // namespace fleetsim::cli
