// SPDX-License-Identifier: Apache-2.0
// The trace and report options of `fleetsim run` and the `fleetsim report` command: bad values,
// what is written by default and on request, determinism, exit codes. (Rendering in a browser is
// tests/report_check.py.)
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <vector>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using fleetsim::test::read_all;
using fleetsim::test::TempDir;
using json = nlohmann::json;

namespace {

struct Result {
  int code = -1;
  std::string err;
};

Result run_fleetsim(const std::string& args, const TempDir& tmp) {
  const auto err = tmp.path / "stderr.txt";
  const std::string cmd =
      fmt::format("cd '{}' && '{}' {} >/dev/null 2>'{}'", FLEETSIM_SOURCE_DIR, FLEETSIM_EXE, args, err.string());
  const int status = std::system(cmd.c_str());
  return Result{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_all(err)};
}

// Failures only: no training, no inference, no cost model.
const char* const kSmall = R"({"name": "small", "seed": 3, "start": "2025-10-01T00:00:00Z", "horizon": "20d",
  "fleet": {"regions": [{"name": "us-east-1", "zones": [{"name": "az1", "datacenters": [
    {"name": "dc1", "instance": "p5.48xlarge", "nodes": 64}]}]}]},
  "failures": {"presets": ["llama3-405b"]}})";

// The data the page carries (the JSON inside <script id="data">).
json report_data(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"data\">";
  const size_t a = page.find(open);
  const size_t b = page.find("</script>", a);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  return json::parse(page.substr(a + open.size(), b - a - open.size()));
}

// Runs kSmall into tmp/out without a report: the run directory that tests then edit and report on.
fs::path small_run_without_report(const TempDir& tmp) {
  std::ofstream(tmp.path / "s.json") << kSmall;
  const fs::path out = tmp.path / "out";
  REQUIRE(run_fleetsim(fmt::format("run {} -o {} -q --no-report", (tmp.path / "s.json").string(), out.string()), tmp)
              .code == 0);
  return out;
}

}  // namespace

TEST_CASE("cli report: bad trace options are usage errors", "[cli]") {
  TempDir tmp("clireport");
  std::ofstream(tmp.path / "s.json") << kSmall;
  const std::string s = (tmp.path / "s.json").string();
  const std::string out = (tmp.path / "out").string();
  auto r = run_fleetsim(fmt::format("run {} -o {} --trace-level verbose", s, out), tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--trace-level expects none, summary, jobs or all, got \"verbose\""));
  r = run_fleetsim(fmt::format("run {} -o {} --trace-from soon", s, out), tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("--trace-from/--trace-to expect a time"));
  r = run_fleetsim(fmt::format("run {} -o {} --trace-from 2d --trace-to 1d", s, out), tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("before --trace-from"));
  CHECK_FALSE(fs::exists(tmp.path / "out" / "summary.json"));
}

TEST_CASE("cli report: a run writes trace.json and report.html by default, byte-identical on rerun", "[cli]") {
  TempDir tmp("clireport");
  std::ofstream(tmp.path / "s.json") << kSmall;
  const std::string s = (tmp.path / "s.json").string();
  REQUIRE(run_fleetsim(fmt::format("run {} -o {} -q", s, (tmp.path / "a").string()), tmp).code == 0);
  REQUIRE(run_fleetsim(fmt::format("run {} -o {} -q", s, (tmp.path / "b").string()), tmp).code == 0);
  for (const char* f : {"trace.json", "report.html"}) {
    INFO(f);
    REQUIRE(fs::exists(tmp.path / "a" / f));
    CHECK(read_all(tmp.path / "a" / f) == read_all(tmp.path / "b" / f));
  }
  const json trace = json::parse(read_all(tmp.path / "a" / "trace.json"));
  CHECK(trace["otherData"]["trace_level"] == "jobs");
  CHECK(trace["otherData"]["scenario"] == "small");

  // The page says what the run lacks instead of drawing empty charts.
  const json data = report_data(read_all(tmp.path / "a" / "report.html"));
  CHECK(data["charts"]["cost"]["empty"] == "no cost model in this run");
  CHECK(data["charts"]["training"]["empty"] == "no training jobs in this run");
  CHECK(data["charts"]["latency"]["empty"] == "no inference services in this run");
  CHECK(data["charts"]["utilization"]["usable"].size() == 1);  // one (region, accelerator)
  CHECK(data["charts"]["timeline"]["lanes"].size() == 1);
  CHECK(data["summary"]["scenario"]["name"] == "small");
}

