// SPDX-License-Identifier: Apache-2.0
// The fleetsim command line as a user meets it: exit codes, messages, output directories, and
// determinism of whole runs (byte-identical files).
#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using fleetsim::test::TempDir;
const auto& slurp = fleetsim::test::read_all;

namespace {

fleetsim::test::CliResult run_cli(const std::string& args, const TempDir& tmp) {
  return fleetsim::test::run_fleetsim(args, tmp);
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

const char* const kSmall = R"({"name": "small", "seed": 3, "start": "2025-10-01T00:00:00Z", "horizon": "20d",
  "fleet": {"regions": [{"name": "us-east-1", "zones": [{"name": "az1", "datacenters": [
    {"name": "dc1", "instance": "p5.48xlarge", "nodes": 64}]}]}]},
  "failures": {"presets": ["llama3-405b"]}})";

}  // namespace

TEST_CASE("cli: no command or an unknown one is a usage error", "[cli]") {
  TempDir tmp("cli");
  CHECK(run_cli("", tmp).code == 2);
  auto r = run_cli("frobnicate", tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown command \"frobnicate\""));
  r = run_cli("run --bogus-option x.json", tmp);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bogus-option"));
}

TEST_CASE("cli: every help starts with an example", "[cli]") {
  TempDir tmp("cli");
  for (const char* cmd : {"--help", "run --help", "validate --help", "schema --help", "version --help"}) {
    const auto r = run_cli(cmd, tmp);
    INFO(cmd);
    CHECK(r.code == 0);
    CHECK(r.out.rfind("Example:\n  fleetsim ", 0) == 0);
  }
}

TEST_CASE("cli: version and schema print what the binary carries", "[cli]") {
  TempDir tmp("cli");
  auto r = run_cli("version", tmp);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("fleetsim "));
  r = run_cli("schema", tmp);
  CHECK(r.code == 0);
  CHECK(r.out == slurp(fs::path(FLEETSIM_SOURCE_DIR) / "scenarios/schema/scenario.schema.json"));
}

TEST_CASE("cli: a missing scenario exits 66, an invalid one 65, with the pointer", "[cli]") {
  TempDir tmp("cli");
  auto r = run_cli(fmt::format("run '{}' -o '{}'", (tmp.path / "nope.json").string(), (tmp.path / "o").string()), tmp);
  CHECK(r.code == 66);
  CHECK_THAT(r.err, Catch::Contains("nope.json"));
  CHECK_FALSE(fs::exists(tmp.path / "o"));

  write(tmp.path / "bad.json", R"({"name": "bad", "horizon": "5 parsecs", "seed": -1})");
  r = run_cli(fmt::format("run '{}' -o '{}'", (tmp.path / "bad.json").string(), (tmp.path / "o").string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("bad.json: /horizon: invalid duration \"5 parsecs\""));
  CHECK_THAT(r.err, Catch::Contains("bad.json: /seed: expected a non-negative integer, got -1"));
  CHECK_FALSE(fs::exists(tmp.path / "o"));  // nothing half-written

  r = run_cli(fmt::format("validate '{}'", (tmp.path / "bad.json").string()), tmp);
  CHECK(r.code == 65);
}

TEST_CASE("cli: validate accepts the shipped quickstart and reports json on request", "[cli]") {
  TempDir tmp("cli");
  auto r = run_cli("validate scenarios/quickstart.json", tmp);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("ok: scenarios/quickstart.json"));
  write(tmp.path / "bad.json", R"({"name": "bad", "horizn": "5d"})");
  r = run_cli(fmt::format("validate --format json '{}'", (tmp.path / "bad.json").string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.out, Catch::Contains(R"("pointer":"/horizn")"));
  CHECK_THAT(r.out, Catch::Contains(R"(did you mean \"horizon\"?)"));
}

TEST_CASE("cli: run writes every output and a short summary", "[cli]") {
  TempDir tmp("cli");
  write(tmp.path / "s.json", kSmall);
  const auto out = tmp.path / "run";
  const auto r = run_cli(fmt::format("run '{}' -o '{}'", (tmp.path / "s.json").string(), out.string()), tmp);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains(out.string()));
  for (const char* f : {"summary.json", "manifest.json", "resolved.json", "utilization.csv", "events.jsonl"})
    CHECK(fs::exists(out / f));
  for (const auto& entry : fs::directory_iterator(out))  // no temporaries left behind
    CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
  CHECK_THAT(slurp(out / "summary.json"), Catch::Contains("\"complete\": true"));
  CHECK_THAT(slurp(out / "resolved.json"), Catch::Contains("\"sample_interval\": \"1h\""));
}

