// SPDX-License-Identifier: Apache-2.0
// A region outage through the whole World (issue 18, defects 1 and 2): a planner's two-region
// scenario with a 12 h outage over a training job, node failures drawn all along (also on the dark
// hosts), and the cost of the outage in training work.
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

using namespace fleetsim;

namespace {

// 80 p5.48xlarge hosts (640 H100) in each of two regions; a 512-GPU job in r1 (64 hosts), paused by
// a 12 h outage of r1 on day 2; host failures with a 300 h MTBF and 8 h repairs (about 2.6 on the
// gang's 64 hosts during the outage). Prices: the catalog's p5.48xlarge, $55.04/h for 8 GPUs.
const char* const kTwoRegions = R"({"name": "two-region-outage", "seed": 11, "start": "2026-01-01T00:00:00Z",
  "horizon": "4d", "sample_interval": "1h",
  "fleet": {"regions": [
    {"name": "r1", "zones": [{"name": "z1", "datacenters": [{"name": "dc1", "instance": "p5.48xlarge", "nodes": 80}]}]},
    {"name": "r2", "zones": [{"name": "z1", "datacenters": [{"name": "dc1", "instance": "p5.48xlarge", "nodes": 80}]}]}]},
  "failures": {
    "processes": [{"name": "host", "class": "node", "mtbf": "300h", "repair": "8h"}],
    "outages": [{"region": "r1", "from": "2026-01-02T00:00:00Z", "duration": "12h", "kind": "full", "cause": "control plane"}]},
  "training": {"jobs": [{"name": "run", "accelerator": "H100", "gpus": 512,
    "model": {"parameters": 8e9, "layers": 32, "hidden": 4096, "heads": 32, "seq_len": 8192, "vocab": 128256},
    "global_batch_tokens": 4194304, "total_tokens": 1e14, "precision": "bf16",
    "parallelism": {"tp": 8, "pp": 1, "dp": 64},
    "checkpoint": {"policy": "fixed", "interval": "1h", "storage_bandwidth": "100 GB/s"},
    "recovery": {"mode": "spares", "fallback": "wait", "detection": "2min", "restart": "8min", "region_outage": "pause"}}]},
  "cost": {"energy": {"billing": "included"}}})";

struct Interrupts {
  size_t total = 0, waiting = 0;
};

Interrupts read_interrupts(const std::filesystem::path& events) {
  Interrupts n;
  std::ifstream in(events);
  for (std::string line; std::getline(in, line);) {
    const auto e = nlohmann::json::parse(line);
    if (e.at("kind") != "training_interrupt") continue;
    ++n.total;
    if (e.at("state") == "waiting") ++n.waiting;
  }
  return n;
}

}  // namespace

TEST_CASE("outage: a paused job is interrupted once, keeps its down time, and its lost work is costed",
          "[cost][world][outage]") {
  const Scenario s = load_scenario_text(kTwoRegions, "two-region-outage.json");
  const test::TempDir tmp("outage-cost");
  SimulationOptions opt;
  opt.directory = tmp.path;
  const SimulationResult r = simulate(s, opt);
  const auto& job = r.summary.at("training").at("jobs").at("run");
  const auto& outage = job.at("by_cause").at("outage: control plane");
  // Failures were drawn on the dark region while the job waited (the case of the defect).
  REQUIRE(r.summary.at("failures").at("failures").get<uint64_t>() > 10);

  // Defect 2: nothing interrupts a job that is not running, so no interruption is logged in state
  // "waiting"; the outage stopped it once, and its down time stays with it: the 12 h of the outage,
  // then restart (8 min) and restore (1.12e11 B at 100 GB/s).
  const Interrupts logged = read_interrupts(tmp.path / "events.jsonl");
  CHECK(logged.waiting == 0);
  CHECK(job.at("interruptions").get<uint64_t>() == logged.total);
  CHECK(outage.at("interruptions") == 1);
  const double restore_s = 8e9 * 14 / 100e9;
  CHECK(outage.at("down_s").get<double>() == Approx(12 * 3600.0 + 8 * 60 + restore_s));
  CHECK(outage.at("dark_s").get<double>() == Approx(12 * 3600.0));
  CHECK(outage.at("outage") == true);
  CHECK(outage.at("lost_s").get<double>() > 0);  // the outage struck between two checkpoints

  // Defect 1: the outage's lost work is costed: the work rolled back and the restart and restore
  // after the outage, at the job's rate ($6.88/GPU-h). The 12 dark hours are not added on top: those
  // GPUs are the outage's paid-failed capacity (all 640 GPUs of r1 for 12 h at $6.88).
  const auto& cost = r.summary.at("cost");
  const double rate = 55.04 / 8 / 3600;
  const double expected = (outage.at("lost_s").get<double>() + 8 * 60 + restore_s) * 512 * rate;
  CHECK(cost.at("outage").at("lost_work_usd").get<double>() > 0);
  CHECK(cost.at("outage").at("lost_work_usd").get<double>() == Approx(expected));
  CHECK(cost.at("outage").at("paid_failed_usd").get<double>() == Approx(640 * 12 * 55.04 / 8).epsilon(0.01));
  CHECK(cost.at("outage").at("total_usd").get<double>() ==
        Approx(cost.at("outage").at("paid_idle_usd").get<double>() + cost.at("outage").at("paid_failed_usd").get<double>() +
               cost.at("outage").at("lost_work_usd").get<double>() + cost.at("outage").at("slo_penalty_usd").get<double>()));
  // Useful GPU-hours: busy less the job's lost GPU-hours, less their dark part (never busy).
  const double lost_busy_h = (job.at("lost_s").get<double>() + job.at("down_s").get<double>() - job.at("dark_s").get<double>()) * 512 / 3600;
  CHECK(cost.at("useful_gpu_hours").get<double>() == Approx(cost.at("gpu_hours").at("busy").get<double>() - lost_busy_h));
}