TEST_CASE("cli report: --trace-level none and --no-report write neither; --force removes old ones", "[cli]") {
  TempDir tmp("clireport");
  std::ofstream(tmp.path / "s.json") << kSmall;
  const std::string s = (tmp.path / "s.json").string();
  const std::string out = (tmp.path / "out").string();
  REQUIRE(run_fleetsim(fmt::format("run {} -o {} -q", s, out), tmp).code == 0);
  REQUIRE(fs::exists(tmp.path / "out" / "trace.json"));
  REQUIRE(run_fleetsim(fmt::format("run {} -o {} -q --force --trace-level none --no-report", s, out), tmp).code == 0);
  CHECK(fs::exists(tmp.path / "out" / "summary.json"));
  CHECK_FALSE(fs::exists(tmp.path / "out" / "trace.json"));
  CHECK_FALSE(fs::exists(tmp.path / "out" / "report.html"));
}

TEST_CASE("cli report: fleetsim report rebuilds the page, and refuses a directory that is not a run", "[cli]") {
  TempDir tmp("clireport");
  std::ofstream(tmp.path / "s.json") << kSmall;
  const std::string out = (tmp.path / "out").string();
  REQUIRE(run_fleetsim(fmt::format("run {} -o {} -q --no-report", (tmp.path / "s.json").string(), out), tmp).code == 0);
  REQUIRE(run_fleetsim(fmt::format("report {} -q", out), tmp).code == 0);
  CHECK(fs::exists(tmp.path / "out" / "report.html"));
  const fs::path elsewhere = tmp.path / "page.html";
  REQUIRE(run_fleetsim(fmt::format("report {} -o {} -q", out, elsewhere.string()), tmp).code == 0);
  CHECK(read_all(elsewhere) == read_all(tmp.path / "out" / "report.html"));

  fs::create_directories(tmp.path / "empty");
  const auto r = run_fleetsim(fmt::format("report {}", (tmp.path / "empty").string()), tmp);
  CHECK(r.code == 66);
  CHECK_THAT(r.err, Catch::Contains("no summary.json"));
  CHECK_FALSE(fs::exists(tmp.path / "empty" / "report.html"));
  CHECK(run_fleetsim("report", tmp).code == 2);  // no directory given
}

// Training interruptions on the timeline: marked one by one up to 2,000, counted per time bucket and
// job beyond (a 7-year run has over 100,000; one mark each made the 38B flagship's page 4.9 MB).
TEST_CASE("cli report: many training interruptions are counted per bucket, a few are marked one by one", "[cli]") {
  TempDir tmp("clireport");
  const fs::path out = small_run_without_report(tmp);
  const std::string events = read_all(out / "events.jsonl");
  const int64_t span_ns = int64_t{20} * 86400 * 1'000'000'000;
  const auto interrupts = [&](int n) {
    std::ofstream f(out / "events.jsonl", std::ios::trunc);
    f << events;
    for (int i = 0; i < n; ++i)
      f << fmt::format(R"({{"time_ns":{},"time":"x","kind":"training_interrupt","job":"big","cause":"Faulty GPU"}})",
                       span_ns / n * i)
        << "\n";
    f.close();
    REQUIRE(run_fleetsim(fmt::format("report {} -q", out.string()), tmp).code == 0);
    return report_data(read_all(out / "report.html"))["charts"]["timeline"]["interrupts"];
  };

  const json few = interrupts(100);
  REQUIRE(few.size() == 100);
  CHECK(few[7][1] == "big: Faulty GPU");

  const json many = interrupts(3000);
  CHECK(many.size() <= 400);  // at most one mark per time bucket for the one job
  int counted = 0;
  for (const auto& m : many) {
    const std::string label = m[1];
    REQUIRE(label.rfind("big: ", 0) == 0);
    counted += std::stoi(label.substr(5));
  }
  CHECK(counted == 3000);
}

