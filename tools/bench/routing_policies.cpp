// SPDX-License-Identifier: Apache-2.0
// Routing-policy study (docs/topologies.md, "Routing policies"): for each topology scenario and each
// policy (ecmp, spray, adaptive; pinned is ECMP for every pair its file does not list), two figures:
//
//   step     a whole `fleetsim run` of the scenario for 1 simulated hour with collective_costing "flows"
//            and network.clusters[0].routing.policy set: the training job's step time and exposed
//            communication (summary.json).
//   fct      flow completion times on the scenario's fabric (flow model, max-min): a random permutation
//            among the first `--gpus` GPUs of cluster 0 (every GPU sends `--bytes` to one other, all at
//            once, seeded), then the median and p99 of completion times.
//
//   bench_routing_policies [--gpus N] [--bytes B] [--no-step] scenarios/topologies/*.json
//
// One JSON line per (scenario, policy): scenario, policy, step_time_s, exposed_comm_s (absent with
// --no-step), fct_gpus, fct_bytes, fct_p50_s, fct_p99_s, fct_max_s, wall_s.
#include "models/network/flow_model.hpp"
#include "models/network/routing.hpp"
#include "models/scenario/load_scenario.hpp"
#include "tools/run/simulation.hpp"
#include "sim/rng.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <numeric>
#include <string>
#include <vector>

using namespace fleetsim;

namespace {

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank (the smallest value with at least q of the sample at or below it).
  const size_t k = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
}

struct Fct {
  double p50 = 0, p99 = 0, max = 0;
};

Fct permutation_fct(const Topology& topo, RoutingPolicy policy, uint32_t gpus, double bytes) {
  Router router(topo);
  router.set_policy(0, policy);
  Engine engine;
  FlowModel flows(topo, router, engine);
  const uint32_t n = std::min(gpus, topo.report().clusters[0].gpus);
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  Rng rng = RngStreams(1).stream("bench/routing-policies/permutation");
  // A derangement: shuffle until no GPU sends to itself (a few tries at most).
  do rng.shuffle(perm.begin(), perm.end());
  while ([&] {
    for (uint32_t i = 0; i < n; ++i)
      if (perm[i] == i) return true;
    return false;
  }());
  std::vector<double> fct;
  fct.reserve(n);
  for (uint32_t i = 0; i < n; ++i)
    flows.start(topo.endpoint(0, i), topo.endpoint(0, perm[i]), bytes,
                [&] { fct.push_back(engine.now().since_epoch().seconds()); });
  engine.run(SimTime::max());
  if (fct.size() != n) throw std::runtime_error(fmt::format("{} of {} flows done", fct.size(), n));
  return Fct{quantile(fct, 0.5), quantile(fct, 0.99), *std::max_element(fct.begin(), fct.end())};
}

}  // namespace

int main(int argc, char** argv) {
  uint32_t gpus = 4096;
  double bytes = 64e6;
  bool step = true;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--gpus" && i + 1 < argc) {
      gpus = static_cast<uint32_t>(std::stoul(argv[++i]));
    } else if (a == "--bytes" && i + 1 < argc) {
      bytes = std::stod(argv[++i]);
    } else if (a == "--no-step") {
      step = false;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "usage: bench_routing_policies [--gpus N] [--bytes B] [--no-step] SCENARIO.json...\n");
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: bench_routing_policies [--gpus N] [--bytes B] [--no-step] SCENARIO.json...\n");
    return 2;
  }
  try {
    for (const std::string& f : files) {
      for (const RoutingPolicy p : {RoutingPolicy::Ecmp, RoutingPolicy::Spray, RoutingPolicy::Adaptive}) {
        const auto t0 = std::chrono::steady_clock::now();
        LoadOptions lo;
        lo.until = "1h";
        lo.overrides.push_back(parse_override("/network/collective_costing=\"flows\""));
        lo.overrides.push_back(
            parse_override(fmt::format("/network/clusters/0/routing={{\"policy\": \"{}\"}}", routing_policy_name(p))));
        const Scenario s = load_scenario(f, lo);
        std::string step_fields;
        if (step) {
          const SimulationResult r = simulate(s, SimulationOptions{});
          for (const auto& [name, job] : r.summary["training"]["jobs"].items()) {
            step_fields = fmt::format(",\"step_time_s\":{:.4f},\"exposed_comm_s\":{:.4f}", job["step_time_s"].get<double>(),
                                      job["exposed_comm_s"].get<double>());
            break;
          }
        }
        const Topology topo = build_topology(s.network);
        const Fct x = permutation_fct(topo, p, gpus, bytes);
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        fmt::print("{{\"scenario\":\"{}\",\"policy\":\"{}\"{},\"fct_gpus\":{},\"fct_bytes\":{},\"fct_p50_s\":{:.6f},"
                   "\"fct_p99_s\":{:.6f},\"fct_max_s\":{:.6f},\"wall_s\":{:.1f}}}\n",
                   s.run.name, routing_policy_name(p), step_fields, std::min(gpus, topo.report().clusters[0].gpus), bytes,
                   x.p50, x.p99, x.max, wall);
        std::fflush(stdout);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_routing_policies: %s\n", e.what());
    return 1;
  }
  return 0;
}
