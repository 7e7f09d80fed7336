// SPDX-License-Identifier: Apache-2.0
// trace.json of a whole run (the quickstart: a training job, a chat service in two regions, failures
// and two overlapping outages): valid JSON, slices nest on every track, what each level shows, the
// window, and that tracing does not change the simulation.
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"

#include "tests/support/files.hpp"
#include "tests/support/trace_check.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <set>

using namespace fleetsim;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

const Scenario& quickstart() {
  static const Scenario s = load_scenario(FLEETSIM_SOURCE_DIR "/scenarios/quickstart.json");
  return s;
}

struct Traced {
  json trace;
  json summary;
  std::string summary_text;
};

Traced run(TraceLevel level, SimTime from = SimTime::zero(), SimTime to = SimTime::max()) {
  const test::TempDir tmp("translator");
  SimulationOptions opt;
  opt.directory = tmp.path;
  opt.trace_level = level;
  opt.trace_from = from;
  opt.trace_to = to;
  const SimulationResult r = simulate(quickstart(), opt);
  Traced t;
  t.summary = r.summary;
  t.summary_text = test::read_all(tmp.path / "summary.json");
  if (fs::exists(tmp.path / "trace.json")) t.trace = json::parse(test::read_all(tmp.path / "trace.json"));
  return t;
}

// Names of the slices on the track called `track` (any process).
std::vector<std::string> slices_on(const json& trace, const std::string& track) {
  std::set<std::pair<int64_t, int64_t>> ids;
  for (const auto& e : test::trace_events(trace, "M"))
    if (e["name"] == "thread_name" && e["args"]["name"] == track) ids.insert({e["pid"].get<int64_t>(), e["tid"].get<int64_t>()});
  std::vector<std::string> names;
  for (const auto& e : test::trace_events(trace, "X"))
    if (ids.count({e["pid"].get<int64_t>(), e["tid"].get<int64_t>()})) names.push_back(e["name"]);
  return names;
}

