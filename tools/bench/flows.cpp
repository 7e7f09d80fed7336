// SPDX-License-Identifier: Apache-2.0
// Flow-model benchmark: a 3-level k=32 fat-tree (8,192 hosts, 1,280 switches, 400 Gb/s links, 1 us per
// link), 10 MB flows between uniformly random host pairs, started in closed-loop waves: a wave of C
// flows starts at once, the next wave starts when the last flow of the previous one has arrived, until
// `--total` flows have run. One JSON line per wave size C (default 1024, 2048, 4096, 8192; total 8192).
//
//   bench_flows                       # all four wave sizes
//   bench_flows --at-once 8192        # one configuration (fresh process: peak RSS is its own)
//   bench_flows --k 16 --total 4096 --bytes 1e6 --seed 3
//   bench_flows --study scenarios/topologies/*.json   # the topology study of docs/topologies.md
//
// Fields: wall_s (flow simulation only, after the fabric is built; routing tables are built lazily
// inside it), cpu_s (process CPU time of the same span: what wall_s would be on an unshared machine),
// build_s (topology graph),
// flows_per_s = total / wall_s, peak_rss_mib (the process's peak so far: run one --at-once per process
// for a clean figure), simulated_s, events, solves, mean_component_flows (flows re-solved per solve),
// rate_changes (flows whose rate and event moved), bfs_runs (routing distance tables computed).
#include "models/network/collectives.hpp"
#include "models/network/flow_model.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "sim/engine.hpp"
#include "models/scenario/load_catalog.hpp"
#include "models/scenario/load_fleet.hpp"
#include "models/scenario/load_network.hpp"
#include "models/scenario/reader.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <time.h>

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
  std::vector<std::string> study;  // scenario files for --study
};

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

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
    if (a == "--study") {
      while (i + 1 < argc && argv[i + 1][0] != '-') o.study.emplace_back(argv[++i]);
      if (o.study.empty()) usage("--study needs scenario files");
      continue;
    }
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