// Interruption lines in the recorder's own form are read without a JSON tree (a 7-year run has
// hundreds of thousands); any other form (an escaped text, keys in another order, a number where a
// name is expected) is parsed in full and labelled exactly as before.
TEST_CASE("cli report: interruption marks read the same from plain, escaped and reordered lines", "[cli]") {
  TempDir tmp("clireportlines");
  const fs::path out = small_run_without_report(tmp);
  {
    std::ofstream f(out / "events.jsonl", std::ios::trunc);
    f << R"({"time_ns":1000000000,"time":"1s","kind":"training_interrupt","job":"a","cause":"Faulty GPU"})" "\n"
      << R"({"time_ns":2000000000,"time":"2s","kind":"training_interrupt","job":"b\"q","cause":"NCCL \u00e9"})" "\n"
      << R"({"kind":"training_interrupt","time_ns":3000000000,"cause":"late","job":"c"})" "\n"
      << R"({"time_ns":4000000000,"time":"4s","kind":"training_interrupt","job":7,"cause":"x"})" "\n"
      << R"({"time_ns":5000000000,"time":"5s","kind":"training_resume","job":"a","cause":"not drawn"})" "\n"
      << R"({"time_ns":6000000000,"time":"6s","kind":"training_interrupt","job":"d","cause":"tail"})" "\n";
  }
  REQUIRE(run_fleetsim(fmt::format("report {} -q", out.string()), tmp).code == 0);
  const json marks = report_data(read_all(out / "report.html"))["charts"]["timeline"]["interrupts"];
  REQUIRE(marks.size() == 4);  // the line with a numeric job is skipped, the resume is not drawn
  CHECK(marks[0] == json::array({1, "a: Faulty GPU"}));
  CHECK(marks[1] == json::array({2, "b\"q: NCCL \u00e9"}));
  CHECK(marks[2] == json::array({3, "c: late"}));
  CHECK(marks[3] == json::array({6, "d: tail"}));
}

