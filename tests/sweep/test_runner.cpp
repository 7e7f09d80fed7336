// SPDX-License-Identifier: Apache-2.0
// Running sweeps: checks before anything runs, failures recorded without stopping the others, and
// byte-identical run outputs whatever the number of threads.
#include "tests/support/files.hpp"
#include "tools/sweep/report.hpp"
#include "tools/sweep/runner.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <mutex>
#include <set>

namespace fs = std::filesystem;
using namespace fleetsim;
using namespace fleetsim::sweep;
using fleetsim::test::TempDir;

namespace {

const std::string kSmall = std::string(FLEETSIM_TEST_DATA) + "/sweep-small.json";

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// Every file under root (relative path -> bytes), manifest.json left out (wall time, host).
std::map<std::string, std::string> tree(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename() != "manifest.json")
      out[fs::relative(e.path(), root).string()] = test::read_all(e.path());
  return out;
}

SweepSpec small_spec(const fs::path& dir, size_t repeat) {
  SweepSpec spec;
  spec.scenario_path = kSmall;
  spec.plan = make_plan({parse_param("/training/jobs/0/recovery/hot_spares=0,16")}, repeat, 7);
  spec.directory = dir;
  spec.command_line = "test";
  return spec;
}

}  // namespace

TEST_CASE("sweep: a --param pointer the scenario lacks is an error before anything runs", "[sweep][runner]") {
  uint64_t seed = 0;
  const auto problems = check_sweep(kSmall, {}, {parse_param("/training/jobs/0/recovery/hot_spare=0,16")}, seed);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::Contains("--param /training/jobs/0/recovery/hot_spare:") &&
                              Catch::Contains("no value at this pointer"));
  // An index past the end of an array, and a malformed pointer.
  CHECK(check_sweep(kSmall, {}, {parse_param("/training/jobs/3/gpus=8")}, seed).size() == 1);
  CHECK_THAT(join(check_sweep(kSmall, {}, {parse_param("/training/jobs/x~2/gpus=8")}, seed)),
             Catch::Contains("not a JSON pointer"));
}

TEST_CASE("sweep: a --param value of the wrong type is an error naming pointer and value", "[sweep][runner]") {
  uint64_t seed = 0;
  const auto problems =
      check_sweep(kSmall, {}, {parse_param("/training/jobs/0/recovery/hot_spares=4,lots"), parse_param("/horizon=2d")},
                  seed);
  REQUIRE_FALSE(problems.empty());
  const std::string text = join(problems);
  CHECK_THAT(text, Catch::Contains("--param /training/jobs/0/recovery/hot_spares=lots") &&
                       Catch::Contains("/training/jobs/0/recovery/hot_spares"));
  CHECK_THAT(text, !Catch::Contains("hot_spares=4:"));  // the good value is not blamed
  CHECK(seed == 7);
}

TEST_CASE("sweep: check_sweep finds each cell's seed, and refuses /seed with --seed", "[sweep][runner]") {
  uint64_t seed = 0;
  std::vector<uint64_t> cell_seeds;
  CHECK(check_sweep(kSmall, {}, {parse_param("/seed=3,4"), parse_param("/horizon=2d,3d")}, seed, &cell_seeds).empty());
  CHECK(seed == 7);
  CHECK(cell_seeds == std::vector<uint64_t>{3, 3, 4, 4});
  LoadOptions with_seed;
  with_seed.seed = 5;
  CHECK_THAT(join(check_sweep(kSmall, with_seed, {parse_param("/seed=3,4")}, seed)),
             Catch::Contains("--param /seed: has no effect together with --seed"));
}

TEST_CASE("sweep: values valid alone but not together are caught per cell", "[sweep][runner]") {
  // An outage on day 2 is fine with the 3-day horizon; a 1-day horizon is fine without outages; the
  // cell with both puts the outage outside the run.
  uint64_t seed = 0;
  const auto problems = check_sweep(
      kSmall, {},
      {parse_param("/horizon=3d,1d"),
       parse_param(R"(/failures/outages=[],[{"region":"us-east-1","from":"2025-10-02T12:00:00Z","duration":"2h"}])")},
      seed);
  REQUIRE(problems.size() == 1);
  CHECK_THAT(problems[0], Catch::StartsWith("error: cell 3 (/horizon=1d /failures/outages=[{") &&
                              Catch::Contains("/failures/outages/0/from"));
}

TEST_CASE("sweep: a failed run is recorded and the others still run", "[sweep][runner]") {
  std::vector<size_t> indices = {0, 1, 2, 3, 4, 5};
  for (size_t jobs : {1u, 3u}) {
    std::mutex m;
    std::multiset<size_t> ran;
    const auto outcomes = run_parallel(indices, jobs, [&](size_t i) {
      {
        std::lock_guard lock(m);
        ran.insert(i);
      }
      if (i == 2) throw std::runtime_error("boom");
      RunOutcome o;
      o.status = RunStatus::Ok;
      o.summary_text = "{}";
      return o;
    });
    CHECK(ran == std::multiset<size_t>(indices.begin(), indices.end()));  // each exactly once
    REQUIRE(outcomes.size() == 6);
    for (size_t k = 0; k < 6; ++k) {
      CHECK(outcomes[k].index == k);
      CHECK(outcomes[k].status == (k == 2 ? RunStatus::Failed : RunStatus::Ok));
    }
    CHECK(outcomes[2].exit_code == 70);
    CHECK_THAT(outcomes[2].error, Catch::Contains("boom"));
  }
}