TEST_CASE("cli: --events and --tables choose what a run writes, not what it simulates", "[cli][outputs]") {
  // Issue 18 defect 8: every run wrote every failure and repair to events.jsonl.
  TempDir tmp("cli-outputs");
  write(tmp.path / "s.json", kSmall);
  const auto dir = [&](const char* name) { return tmp.path / name; };
  const std::string s = (tmp.path / "s.json").string();
  REQUIRE(run_cli(fmt::format("run '{}' -o '{}' -q --events all", s, dir("all").string()), tmp).code == 0);
  REQUIRE(run_cli(fmt::format("run '{}' -o '{}' -q", s, dir("default").string()), tmp).code == 0);
  REQUIRE(run_cli(fmt::format("run '{}' -o '{}' -q --events none --tables utilization --trace-level none --no-report",
                              s, dir("lean").string()), tmp).code == 0);
  const std::string all = slurp(dir("all") / "events.jsonl");
  CHECK(all.find("\"kind\":\"failure\"") != std::string::npos);
  // Default (jobs): no failure or repair lines, but the run and its summary are the same.
  CHECK(slurp(dir("default") / "events.jsonl").find("\"kind\":\"failure\"") == std::string::npos);
  CHECK(slurp(dir("default") / "summary.json") == slurp(dir("all") / "summary.json"));
  CHECK(slurp(dir("lean") / "summary.json") == slurp(dir("all") / "summary.json"));
  // The report's failure bars come from failure_counts.csv, counted as the run published them.
  CHECK(fs::exists(dir("default") / "failure_counts.csv"));
  CHECK(slurp(dir("default") / "report.html") == slurp(dir("all") / "report.html"));
  std::set<std::string> lean;
  for (const auto& e : fs::directory_iterator(dir("lean"))) lean.insert(e.path().filename().string());
  CHECK(lean == std::set<std::string>{"manifest.json", "resolved.json", "summary.json", "utilization.csv"});
  const auto bad = run_cli(fmt::format("run '{}' -o '{}' --events some", s, dir("bad").string()), tmp);
  CHECK(bad.code == 2);
  CHECK_THAT(bad.err, Catch::Contains("--events expects none, summary, jobs or all"));
}

TEST_CASE("cli: a non-empty output directory needs --force", "[cli]") {
  TempDir tmp("cli");
  write(tmp.path / "s.json", kSmall);
  const auto out = tmp.path / "run";
  fs::create_directories(out);
  write(out / "notes.txt", "mine");
  const std::string args = fmt::format("run '{}' -o '{}'", (tmp.path / "s.json").string(), out.string());
  auto r = run_cli(args, tmp);
  CHECK(r.code == 73);
  CHECK_THAT(r.err, Catch::Contains("--force"));
  CHECK_FALSE(fs::exists(out / "summary.json"));
  r = run_cli(args + " --force", tmp);
  CHECK(r.code == 0);
  CHECK(slurp(out / "notes.txt") == "mine");  // --force replaces run outputs only
}

TEST_CASE("cli: the same scenario and seed give byte-identical outputs", "[cli][determinism]") {
  TempDir tmp("cli");
  write(tmp.path / "s.json", kSmall);
  const auto a = tmp.path / "a", b = tmp.path / "b", c = tmp.path / "c";
  REQUIRE(run_cli(fmt::format("run '{}' -o '{}' -q --events all", (tmp.path / "s.json").string(), a.string()), tmp)
              .code == 0);
  REQUIRE(run_cli(fmt::format("run '{}' -o '{}' -q --events all", (tmp.path / "s.json").string(), b.string()), tmp)
              .code == 0);
  for (const char* f : {"summary.json", "resolved.json", "utilization.csv", "events.jsonl"}) {
    INFO(f);
    CHECK(slurp(a / f) == slurp(b / f));
  }
  // A different seed changes the failures drawn, and so the fingerprint.
  REQUIRE(run_cli(fmt::format("run '{}' -o '{}' -q --seed 4 --events all", (tmp.path / "s.json").string(), c.string()), tmp)
              .code == 0);
  CHECK(slurp(a / "events.jsonl") != slurp(c / "events.jsonl"));
}

TEST_CASE("cli: --set and --until override the scenario", "[cli]") {
  TempDir tmp("cli");
  write(tmp.path / "s.json", kSmall);
  const auto out = tmp.path / "run";
  const auto r = run_cli(fmt::format("run '{}' -o '{}' -q --until 2d --set /seed=11 --set /description=hello",
                                      (tmp.path / "s.json").string(), out.string()),
                          tmp);
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());  // --quiet
  const auto summary = slurp(out / "summary.json");
  CHECK_THAT(summary, Catch::Contains("\"simulated_until\": \"2d\""));
  CHECK_THAT(summary, Catch::Contains("\"seed\": 11"));
  CHECK_THAT(slurp(out / "resolved.json"), Catch::Contains("\"description\": \"hello\""));
  CHECK(run_cli("run x.json --set horizon=5d", tmp).code == 2);
}