TEST_CASE("cli report: the summary and the report lead with what the outage cost", "[cli][answers]") {
  // Issue 18, "answers up front": a 15 h full outage of us-east-1 with a chat service in two regions.
  TempDir tmp("clianswers");
  const std::string out = (tmp.path / "out").string(), text = (tmp.path / "summary.txt").string();
  const std::string cmd = fmt::format("cd '{}' && '{}' run scenarios/inference-chat-failover.json --set /inference/services/0/mode=fluid -o '{}' >'{}' 2>&1",
                                      FLEETSIM_SOURCE_DIR, FLEETSIM_EXE, out, text);
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string summary = read_all(text);
  // The answers come before the run's facts, worded with units.
  const size_t outage = summary.find("  outage      outage1 in us-east-1 (full, 15h from 2025-10-20T06:48:00Z):");
  REQUIRE(outage != std::string::npos);
  CHECK(outage < summary.find("  simulated"));
  CHECK_THAT(summary, Catch::Contains("requests failed,") && Catch::Contains("rerouted of"));
  CHECK_THAT(summary, Catch::Contains("  SLO         ") && Catch::Contains("of requests met the SLO (target 99.0%)"));
  const json data = report_data(read_all(fs::path(out) / "report.html"));
  REQUIRE(data["answers"]["outages"].size() == 1);
  const json& o = data["answers"]["outages"][0];
  CHECK(o["region"] == "us-east-1");
  CHECK(o["start_ns"] == int64_t{6 * 3600 + 48 * 60} * 1'000'000'000);
  REQUIRE(o.contains("inference"));
  CHECK(o["inference"][0]["arrived"].get<double>() > 0);
  CHECK(data["answers"]["services"].size() == 1);
  // Latency: TTFT and end-to-end apart, the TTFT objective carried for the chart.
  CHECK(data["charts"]["latency"].contains("ttft"));
  CHECK(data["charts"]["latency"].contains("e2e"));
  CHECK(data["slo_ttft_s"].size() == 1);
}

TEST_CASE("cli report: an interval where nothing completed is a gap in the latency chart, not 0", "[cli][report]") {
  // Issue 18 defect 3's other half: however inference.csv spells "no completions" (empty, as
  // docs/outputs.md promises), the page gets null there, never 0.
  TempDir tmp("cligap");
  const fs::path out = tmp.path / "out";
  REQUIRE(run_fleetsim(fmt::format("run scenarios/inference-chat-failover.json --set /inference/services/0/mode=fluid -o '{}' -q --no-report", out.string()), tmp)
              .code == 0);
  // Rewrite the run's inference.csv with the latencies of us-east-1 empty while it is dark.
  std::ifstream in(out / "inference.csv");
  std::string header, line, rewritten;
  std::getline(in, header);
  rewritten = header + "\n";
  std::vector<std::string> cols;
  for (size_t a = 0, b; a <= header.size(); a = b + 1) {
    b = std::min(header.find(',', a), header.size());
    cols.push_back(header.substr(a, b - a));
  }
  const auto col = [&](const std::string& name) { return size_t(std::find(cols.begin(), cols.end(), name) - cols.begin()); };
  const size_t t = col("time_ns"), region = col("region"), ttft = col("ttft_p99_s"), e2e = col("e2e_p99_s");
  REQUIRE(ttft < cols.size());
  int emptied = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    for (size_t a = 0, b; a <= line.size(); a = b + 1) {
      b = std::min(line.find(',', a), line.size());
      f.push_back(line.substr(a, b - a));
    }
    const int64_t at = std::stoll(f[t]);
    if (f[region] == "us-east-1" && at > int64_t{8} * 3600'000'000'000 && at < int64_t{20} * 3600'000'000'000) {
      f[ttft].clear();
      f[e2e].clear();
      ++emptied;
    }
    for (size_t i = 0; i < f.size(); ++i) rewritten += (i ? "," : "") + f[i];
    rewritten += "\n";
  }
  in.close();
  REQUIRE(emptied > 0);
  std::ofstream(out / "inference.csv", std::ios::trunc) << rewritten;
  REQUIRE(run_fleetsim(fmt::format("report '{}' -q", out.string()), tmp).code == 0);
  const json data = report_data(read_all(out / "report.html"));
  bool gap = false;
  for (const json& s : data["charts"]["latency"]["ttft"]) {
    if (s["name"].get<std::string>().find("us-east-1") == std::string::npos) continue;
    for (size_t i = 0; i < s["t"].size(); ++i) {
      const int64_t at = s["t"][i].get<int64_t>();
      if (at > 8 * 3600 && at < 20 * 3600) {
        CHECK(s["v"][i].is_null());
        gap = gap || s["v"][i].is_null();
      }
    }
  }
  CHECK(gap);
}

// An interval in which nothing completed has empty latency fields in inference.csv (a dark region);
// the page carries null there, drawn as a gap, not as a dive to 0 and not a line across the outage.
TEST_CASE("cli report: empty latency fields are gaps in the latency chart", "[cli]") {
  TempDir tmp("clireport");
  const fs::path out = small_run_without_report(tmp);
  std::ofstream f(out / "inference.csv", std::ios::trunc);
  f << "time_ns,service,region,arrived,completed,failed,late,rerouted_out,rerouted_in,preemptions,queue,"
       "replicas_up,replicas_extra,kv_utilization,output_tokens_per_s,ttft_p50_s,ttft_p99_s,tpot_p50_s,e2e_p50_s,"
       "e2e_p99_s,timed_out\n";
  f << "3600000000000,chat,r1,100,100,0,0,0,0,0,0,8,0,0.5,1000,0.1,0.3,0.02,3,9,0\n";
  f << "7200000000000,chat,r1,100,0,100,0,0,0,0,0,0,0,0,0,,,,,,0\n";
  f << "10800000000000,chat,r1,100,100,0,0,0,0,0,0,8,0,0.5,1000,0.1,0.4,0.02,3,9,0\n";
  f.close();
  REQUIRE(run_fleetsim(fmt::format("report {} -q", out.string()), tmp).code == 0);
  const json lat = report_data(read_all(out / "report.html"))["charts"]["latency"];
  for (const char* which : {"ttft", "e2e"}) {  // TTFT and end-to-end on their own axes
    REQUIRE(lat[which].size() == 1);
    const json& s = lat[which][0];
    REQUIRE(s["v"].size() == 3);
    CHECK(s["v"][0].is_number());
    CHECK(s["v"][1].is_null());  // the dark hour: a gap
    CHECK(s["v"][2].is_number());
  }
  CHECK(lat["ttft"][0]["v"][2] == 0.4);
}

