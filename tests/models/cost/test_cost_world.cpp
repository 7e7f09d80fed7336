// SPDX-License-Identifier: Apache-2.0
// The cost model inside a whole run: busy GPUs from the scheduler, the quickstart's figures against
// hand arithmetic on its scenario.
#include "models/scheduler/gang_scheduler.hpp"
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"
#include "tests/models/cost/cost_fixtures.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

using namespace fleetsim;

TEST_CASE("scheduler: gang GPUs per region and accelerator follow takes, swaps and releases", "[cost][scheduler]") {
  const FleetSpec fs = fleetsim::test::h100_region(4);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  GangScheduler sched(fleet, engine);
  GangRequest r;
  r.name = "job";
  r.nodes = 2;
  r.spare_nodes = 1;
  const AllocationId id = sched.submit(std::move(r));
  engine.run(SimTime::zero() + Duration::s(1));
  const auto& a = sched.allocation(id);
  REQUIRE(a.state == GangScheduler::State::Running);
  CHECK(sched.gang_gpus(RegionId{0}, 0) == 16);  // spares are held, not busy
  sched.swap_with_spare(id, a.nodes.front(), a.spares.front());
  CHECK(sched.gang_gpus(RegionId{0}, 0) == 16);
  sched.give_back(id, a.spares.front());          // the failed node, now a spare, leaves
  CHECK(sched.gang_gpus(RegionId{0}, 0) == 16);
  sched.give_back(id, a.nodes.front());
  CHECK(sched.gang_gpus(RegionId{0}, 0) == 8);
  sched.release(id);
  CHECK(sched.gang_gpus(RegionId{0}, 0) == 0);
}

// The quickstart has 576 + 288 GB200 (8 and 4 NVL72 racks) and 1,024 H100 (128 p5 nodes), held for
// the whole of October (744 h). Busy: the 512-GPU training job and the chat service's 64 + 48
// replicas of 4 GB200. Compute at $6.88/GPU-h for H100 (catalog p5.48xlarge, $55.04/h / 8) and the
// scenario's $14.2416/GPU-h for GB200:
//   1,024 x 6.88 x 744 + 864 x 14.2416 x 744 = 5,241,569.28 + 9,154,728.35 = $14,396,297.63.
TEST_CASE("cost: the quickstart's paid, busy and compute figures by hand", "[cost][world]") {
  const Scenario s = load_scenario(std::string(FLEETSIM_SOURCE_DIR) + "/scenarios/quickstart.json");
  const SimulationResult r = simulate(s, {});
  const auto& c = r.summary.at("cost");
  CHECK(c["gpu_hours"]["paid"].get<double>() == Approx(1888.0 * 744));
  // Busy: 512 + 256 + 192 GPUs whenever no failure holds a node of theirs; failures and spare swaps
  // move that by well under 1%.
  CHECK(c["gpu_hours"]["busy"].get<double>() == Approx(960.0 * 744).epsilon(0.01));
  CHECK(c["compute_usd"].get<double>() == Approx(1024 * 6.88 * 744 + 864 * 14.2416 * 744));
  CHECK(c["total_usd"].get<double>() == Approx(c["compute_usd"].get<double>()));  // billing "included"
  // Energy: between every GPU idle and every GPU at TDP, with the hosts and PUE 1.15.
  const double lo = (1024 * (70 + 787.5) + 864 * (120 + 466.7)) * 1.15 * 744 / 1e6;
  const double hi = (1024 * (700 + 787.5) + 864 * (1200 + 466.7)) * 1.15 * 744 / 1e6;
  CHECK(c["energy_mwh"].get<double>() > lo);
  CHECK(c["energy_mwh"].get<double>() < hi);
  // Consumers pay at most what the fleet costs; the chat service's 448 GB200 for 744 h at $14.2416.
  CHECK(c["inference"]["chat"]["usd"].get<double>() == Approx(448 * 744 * 14.2416));
  CHECK(c["inference"]["chat"]["usd"].get<double>() + c["training"]["llm-70b"]["usd"].get<double>() <
        c["total_usd"].get<double>());
  CHECK(c["usd_per_million_tokens"]["overall"].get<double>() > 0);
  // The commitment: $150 million over 365 days from the run start; 31 days of plan.
  const auto& m = c["commitment"];
  CHECK(m["plan_to_date_usd"].get<double>() == Approx(150e6 * 31 / 365));
  CHECK(m["spent_usd"].get<double>() == Approx(c["total_usd"].get<double>()));
  CHECK(m["overrun_usd"].get<double>() == Approx(m["spent_usd"].get<double>() - m["plan_to_date_usd"].get<double>()));
}

