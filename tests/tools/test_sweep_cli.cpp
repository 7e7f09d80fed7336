// SPDX-License-Identifier: Apache-2.0
// `fleetsim sweep` and `fleetsim compare` as a user meets them: exit codes, messages, output files.
#include "tests/support/cli.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;
using fleetsim::test::TempDir;
const auto& read_file = fleetsim::test::read_all;
const auto& cli = fleetsim::test::run_fleetsim;

namespace {

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

const std::string kSmall = "tests/data/sweep-small.json";
const std::string kSpares = "--param /training/jobs/0/recovery/hot_spares=0,16";

}  // namespace

TEST_CASE("cli: sweep --list numbers the runs and runs nothing", "[cli][sweep]") {
  TempDir tmp("sweep-list");
  const auto r = cli(fmt::format("sweep {} {} --param /horizon=2d,3d --repeat 2 --list -o '{}'", kSmall, kSpares,
                                      (tmp.path / "s").string()),
                          tmp);
  CHECK(r.code == 0);
  CHECK(lines(r.out) == 8);
  CHECK_THAT(r.out, Catch::StartsWith("run 0: cell 0 (/training/jobs/0/recovery/hot_spares=0 /horizon=2d), "
                                      "replication 0, seed 7\n"));
  CHECK_THAT(r.out, Catch::Contains("run 7: cell 3 (/training/jobs/0/recovery/hot_spares=16 /horizon=3d), "
                                    "replication 1, seed "));
  CHECK_FALSE(fs::exists(tmp.path / "s"));
}

TEST_CASE("cli: sweep rejects a bad --param before running anything", "[cli][sweep]") {
  TempDir tmp("sweep-bad");
  const std::string out = (tmp.path / "s").string();
  auto r = cli(fmt::format("sweep {} --param /training/jobs/0/recovery/hot_spare=0,16 -o '{}'", kSmall, out), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("--param /training/jobs/0/recovery/hot_spare: the scenario has no value") &&
                        Catch::Contains("nothing was run"));
  CHECK_FALSE(fs::exists(out));
  r = cli(fmt::format("sweep {} --param /horizon=2d,soon -o '{}'", kSmall, out), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("--param /horizon=soon: ") && Catch::Contains("/horizon"));
  CHECK_FALSE(fs::exists(out));
  r = cli(fmt::format("sweep {} --param /training/jobs/0/recovery/hot_spares=\"[1]\" -o '{}'", kSmall, out), tmp);
  CHECK(r.code == 65);
  CHECK_FALSE(fs::exists(out));
  CHECK(cli(fmt::format("sweep {} --param horizon=2d", kSmall), tmp).code == 2);
  CHECK(cli(fmt::format("sweep {} --repeat 0", kSmall), tmp).code == 2);
  CHECK(cli(fmt::format("sweep {} -j 0", kSmall), tmp).code == 2);
  CHECK(cli(fmt::format("sweep {} --repeat -1", kSmall), tmp).code == 2);
  CHECK(cli(fmt::format("sweep {} --param /seed=1,2,3,4,5,6,7,8,9,10 --repeat 1000001", kSmall), tmp).code == 2);
  CHECK(cli("sweep tests/data/no-such.json --list", tmp).code == 66);
}

