// SPDX-License-Identifier: Apache-2.0
// Collective-costing benchmark: a whole `fleetsim run` of each topology scenario (1 hour simulated;
// the job is placed and its step costed once, at its start) with network.collective_costing
// "aggregate" and "flows", healthy and with 1% of the fabric links failed. One JSON line per case:
//
//   bench_collective_costing scenarios/topologies/*.json
//
// Fields: scenario, costing, failed_fraction, step_time_s, exposed_comm_s, mfu (the job's nominal
// step), costs_computed (cache misses: collective costs computed on the fabric, summary
// /network/collective_costs_computed), run_wall_s (load + build + simulate, the whole run), run_cpu_s
// (process CPU time of the same span: the flows costing's own cost is the difference between the
// "flows" and "aggregate" lines), peak_rss_mb (the process's peak so far).
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"

#include <fmt/format.h>
#include <sys/resource.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>

using namespace fleetsim;

namespace {

double cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_collective_costing SCENARIO.json...\n");
    return 2;
  }
  try {
    for (int a = 1; a < argc; ++a) {
      for (const char* costing : {"aggregate", "flows"}) {
        for (const double fraction : {0.0, 0.01}) {
          LoadOptions lo;
          lo.until = "1h";
          lo.overrides.push_back(parse_override(fmt::format("/network/collective_costing=\"{}\"", costing)));
          if (fraction > 0)
            lo.overrides.push_back(parse_override(fmt::format("/network/link_failures=[{{\"fraction\": {}}}]", fraction)));
          const auto t0 = std::chrono::steady_clock::now();
          const double c0 = cpu_s();
          const Scenario s = load_scenario(argv[a], lo);
          const SimulationResult r = simulate(s, SimulationOptions{});
          const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          const double cpu = cpu_s() - c0;
          const auto& net = r.summary["network"];
          for (const auto& [name, job] : r.summary["training"]["jobs"].items()) {
            fmt::print(
                "{{\"scenario\":\"{}\",\"job\":\"{}\",\"costing\":\"{}\",\"failed_fraction\":{},\"step_time_s\":{:.4f},"
                "\"exposed_comm_s\":{:.4f},\"mfu\":{:.4f},\"costs_computed\":{},"
                "\"run_wall_s\":{:.3f},\"run_cpu_s\":{:.3f},\"peak_rss_mb\":{:.1f}}}\n",
                s.run.name, name, costing, fraction, job["step_time_s"].get<double>(), job["exposed_comm_s"].get<double>(),
                job["mfu"].get<double>(), net["collective_costs_computed"].get<uint64_t>(),
                wall, cpu, peak_rss_mb());
          }
          std::fflush(stdout);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_collective_costing: %s\n", e.what());
    return 1;
  }
  return 0;
}
