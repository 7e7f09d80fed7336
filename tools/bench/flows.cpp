// SPDX-License-Identifier: Apache-2.0
// Flow-model benchmark: a 3-level k=32 fat-tree (8,192 hosts, 1,280 switches, 400 Gb/s links, 1 us per
// link), 10 MB flows between uniformly random host pairs, started in closed-loop waves: a wave of C
// flows starts at once, the next wave starts when the last flow of the previous one has arrived, until
// `--total` flows have run. One JSON line per wave size C (default 1024, 2048, 4096, 8192; total 8192).
//
//   bench_flows                       # all four wave sizes
//   bench_flows --at-once 8192        # one configuration (fresh process: peak RSS is its own)
//   bench_flows --k 16 --total 4096 --bytes 1e6 --seed 3
//
// Fields: wall_s (flow simulation only, after the fabric is built), build_s (topology + router),
// flows_per_s = total / wall_s, peak_rss_mib (the process's peak so far: run one --at-once per process
// for a clean figure), simulated_s, events, solves, mean_component_flows (flows re-solved per solve),
// rate_changes (flows whose rate and event moved), bfs_runs (routing distance tables computed).
#include "models/network/flow_model.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "sim/engine.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace fleetsim;

struct Options {
  uint32_t k = 32;
  uint32_t total = 8192;
  std::vector<uint32_t> at_once{1024, 2048, 4096, 8192};
  double bytes = 10e6;
  uint64_t seed = 1;
};

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: kilobytes
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "bench_flows: %s\nusage: bench_flows [--k K] [--total N] [--at-once C] [--bytes B] [--seed S]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  bool at_once_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) usage("missing value");
    const char* v = argv[++i];
    if (a == "--k") {
      o.k = static_cast<uint32_t>(std::stoul(v));
    } else if (a == "--total") {
      o.total = static_cast<uint32_t>(std::stoul(v));
    } else if (a == "--at-once") {
      if (!at_once_given) o.at_once.clear();
      at_once_given = true;
      o.at_once.push_back(static_cast<uint32_t>(std::stoul(v)));
    } else if (a == "--bytes") {
      o.bytes = std::stod(v);
    } else if (a == "--seed") {
      o.seed = std::stoull(v);
    } else {
      usage("unknown option");
    }
  }
  if (o.k < 2 || o.k % 2 != 0) usage("--k must be even and at least 2");
  return o;
}

// Closed-loop waves of C flows.
struct Waves {
  FlowModel& flows;
  const Topology& topo;
  Rng rng;
  uint32_t hosts, at_once, total, started = 0, outstanding = 0;
  double bytes;
  void wave() {
    const uint32_t n = std::min(at_once, total - started);
    outstanding = n;
    for (uint32_t i = 0; i < n; ++i) {
      const auto s = static_cast<uint32_t>(rng.uniform_int(uint64_t{hosts}));
      auto d = static_cast<uint32_t>(rng.uniform_int(uint64_t{hosts - 1}));
      if (d >= s) ++d;
      flows.start(topo.endpoint(0, s), topo.endpoint(0, d), bytes, [this] { done(); });
    }
    started += n;
  }
  void done() {
    if (--outstanding == 0 && started < total) wave();
  }
};

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const auto b0 = std::chrono::steady_clock::now();
    ClusterSpec c;
    c.name = "ft";
    c.gpus = o.k * o.k * o.k / 4;
    c.gpus_per_host = 1;
    c.scale_up.gpus_per_domain = 1;
    c.scale_out.attach = Attach::Tor;
    c.scale_out.tiers = 3;
    c.scale_out.radix = o.k;
    c.scale_out.port_bytes_per_s = 400e9 / 8;
    c.scale_out.link_latency = Duration::us(1);
    const Topology topo = build_topology(NetworkSpec{{c}, {}, {}});
    const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - b0).count();

    for (uint32_t at_once : o.at_once) {
      Router router(topo);
      Engine engine;
      FlowModel flows(topo, router, engine);
      Waves w{flows, topo, RngStreams(o.seed).stream("bench/flows"), c.gpus, at_once, o.total, 0, 0, o.bytes};
      const auto t0 = std::chrono::steady_clock::now();
      w.wave();
      engine.run(SimTime::max());
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto& st = flows.stats();
      if (st.flows_done != o.total) throw std::runtime_error(fmt::format("{} of {} flows done", st.flows_done, o.total));
      fmt::print(
          "{{\"bench\":\"flows\",\"k\":{},\"hosts\":{},\"switches\":{},\"flow_bytes\":{},\"at_once\":{},\"waves\":{},"
          "\"total_flows\":{},\"wall_s\":{:.4f},\"build_s\":{:.4f},\"flows_per_s\":{:.0f},\"peak_rss_mib\":{:.1f},"
          "\"simulated_s\":{},\"events\":{},\"solves\":{},\"mean_component_flows\":{:.1f},\"max_component_flows\":{},"
          "\"rate_changes\":{},\"bfs_runs\":{}}}\n",
          o.k, c.gpus, topo.vertices() - c.gpus, o.bytes, at_once,
          (o.total + at_once - 1) / at_once, o.total, wall, build_s, o.total / wall, peak_rss_mib(),
          engine.now().seconds(), engine.events_executed(), st.solves,
          st.solves ? static_cast<double>(st.solved_flows) / st.solves : 0.0, st.max_component, st.rate_changes,
          router.bfs_runs());
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_flows: %s\n", e.what());
    return 1;
  }
}