TEST_CASE("cli: sweep writes runs.csv, cells.csv and sweep.json; compare reads them", "[cli][sweep]") {
  TempDir tmp("sweep-run");
  const std::string out = (tmp.path / "s").string();
  auto r = cli(fmt::format("sweep {} {} --repeat 3 -j 2 -o '{}' --metric /training/jobs/llm-70b/goodput "
                                "--metric /failures/failures", kSmall, kSpares, out), tmp);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("6 runs (2 cells x 3 replications): 6 ok, 0 failed"));
  const std::string runs = read_file(fs::path(out) / "runs.csv");
  CHECK(lines(runs) == 7);
  CHECK_THAT(runs, Catch::StartsWith("run,cell,replication,seed,/training/jobs/0/recovery/hot_spares,status,"
                                     "exit_code,directory,error,/failures/failures,/training/jobs/llm-70b/goodput\n"
                                     "0,0,0,7,0,ok,0,runs/000,,"));
  const std::string cells = read_file(fs::path(out) / "cells.csv");
  CHECK(lines(cells) == 5);  // header + 2 cells x 2 metrics
  CHECK_THAT(cells, Catch::Contains("\n1,16,/training/jobs/llm-70b/goodput,3,"));
  CHECK(fs::exists(fs::path(out) / "runs" / "005" / "summary.json"));

  // The same sweep against itself is within any tolerance; a missing --metric is trouble.
  CHECK(cli(fmt::format("compare '{0}' '{0}' --rel-tol 0", out), tmp).code == 0);
  CHECK(cli(fmt::format("compare '{0}' '{0}' --metric /nope", out), tmp).code == 2);

  // A rerun into the same directory needs --force and replaces the previous sweep's outputs.
  CHECK(cli(fmt::format("sweep {} -o '{}'", kSmall, out), tmp).code == 73);
  r = cli(fmt::format("sweep {} -o '{}' --force --quiet", kSmall, out), tmp);
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(lines(read_file(fs::path(out) / "runs.csv")) == 2);
  CHECK_FALSE(fs::exists(fs::path(out) / "runs" / "001"));
}

TEST_CASE("cli: a one-replication sweep reproduces fleetsim run byte for byte", "[cli][sweep]") {
  TempDir tmp("sweep-vs-run");
  const std::string s = (tmp.path / "s").string(), one = (tmp.path / "one").string();
  REQUIRE(cli(fmt::format("sweep {} --param /horizon=2d -o '{}' -q --keep-outputs", kSmall, s), tmp).code == 0);
  REQUIRE(cli(fmt::format("run {} --set /horizon=2d -o '{}' -q --events all", kSmall, one), tmp).code == 0);
  for (const char* f : {"summary.json", "events.jsonl", "training.csv", "utilization.csv", "resolved.json"}) {
    INFO(f);
    CHECK(read_file(fs::path(s) / "runs" / "000" / f) == read_file(fs::path(one) / f));
  }
}

TEST_CASE("cli: compare exit codes and JUnit for a CI guard", "[cli][compare]") {
  TempDir tmp("compare-cli");
  const std::string base = (tmp.path / "base").string(), same = (tmp.path / "same").string(),
                    changed = (tmp.path / "changed").string(), junit = (tmp.path / "junit.xml").string();
  REQUIRE(cli(fmt::format("run {} -o '{}' -q", kSmall, base), tmp).code == 0);
  REQUIRE(cli(fmt::format("run {} -o '{}' -q", kSmall, same), tmp).code == 0);
  // A slower checkpoint store (1 GB/s instead of 200): checkpoints stall longer and goodput drops ~3%.
  REQUIRE(cli(fmt::format("run {} -o '{}' -q --set '/training/jobs/0/checkpoint/storage_bandwidth=\"1 GB/s\"'",
                               kSmall, changed), tmp).code == 0);
  const std::string metric = "--metric /training/jobs/llm-70b/goodput";
  auto r = cli(fmt::format("compare '{}' '{}/summary.json' {} --junit '{}'", base, same, metric, junit), tmp);
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("/training/jobs/llm-70b/goodput") && Catch::Contains("ok"));
  CHECK_THAT(read_file(junit), Catch::Contains("failures=\"0\""));
  r = cli(fmt::format("compare '{}' '{}' {} --rel-tol 0.1% --junit '{}'", base, changed, metric, junit), tmp);
  CHECK(r.code == 1);
  CHECK_THAT(r.out, Catch::Contains("OUTSIDE"));
  CHECK_THAT(read_file(junit), Catch::Contains("failures=\"1\"") && Catch::Contains("<failure message="));
  CHECK(cli(fmt::format("compare '{}' '{}' {} --rel-tol 90%", base, changed, metric), tmp).code == 0);
  CHECK(cli(fmt::format("compare '{}' '{}/nope'", base, changed), tmp).code == 2);
  CHECK(cli(fmt::format("compare '{}' '{}' --rel-tol lots", base, changed), tmp).code == 2);
  CHECK(cli(fmt::format("compare '{}'", base), tmp).code == 2);
}