// Past 12 jobs the training chart draws one line per name without its number (the 38B flagship's 88
// jobs with samples made a legend of 176 entries): each group's line is the sum of its members' tokens, each member
// counted with its last sample (0 before its first), and its target the sum of theirs when all have one.
TEST_CASE("cli report: many training jobs are summed by name, each counted with its last sample", "[cli]") {
  TempDir tmp("clireporttraining");
  const fs::path out = small_run_without_report(tmp);
  json summary = json::parse(read_all(out / "summary.json"));
  const auto write = [&](int research) {
    std::ofstream csv(out / "training.csv", std::ios::trunc);
    csv << "time_ns,job,tokens_committed\n";
    json jobs = json::object();
    for (int j = 1; j <= research; ++j) {
      const std::string name = fmt::format("research-{:02}", j);
      // Job j samples at days j, j + 2, j + 4 with 1, 2, 3 times 10^j tokens: samples at different times.
      for (int k = 0; k < 3; ++k) csv << (int64_t{j} + 2 * k) * 86'400'000'000'000 << ',' << name << ',' << (k + 1) * std::pow(10.0, j) << '\n';
      jobs[name] = {{"tokens_target", 5 * std::pow(10.0, j)}};
    }
    csv << "86400000000000,run-1,7\n" << "172800000000000,run-1,9\n";
    jobs["run-1"] = {{"tokens_target", 40}};
    csv << "86400000000000,big_2,1\n";  // no target in the summary
    summary["training"] = {{"jobs", jobs}};
    std::ofstream(out / "summary.json", std::ios::trunc) << summary.dump(2);
    csv.close();
    REQUIRE(run_fleetsim(fmt::format("report {} -q", out.string()), tmp).code == 0);
    return report_data(read_all(out / "report.html"))["charts"]["training"];
  };

  const json few = write(10);  // 12 jobs: one line each
  CHECK_FALSE(few.contains("grouped"));
  CHECK(few["series"].size() == 12);

  const json many = write(11);  // 13 jobs: by name
  CHECK(many["grouped"] == true);
  CHECK(many["jobs"] == 13);
  REQUIRE(many["series"].size() == 3);
  CHECK(many["series"][0]["name"] == "big_2");  // alone in its group: its own name
  CHECK_FALSE(many["series"][0].contains("target"));
  CHECK(many["series"][2]["name"] == "run-1");
  CHECK(many["series"][2]["target"] == 40);
  const json& r = many["series"][1];
  CHECK(r["name"] == "research (11 jobs)");
  // Sampled on days 1 .. 15; at day d, job j (d >= j) holds (1 + min(2, (d - j) / 2)) x 10^j.
  REQUIRE(r["t"].size() == 15);
  for (int d = 1; d <= 15; ++d) {
    double want = 0;
    for (int j = 1; j <= 11 && j <= d; ++j) want += (1 + std::min(2, (d - j) / 2)) * std::pow(10.0, j);
    INFO("day " << d);
    CHECK(r["t"][d - 1] == int64_t{d} * 86400);
    CHECK(r["v"][d - 1].get<double>() == Approx(want).epsilon(1e-4));  // the page keeps 5 digits
  }
  double target = 0;
  for (int j = 1; j <= 11; ++j) target += 5 * std::pow(10.0, j);
  CHECK(r["target"].get<double>() == Approx(target));
}
