// SPDX-License-Identifier: Apache-2.0
// simulate(): a whole run through the library, as the CLI drives it.
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"

#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace fleetsim;
namespace fs = std::filesystem;

namespace {

// Busy enough (16,000 GPUs failing every 100 h each: ~115,000 failures in 30 days) that the engine
// calls its periodic hook, where an interrupt is noticed, long before the horizon.
const char* const kBusy = R"({"name": "busy", "seed": 1, "start": "2025-10-01T00:00:00Z", "horizon": "30d",
  "fleet": {"regions": [{"name": "r1", "zones": [{"name": "z1", "datacenters": [
    {"name": "dc1", "instance": "p5.48xlarge", "nodes": 2000}]}]}]},
  "failures": {"processes": [{"name": "gpu", "class": "gpu", "mtbf": "100h", "repair": "2h"}]}})";


}  // namespace

TEST_CASE("simulation: an interrupted run still writes valid outputs marked incomplete", "[simulation]") {
  const test::TempDir tmp("interrupt");
  const fs::path& dir = tmp.path;
  const Scenario s = load_scenario_text(kBusy, "busy.json");
  std::atomic<bool> interrupt{true};  // as if Ctrl-C came at once
  SimulationOptions opt;
  opt.directory = dir;
  opt.interrupt = &interrupt;
  const SimulationResult r = simulate(s, opt);
  CHECK_FALSE(r.complete);
  CHECK(r.reached < SimTime::zero() + s.run.horizon);
  CHECK(r.summary["complete"] == false);
  CHECK(r.summary["stop_reason"] == "interrupted");
  // Every file is whole: summary.json parses, and the CSV's last line is complete.
  CHECK(nlohmann::json::parse(test::read_all(dir / "summary.json"))["complete"] == false);
  CHECK(nlohmann::json::parse(test::read_all(dir / "manifest.json"))["complete"] == false);
  const std::string csv = test::read_all(dir / "utilization.csv");
  REQUIRE_FALSE(csv.empty());
  CHECK(csv.back() == '\n');
}

TEST_CASE("simulation: an uninterrupted run reaches the horizon", "[simulation]") {
  LoadOptions lo;
  lo.until = "3d";
  const Scenario s = load_scenario_text(kBusy, "busy.json", lo);
  const SimulationResult r = simulate(s, SimulationOptions{});
  CHECK(r.complete);
  CHECK(r.reached == SimTime::zero() + Duration::days(3));
  CHECK(r.summary["stop_reason"] == "horizon");
  CHECK(r.summary["failures"]["failures"].get<int64_t>() > 1000);
}

TEST_CASE("simulation: a job that would finish beyond the time range just keeps running", "[simulation]") {
  // 1e24 tokens on one node would take ~1e9 years: the finish time must saturate, not wrap around
  // into the past (which the engine rejects).
  const char* const text = R"({"name": "forever", "start": "2025-10-01T00:00:00Z", "horizon": "2d",
    "fleet": {"regions": [{"name": "r1", "zones": [{"name": "z1", "datacenters": [
      {"name": "dc1", "instance": "p5.48xlarge", "nodes": 2}]}]}]},
    "training": {"jobs": [{"name": "forever", "accelerator": "H100", "gpus": 8,
      "model": {"parameters": 1e9, "layers": 16, "hidden": 2048, "heads": 16, "seq_len": 2048, "vocab": 32000},
      "global_batch_tokens": 1048576, "total_tokens": 1e24, "precision": "bf16",
      "parallelism": {"tp": 8, "pp": 1, "dp": 1}}]}})";
  const Scenario s = load_scenario_text(text, "forever.json");
  SimulationResult r;
  REQUIRE_NOTHROW(r = simulate(s, SimulationOptions{}));
  CHECK(r.complete);
  CHECK(r.summary["training"]["jobs"]["forever"]["state"] == "running");
  CHECK(r.summary["training"]["tokens_trained"].get<double>() > 0);
}