// ---- the topology study (docs/topologies.md) ----
//
// For each scenario: build its network, place the job on cluster 0 (the first `gpus_used_per_domain`
// GPUs of every scale-up domain, up to `job_gpus`), split it into tensor-parallel groups of `tp`
// consecutive GPUs, and cost the data-parallel all-reduce of each TP rank's gradient shard
// (params / tp x bytes_per_param) as `tp` concurrent hierarchical all-reduces (aggregate mode).
// Then fail `link_failure_fraction` of the switch-to-switch links (seeded) and cost it again. Also
// costs an all-to-all among the first `a2a_gpus` GPUs (expert-parallel style), which shows
// oversubscription. Parameters come from the scenario's "_study" annotation.
void study_one(const std::string& path) {
  Diagnostics diags(path);
  const nlohmann::json doc = parse_json_file(path, diags);
  const Reader root = Reader::root(doc, diags);
  RunSpec run;
  run.horizon = Duration::days(365);
  const Catalog cat = builtin_catalog();
  const FleetSpec fleet = load_fleet(root.section("fleet"), cat, run);
  const NetworkSpec ns = load_network(root.section("network"), fleet, cat);
  diags.throw_if_any();
  const nlohmann::json st = doc.value("_study", nlohmann::json::object());
  const uint32_t job_gpus = st.value("job_gpus", 16384u);
  const uint32_t used = st.value("gpus_used_per_domain", 0u);
  const uint32_t tp = st.value("tp", 8u);
  const double params = st.value("params", 70e9);
  const double bytes_per_param = st.value("bytes_per_param", 2.0);
  const double fail_fraction = st.value("link_failure_fraction", 0.01);
  const uint32_t a2a_gpus = st.value("a2a_gpus", 1024u);
  const double a2a_bytes = st.value("a2a_bytes", 1e9);
  const Duration alpha = parse_duration(st.value("alpha", std::string("5us")));
  const uint32_t hash_seeds = std::max(1u, st.value("hash_seeds", 3u));
  const std::vector<uint32_t> channel_counts = st.value("channels", std::vector<uint32_t>{1, 4});

  const auto t0 = std::chrono::steady_clock::now();
  const Topology topo = build_topology(ns);
  Router router(topo);
  const ClusterSpec& c = ns.clusters.at(0);
  const uint32_t dom = std::max(1u, c.scale_up.gpus_per_domain);
  std::vector<VertexId> job;
  for (uint32_t g = 0; g < c.gpus && job.size() < job_gpus; ++g)
    if (used == 0 || g % dom < used) job.push_back(topo.endpoint(0, g));
  if (job.size() < job_gpus) throw std::runtime_error(fmt::format("{}: only {} GPUs for the job", path, job.size()));
  std::vector<std::vector<VertexId>> dp(tp);
  for (uint32_t j = 0; j < job.size(); ++j) dp[j % tp].push_back(job[j]);
  const std::vector<VertexId> a2a(job.begin(), job.begin() + std::min<size_t>(a2a_gpus, job.size()));

  std::vector<double> cap(topo.directed_edges());
  for (EdgeIndex e = 0; e < cap.size(); ++e) cap[e] = topo.edge(e).bytes_per_s;
  const CollectiveSpec ar{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Hierarchical,
                          .bytes = params / tp * bytes_per_param, .alpha = alpha};
  const CollectiveSpec aa{.op = CollectiveOp::AllToAll, .algorithm = Algorithm::Ring, .bytes = a2a_bytes, .alpha = alpha};
  const ClusterReport& rep = topo.report().clusters[0];
  const std::string name = doc.value("name", path);

  // Fabric links (not access or NVLink: a failed access link is a failed NIC, a job failure).
  std::vector<uint32_t> fabric;
  for (EdgeIndex e = 0; e < topo.directed_edges(); e += 2)
    if (topo.edge(e).kind == LinkKind::LeafSpine || topo.edge(e).kind == LinkKind::SpineCore) fabric.push_back(e / 2);
  Rng rng = RngStreams(1).stream("study/link-failures");
  rng.shuffle(fabric.begin(), fabric.end());
  const size_t nfail = static_cast<size_t>(std::llround(fail_fraction * static_cast<double>(fabric.size())));

  for (int failed = 0; failed < 2; ++failed)
  for (uint32_t channels : channel_counts) {
    if (failed == 1 && channels == channel_counts.front())
      for (size_t i = 0; i < nfail; ++i) router.set_link_up(fabric[i], false);
    // ECMP hash luck matters (one collision halves a synchronous ring): cost with `hash_seeds`
    // different key bases and report each.
    std::vector<double> dp_s, dp_bw;
    bool dp_ok = true;
    CollectiveCost r;
    for (uint32_t h = 0; h < hash_seeds; ++h) {
      CollectiveSpec arh = ar;
      arh.key_base = h;
      arh.channels = channels;
      r = estimate_concurrent(router, cap, dp, arh);
      dp_ok = dp_ok && r.connected;
      dp_s.push_back(r.connected ? r.time.seconds() : -1.0);
      dp_bw.push_back(r.bottleneck_bytes_per_s);
    }
    CollectiveSpec aac = aa;
    aac.channels = channels;
    const CollectiveCost x = estimate_collective(router, cap, a2a, aac);
    const CollectivePlan plan(dp[0], ar, router);
    fmt::print(
        "{{\"study\":\"topologies\",\"scenario\":\"{}\",\"channels\":{},\"links_failed\":{},\"fabric_links\":{},\"gpus\":{},"
        "\"switches\":[{},{},{}],\"bisection_bytes_per_s\":{},\"oversubscription\":{:.3f},"
        "\"dp_ranks\":{},\"dp_groups\":{},\"dp_algorithm\":\"{}\",\"dp_bytes_per_gpu\":{},"
        "\"dp_allreduce_s\":[{:.6f}],\"dp_bottleneck_bytes_per_s\":[{:.6g}],\"dp_connected\":{},"
        "\"a2a_gpus\":{},\"a2a_bytes_per_gpu\":{},\"a2a_s\":{:.6f},\"a2a_bottleneck_bytes_per_s\":{:.6g}}}\n",
        name, channels, failed ? nfail : 0, fabric.size(), job.size(), rep.switches_per_tier[0], rep.switches_per_tier[1],
        rep.switches_per_tier[2], rep.bisection_bytes_per_s, rep.oversubscription, dp[0].size(), tp,
        plan.algorithm() == Algorithm::Hierarchical ? fmt::format("hierarchical g={} m={}", plan.group_size(), plan.groups())
                                                    : std::string("ring"),
        ar.bytes, fmt::join(dp_s, ","), fmt::join(dp_bw, ","), dp_ok, a2a.size(), a2a_bytes,
        x.connected ? x.time.seconds() : -1.0, x.bottleneck_bytes_per_s);
    std::fflush(stdout);
  }
  std::fprintf(stderr, "%s: %.1f s\n", path.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    if (!o.study.empty()) {
      for (const auto& p : o.study) study_one(p);
      return 0;
    }
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
      const double c0 = cpu_seconds();
      w.wave();
      engine.run(SimTime::max());
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double cpu = cpu_seconds() - c0;
      const auto& st = flows.stats();
      if (st.flows_done != o.total) throw std::runtime_error(fmt::format("{} of {} flows done", st.flows_done, o.total));
      fmt::print(
          "{{\"bench\":\"flows\",\"k\":{},\"hosts\":{},\"switches\":{},\"flow_bytes\":{},\"at_once\":{},\"waves\":{},"
          "\"total_flows\":{},\"wall_s\":{:.4f},\"cpu_s\":{:.4f},\"build_s\":{:.4f},\"flows_per_s\":{:.0f},\"peak_rss_mib\":{:.1f},"
          "\"simulated_s\":{},\"events\":{},\"solves\":{},\"mean_component_flows\":{:.1f},\"max_component_flows\":{},"
          "\"solves_skipped\":{},\"rate_changes\":{},\"bfs_runs\":{}}}\n",
          o.k, c.gpus, topo.vertices() - c.gpus, o.bytes, at_once,
          (o.total + at_once - 1) / at_once, o.total, wall, cpu, build_s, o.total / wall, peak_rss_mib(),
          engine.now().seconds(), engine.events_executed(), st.solves,
          st.solves ? static_cast<double>(st.solved_flows) / st.solves : 0.0, st.max_component, st.solves_skipped,
          st.rate_changes,
          router.bfs_runs());
      std::fflush(stdout);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_flows: %s\n", e.what());
    return 1;
  }
}
