// SPDX-License-Identifier: Apache-2.0
// Ring all-reduce benchmark, flow by flow: G ranks run a ring all-reduce of `bytes` on the flow model
// (CollectiveRun, 2(G-1) steps of G flows of bytes/G each), on one of three fabrics of 400 Gb/s links
// with 1 us per link:
//   star       one switch with G host ports (radix G + 1, one uplink to a lone spine that no route uses);
//   leafspine  2 tiers of radix 64 (32 hosts per leaf, non-blocking);
//   fattree    3 tiers, the smallest even k with k^3/4 >= G (Al-Fares et al.'s k-ary fat-tree).
// The same workload as the SimGrid peer's "ring-allreduce" (docs/PERFORMANCE.md has the pairs), so
// the simulated all-reduce time can be compared to the nanosecond and the CPU time side by side.
//
//   bench_ring --topo star --G 1024
//   bench_ring --topo fattree --G 512 --reps 2
//
// One JSON line: allreduce_time_s (simulated, per repetition), cpu_s and wall_s (the flow simulation,
// after the fabric is built), flows, flows_per_cpu_s, bfs_runs, route_cache_hits and route_cache_misses.
#include "models/network/collectives.hpp"
#include "models/network/flow_model.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "sim/engine.hpp"

#include <fmt/format.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace fleetsim;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "bench_ring: %s\nusage: bench_ring [--topo star|leafspine|fattree] [--G ranks] [--bytes B] [--reps R]\n",
               why);
  std::exit(2);
}

ClusterSpec fabric(std::string_view topo, uint32_t g) {
  ClusterSpec c;
  c.name = std::string(topo);
  c.gpus = g;
  c.gpus_per_host = 1;
  c.scale_up.gpus_per_domain = 1;
  c.scale_out.attach = Attach::Tor;
  c.scale_out.port_bytes_per_s = 400e9 / 8;
  c.scale_out.link_latency = Duration::us(1);
  if (topo == "star") {
    c.scale_out.tiers = 2;
    c.scale_out.radix = g + 1;
    c.scale_out.leaf_oversubscription = g;  // g ports down, 1 up
  } else if (topo == "leafspine") {
    c.scale_out.tiers = 2;
    c.scale_out.radix = 64;
  } else if (topo == "fattree") {
    uint32_t k = 2;
    while (k * k * k / 4 < g) k += 2;
    c.scale_out.tiers = 3;
    c.scale_out.radix = k;
  } else {
    usage("--topo must be star, leafspine or fattree");
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::string topo = "star";
  uint32_t g = 1024, reps = 1;
  double bytes = 256.0 * 1024 * 1024;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage("missing value");
    const char* v = argv[++i];
    if (a == "--topo") {
      topo = v;
    } else if (a == "--G") {
      g = static_cast<uint32_t>(std::stoul(v));
    } else if (a == "--bytes") {
      bytes = std::stod(v);
    } else if (a == "--reps") {
      reps = static_cast<uint32_t>(std::stoul(v));
    } else {
      usage("unknown option");
    }
  }
  if (g < 2) usage("--G must be at least 2");
  try {
    const ClusterSpec c = fabric(topo, g);
    const Topology t = build_topology(NetworkSpec{{c}, {}, {}});
    std::vector<VertexId> ranks(g);
    for (uint32_t i = 0; i < g; ++i) ranks[i] = t.endpoint(0, i);
    Router router(t);
    Engine engine;
    FlowModel flows(t, router, engine);
    const CollectiveSpec spec{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = bytes};
    const double c0 = cpu_seconds();
    const auto w0 = std::chrono::steady_clock::now();
    double simulated = 0;
    for (uint32_t r = 0; r < reps; ++r) {
      CollectiveRun run(flows, router, engine, ranks, spec);
      run.start();
      engine.run(SimTime::max());
      if (!run.done() || run.failed()) throw std::runtime_error("the all-reduce did not complete");
      simulated += run.elapsed().seconds();
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    const double cpu = cpu_seconds() - c0;
    const uint64_t nflows = flows.stats().flows_started;
    fmt::print(
        "{{\"bench\":\"ring\",\"topo\":\"{}\",\"G\":{},\"bytes\":{},\"reps\":{},\"switches\":{},\"allreduce_time_s\":{:.9f},"
        "\"cpu_s\":{:.4f},\"wall_s\":{:.4f},\"flows\":{},\"flows_per_cpu_s\":{:.0f},\"events\":{},\"bfs_runs\":{}}}\n",
        topo, g, bytes, reps, t.vertices() - g, simulated / reps, cpu, wall, nflows, nflows / cpu,
        engine.events_executed(), router.bfs_runs());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ring: %s\n", e.what());
    return 1;
  }
}