// Every row of the quickstart's cost.csv: busy + idle + failed = paid; amounts add up to the summary.
TEST_CASE("cost: cost.csv rows are consistent with each other and with the summary", "[cost][world]") {
  const Scenario s = load_scenario(std::string(FLEETSIM_SOURCE_DIR) + "/scenarios/quickstart.json");
  const fleetsim::test::TempDir tmp("cost-world");
  SimulationOptions opt;
  opt.directory = tmp.path;
  const SimulationResult r = simulate(s, opt);
  std::ifstream in(tmp.path / "cost.csv");
  std::string line;
  std::getline(in, line);
  std::vector<std::string> cols;
  for (size_t a = 0, b; a <= line.size(); a = b + 1) {
    b = line.find(',', a);
    if (b == std::string::npos) b = line.size();
    cols.push_back(line.substr(a, b - a));
  }
  const auto col = [&](std::string_view name) { return std::find(cols.begin(), cols.end(), name) - cols.begin(); };
  double total = 0, energy_kwh = 0, last_fleet = 0;
  size_t rows = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    for (size_t a = 0, b; a <= line.size(); a = b + 1) {
      b = line.find(',', a);
      if (b == std::string::npos) b = line.size();
      f.push_back(line.substr(a, b - a));
    }
    REQUIRE(f.size() == cols.size());
    const auto num = [&](std::string_view name) { return std::stod(f[col(name)]); };
    CHECK(num("gpus_busy") + num("gpus_idle") + num("gpus_failed") == num("gpus_paid"));
    CHECK(num("total_usd") == num("compute_usd"));  // energy included in the price
    total += num("total_usd");
    energy_kwh += num("energy_kwh");
    last_fleet = num("fleet_cumulative_usd");
    ++rows;
  }
  CHECK(rows == 3 * (31 * 24 + 1));  // three groups, hourly from 0 to 744 h
  const auto& c = r.summary.at("cost");
  CHECK(total == Approx(c["total_usd"].get<double>()));
  CHECK(last_fleet == Approx(c["total_usd"].get<double>()));
  CHECK(energy_kwh / 1000 == Approx(c["energy_mwh"].get<double>()));
}

// Borrowed replicas are the service's: from the grant to the return it pays for their GPUs, so with
// load beyond its dedicated replicas the service's GPU-hours exceed them (before, only the dedicated
// replicas were billed to it and the borrowed GPUs were busy without a payer). A TP4 replica fills a
// 4-GPU GB200 host, so what the service borrowed is what autoscaling added to the busy GPU-hours.
TEST_CASE("cost: an autoscaled service pays for the GPUs it borrows", "[cost][world][autoscale]") {
  std::ifstream in(std::string(FLEETSIM_SOURCE_DIR) + "/scenarios/quickstart.json");
  nlohmann::json j = nlohmann::json::parse(in);
  j["until"] = "3d";  // the quickstart's dated outages lie beyond the cut and are dropped
  auto& chat = j["inference"]["services"][0];
  chat["arrivals"]["rate"] = "3000/s";  // far beyond what the 112 dedicated replicas serve
  chat["regions"][0]["max_extra_replicas"] = 40;
  chat["regions"][1]["max_extra_replicas"] = 0;
  const auto run = [&](bool autoscale) {
    chat["autoscale"] = {{"enabled", autoscale}, {"interval", "15min"}, {"scale_up_delay", "10min"},
                         {"scale_down_delay", "2h"}, {"target_utilization", 0.7}, {"priority", 100}};
    return simulate(load_scenario_text(j.dump(), "autoscaled-quickstart.json"), {}).summary.at("cost");
  };
  const nlohmann::json fixed = run(false), scaled = run(true);
  const double dedicated_h = 112.0 * 4 * 72;
  CHECK(fixed["inference"]["chat"]["gpu_hours"].get<double>() == Approx(dedicated_h));
  const double chat_h = scaled["inference"]["chat"]["gpu_hours"].get<double>();
  INFO("chat GPU-hours " << chat_h << ", dedicated " << dedicated_h);
  CHECK(chat_h > dedicated_h * 1.1);
  CHECK(chat_h <= (112.0 + 40) * 4 * 72 + 1e-6);  // never more than it may borrow
  const double added_busy_h = scaled["gpu_hours"]["busy"].get<double>() - fixed["gpu_hours"]["busy"].get<double>();
  CHECK(chat_h - dedicated_h == Approx(added_busy_h).epsilon(0.01));
  CHECK(scaled["inference"]["chat"]["usd"].get<double>() == Approx(chat_h * 14.2416).epsilon(1e-9));
}