TEST_CASE("sweep: an interrupt leaves the runs not yet started unrun", "[sweep][runner]") {
  std::atomic<bool> stop{false};
  const auto outcomes = run_parallel({0, 1, 2, 3}, 1, [&](size_t i) {
    if (i == 1) stop = true;
    RunOutcome o;
    o.status = RunStatus::Ok;
    return o;
  }, &stop);
  CHECK(outcomes[0].status == RunStatus::Ok);
  CHECK(outcomes[1].status == RunStatus::Ok);
  CHECK(outcomes[2].status == RunStatus::NotRun);
  CHECK(outcomes[3].status == RunStatus::NotRun);
}

TEST_CASE("sweep: run outputs are byte-identical with 1 and 2 threads", "[sweep][runner]") {
  TempDir tmp("sweep-threads");
  std::map<std::string, std::string> first;
  for (size_t jobs : {1u, 2u}) {
    SweepSpec spec = small_spec(tmp.path / fmt::format("j{}", jobs), 2);
    spec.keep_outputs = true;
    auto outcomes = run_parallel(all_runs(spec.plan), jobs,
                                 [&](size_t i) { return run_one(spec, spec.plan.runs[i], nullptr); });
    for (const auto& o : outcomes) CHECK(o.status == RunStatus::Ok);
    write_report(spec, make_report(spec, outcomes, {}));
    auto files = tree(spec.directory);
    CHECK(files.count("runs/003/summary.json") == 1);
    CHECK(files.count("runs/003/training.csv") == 1);
    CHECK(files.count("runs.csv") == 1);
    if (jobs == 1) first = std::move(files);
    else CHECK(files == first);
  }
  // Replications differ (their own seeds); replication 0 equals a plain run with the scenario's seed.
  CHECK(first["runs/000/events.jsonl"] != first["runs/001/events.jsonl"]);
}

TEST_CASE("sweep: by default a run keeps only what the sweep aggregates", "[sweep][runner]") {
  // Issue 18 defect 8: every run of a sweep wrote its events.jsonl and tables.
  TempDir tmp("sweep-lean");
  const SweepSpec spec = small_spec(tmp.path / "s", 1);
  const RunOutcome o = run_one(spec, spec.plan.runs[0], nullptr);
  REQUIRE(o.status == RunStatus::Ok);
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(run_directory(spec, 0))) names.insert(e.path().filename().string());
  CHECK(names == std::set<std::string>{"manifest.json", "resolved.json", "summary.json"});
  CHECK_THAT(o.summary_text, Catch::Contains("\"training_start\": 1"));  // the events were still counted
}

TEST_CASE("sweep: a run that cannot write its directory fails alone, with its exit code", "[sweep][runner]") {
  TempDir tmp("sweep-fail");
  const SweepSpec spec = small_spec(tmp.path / "s", 2);
  fs::create_directories(spec.directory / "runs");
  std::ofstream(spec.directory / "runs" / "001") << "in the way";  // a file where run 1's directory goes
  auto outcomes = run_parallel(all_runs(spec.plan), 2,
                               [&](size_t i) { return run_one(spec, spec.plan.runs[i], nullptr); });
  CHECK(outcomes[1].status == RunStatus::Failed);
  CHECK(outcomes[1].exit_code == 73);
  for (size_t k : {0u, 2u, 3u}) CHECK(outcomes[k].status == RunStatus::Ok);
  const SweepReport report = make_report(spec, outcomes, {"/training/jobs/llm-70b/goodput"});
  CHECK(report.ok == 3);
  CHECK(report.failed == 1);
  CHECK(report.sweep_json["complete"] == false);
  CHECK(report.sweep_json["runs"][1]["status"] == "failed");
  // The failed run's row has its status and exit code and no metric; cell 0 averages one run.
  CHECK_THAT(report.runs_csv, Catch::Contains("\n1,0,1,") && Catch::Contains(",failed,73,runs/001,"));
  CHECK(report.sweep_json["cells"][0]["metrics"]["/training/jobs/llm-70b/goodput"]["n"] == 1);
  CHECK(report.sweep_json["cells"][1]["metrics"]["/training/jobs/llm-70b/goodput"]["n"] == 2);
  CHECK(report.warnings.empty());
  // A misspelt --metric selects nothing: the report says so, with the metric it probably meant.
  const SweepReport typo = make_report(spec, outcomes, {"/training/jobs/llm70b/goodput", "/training/jobs/llm-7b"});
  REQUIRE(typo.warnings.size() == 2);
  CHECK(typo.warnings[0] == "--metric /training/jobs/llm70b/goodput selected no metric of any run "
                            "(did you mean \"/training/jobs/llm-70b/goodput\"?)");
  CHECK(typo.warnings[1] == "--metric /training/jobs/llm-7b selected no metric of any run "
                            "(did you mean \"/training/jobs/llm-70b\"?)");
}