size_t count_prefix(const std::vector<std::string>& v, const std::string& prefix) {
  size_t n = 0;
  for (const auto& s : v) n += s.starts_with(prefix) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("trace: the quickstart's jobs, failures and outages, every track nested", "[trace]") {
  const Traced t = run(TraceLevel::Jobs);
  REQUIRE(t.trace.is_object());
  CHECK(test::nesting_problems(t.trace).empty());
  CHECK(t.trace["otherData"]["scenario"] == "quickstart");
  CHECK(t.trace["otherData"]["trace_level"] == "jobs");

  // The job's states: one running slice per resume, one interrupted slice per interruption.
  const auto job = slices_on(t.trace, "llm-70b");
  const auto& counts = t.summary["events_published"];
  CHECK(count_prefix(job, "running") == counts["training_resume"].get<size_t>());
  CHECK(count_prefix(job, "interrupted: ") == counts["training_interrupt"].get<size_t>());
  CHECK(count_prefix(job, "starting") == 1);

  // Component failures are instants at level all only; here only those that hit the job show, as
  // its interrupted slices (counted above).
  size_t failures = 0;
  for (const auto& e : test::trace_events(t.trace, "i")) failures += e["cat"] == "failure" ? 1 : 0;
  CHECK(failures == 0);

  // The four us-east-1 outages of 2025-10-20 (the preset's launch and network ones, the quickstart's
  // full ones of the region and of its serving zone) overlap in time, so they sit on three lanes.
  std::set<int64_t> outage_tids;
  size_t outages = 0;
  for (const auto& e : test::trace_events(t.trace, "X")) {
    if (e["cat"] != "outage") continue;
    ++outages;
    outage_tids.insert(e["tid"].get<int64_t>());
    CHECK(e["pid"] == test::trace_pid(t.trace, "region us-east-1"));
  }
  CHECK(outages == 4);
  CHECK(outage_tids.size() == 3);

  // The chat service serves in both regions; replica and GPU counters exist.
  // In us-east-1 it is down through the two full outages (the region's, then its serving zone's), so
  // it serves there in three spans; in us-west-2 in one.
  CHECK(count_prefix(slices_on(t.trace, "service chat"), "serving") == 4);
  CHECK(count_prefix(slices_on(t.trace, "service chat"), "down") == 2);
  std::set<std::string> counters;
  for (const auto& e : test::trace_events(t.trace, "C")) counters.insert(e["name"]);
  CHECK(counters.count("H100 GPUs") == 1);
  CHECK(counters.count("chat replicas") == 1);
}

TEST_CASE("trace: levels choose what is written", "[trace]") {
  const Traced none = run(TraceLevel::None);
  CHECK(none.trace.is_null());  // no trace.json at all

  const Traced summary = run(TraceLevel::Summary);
  CHECK(test::trace_pid(summary.trace, "training jobs") == -1);
  CHECK(test::trace_events(summary.trace, "i").empty());
  CHECK(test::trace_events(summary.trace, "X").size() == 4);  // the four outages only
  CHECK_FALSE(test::trace_events(summary.trace, "C").empty());

  const Traced jobs = run(TraceLevel::Jobs);
  const Traced all = run(TraceLevel::All);
  CHECK(test::nesting_problems(all.trace).empty());
  CHECK(all.trace["traceEvents"].size() > jobs.trace["traceEvents"].size());
  CHECK(jobs.trace["traceEvents"].size() > summary.trace["traceEvents"].size());
  size_t repairs = 0, failures = 0;
  for (const auto& e : test::trace_events(all.trace, "i")) {
    repairs += e["cat"] == "repair" ? 1 : 0;
    failures += e["cat"] == "failure" ? 1 : 0;
  }
  CHECK(repairs == all.summary["events_published"]["repair"].get<size_t>());
  CHECK(failures == all.summary["events_published"]["failure"].get<size_t>());

  // Tracing only listens: the simulation and its summary are the same at every level.
  CHECK(none.summary_text == summary.summary_text);
  CHECK(none.summary_text == all.summary_text);
}

TEST_CASE("trace: the window keeps only what overlaps it, clipped", "[trace]") {
  const SimTime from = SimTime::zero() + Duration::days(19) + Duration::hours(12);
  const SimTime to = SimTime::zero() + Duration::days(20);
  const Traced t = run(TraceLevel::All, from, to);
  CHECK(test::nesting_problems(t.trace).empty());
  size_t outages = 0;
  for (const auto& e : t.trace["traceEvents"]) {
    if (e["ph"] == "M") continue;
    const int64_t a = test::trace_ns(e["ts"]);
    CHECK(a >= from.ticks());
    CHECK(a <= to.ticks());
    if (e["ph"] == "X") {
      CHECK(a + test::trace_ns(e["dur"]) <= to.ticks());
      if (e["cat"] == "outage") ++outages;
    }
  }
  // The launch outage (19d9h25m to 19d17h35m48s) began before the window: clipped to start at it. The
  // network outage and the serving zone's full one (both 19d12h30m to 19d21h09m) lie inside; the
  // region's full outage (19d6h48m to 19d9h40m) ended before it.
  CHECK(outages == 3);
  bool clipped = false;
  for (const auto& e : test::trace_events(t.trace, "X"))
    if (e["name"] == "outage launch") clipped = test::trace_ns(e["ts"]) == from.ticks();
  CHECK(clipped);
  // The training job was running through the window: one slice covering all of it.
  const auto job = slices_on(t.trace, "llm-70b");
  REQUIRE(job.size() == 1);
  CHECK(job[0] == "running");
}

TEST_CASE("trace: a straggler process's episodes each close the slice they opened", "[trace]") {
  // A straggler process on the quickstart's nodes: every episode opens a slice on a stragglers lane
  // it holds (by process and component) until the episode's end, so the slices nest, number the
  // episodes, and each ends when its component recovers rather than at the end of the trace.
  Scenario s = quickstart();
  ProcessSpec p;
  p.name = "slow-nodes";
  p.cls = ComponentClass::Node;
  p.lifetime = LifetimeSpec::exponential_mtbf(200.0 * 3600.0);
  p.repair = RepairSpec::fixed(2.0 * 3600.0);
  p.slowdown = 1.2;
  s.failures.processes.push_back(p);
  const test::TempDir tmp("translator-stragglers");
  SimulationOptions opt;
  opt.directory = tmp.path;
  opt.trace_level = TraceLevel::All;
  const SimulationResult r = simulate(s, opt);
  const json trace = json::parse(test::read_all(tmp.path / "trace.json"));
  CHECK(test::nesting_problems(trace).empty());
  const size_t episodes = r.summary["events_published"]["straggler_start"].get<size_t>();
  REQUIRE(episodes > 2);
  size_t slices = 0, two_hours = 0;
  std::vector<double> cut_at;  // ends of the slices shorter than an episode
  double last_end = 0;
  for (const auto& e : test::trace_events(trace, "X")) {
    if (e["cat"] != "straggler") continue;
    ++slices;
    const double end = e["ts"].get<double>() + e["dur"].get<double>();
    last_end = std::max(last_end, end);
    // An episode ended inside the run lasts its repair time, 2 h (7.2e9 us).
    if (std::abs(e["dur"].get<double>() - 7.2e9) < 1.0) ++two_hours;
    else cut_at.push_back(end);
  }
  CHECK(slices == episodes);
  CHECK(two_hours > slices / 2);
  // The others are the episodes still open when the run ends: cut there, all at the same instant.
  CHECK(cut_at.size() < 16);
  for (double end : cut_at) CHECK(end == Approx(last_end).margin(1.0));
}
