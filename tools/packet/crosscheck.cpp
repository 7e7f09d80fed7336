// SPDX-License-Identifier: Apache-2.0
#include "tools/packet/crosscheck.hpp"

#include "models/network/flow_model.hpp"
#include "sim/engine.hpp"
#include "sim/rng.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fleetsim::packet {

namespace {

// Every fabric: 16 single-GPU hosts (no scale-up links), 100 Gb/s ports (12.5e9 bytes/s), ToR
// attachment, fleetsim's default 500 ns per link.
constexpr double kPortBytesPerS = 12.5e9;

ClusterSpec host_cluster(std::string name, uint32_t tiers, uint32_t radix, double leaf_oversubscription) {
  ClusterSpec c;
  c.name = std::move(name);
  c.gpus = 16;
  c.gpus_per_host = 1;
  c.scale_up.gpus_per_domain = 1;
  c.scale_out.attach = Attach::Tor;
  c.scale_out.tiers = tiers;
  c.scale_out.radix = radix;
  c.scale_out.port_bytes_per_s = kPortBytesPerS;
  c.scale_out.leaf_oversubscription = leaf_oversubscription;
  return c;
}

/// k = 4 fat-tree (Al-Fares et al.): 16 hosts, 8 leaves, 8 aggregation, 4 core switches; full bisection.
NetworkSpec fat_tree_k4() { return NetworkSpec{{host_cluster("ft", 3, 4, 1)}, {}, {}}; }

/// Leaf-spine with 2:1 leaves: radix 6, 4 down and 2 up ports per leaf, 4 leaves, 2 spines.
NetworkSpec leaf_spine_2to1() { return NetworkSpec{{host_cluster("ls", 2, 6, 2)}, {}, {}}; }

/// Flow keys are the flow's index + 1, so both models hash every flow onto the same ECMP path.
void add(Workload& w, uint32_t src, uint32_t dst, double bytes) {
  // Vertices 0..15 are the GPUs of cluster 0 (build_topology makes GPU endpoints first).
  w.flows.push_back(PacketFlow{.src = src, .dst = dst, .bytes = std::round(bytes), .start = Duration::zero(),
                               .key = w.flows.size() + 1});
}

}  // namespace

std::vector<Workload> crosscheck_workloads(double scale) {
  if (!(scale > 0)) throw std::invalid_argument("crosscheck: scale must be > 0");
  constexpr uint32_t n = 16;
  std::vector<Workload> out;

  // A random permutation (no host sends to itself): ECMP collisions on the fat-tree's up-links halve
  // some flows' rates; the fluid model and the packets share the same paths, so the same collisions.
  Workload perm{"permutation", "k=4 fat-tree, 16 flows host -> random other host, 4 MB each", fat_tree_k4(), {}};
  {
    std::vector<uint32_t> to(n);
    Rng rng(16);
    for (;;) {  // a derangement by rejection (about e tries)
      for (uint32_t i = 0; i < n; ++i) to[i] = i;
      rng.shuffle(to.begin(), to.end());
      bool fixed = false;
      for (uint32_t i = 0; i < n; ++i) fixed |= to[i] == i;
      if (!fixed) break;
    }
    for (uint32_t i = 0; i < n; ++i) add(perm, i, to[i], 4e6 * scale);
  }
  out.push_back(std::move(perm));

  // Incast: 15 senders to one receiver at once (a parameter server's gather, a storage read fan-in).
  Workload incast{"incast", "k=4 fat-tree, 15 hosts -> host 0 at once, 1 MB each", fat_tree_k4(), {}};
  for (uint32_t i = 1; i < n; ++i) add(incast, i, 0, 1e6 * scale);
  out.push_back(std::move(incast));

  // Ring all-reduce of S = 4 MB over 16 ranks, bandwidth view: every rank sends 2 (n - 1) / n * S to its
  // ring successor (the reduce-scatter and all-gather chunks, pipelined into one flow per ring edge).
  Workload ring{"ring_allreduce", "k=4 fat-tree, ring of 16 ranks, all-reduce of 4 MB (7.5 MB per ring edge)",
                fat_tree_k4(), {}};
  for (uint32_t i = 0; i < n; ++i) add(ring, i, (i + 1) % n, 2.0 * (n - 1) / n * 4e6 * scale);
  out.push_back(std::move(ring));

  // All-to-all (an expert-parallel dispatch): every host sends 256 kB to every other, through leaves
  // with half as much uplink as downlink.
  Workload a2a{"all_to_all_2to1", "leaf-spine 2:1 oversubscribed, 16 hosts all-to-all, 256 kB per pair",
               leaf_spine_2to1(), {}};
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t j = 0; j < n; ++j)
      if (i != j) add(a2a, i, j, 256e3 * scale);
  out.push_back(std::move(a2a));
  return out;
}

std::vector<Duration> run_fluid(const Topology& topo, Router& router, std::span<const PacketFlow> flows) {
  Engine engine;
  FlowModel model(topo, router, engine);
  std::vector<Duration> fct(flows.size(), Duration::max());
  struct Ctx {
    Engine* engine;
    FlowModel* model;
    std::span<const PacketFlow> flows;
    std::vector<Duration>* fct;
  } ctx{&engine, &model, flows, &fct};
  for (size_t i = 0; i < flows.size(); ++i) {
    engine.schedule_at(SimTime::zero() + flows[i].start, Phase::Arrival, [c = &ctx, i] {
      const PacketFlow& f = c->flows[i];
      c->model->start(f.src, f.dst, f.bytes, [c, i] { (*c->fct)[i] = c->engine->now() - (SimTime::zero() + c->flows[i].start); },
                      f.key);
    });
  }
  engine.run(SimTime::max());
  return fct;
}

RatioStats ratio_stats(std::span<const Duration> fluid, std::span<const Duration> packet) {
  if (fluid.size() != packet.size()) throw std::invalid_argument("crosscheck: fluid and packet runs differ in flows");
  std::vector<double> r;
  RatioStats s;
  for (size_t i = 0; i < fluid.size(); ++i) {
    if (packet[i] == Duration::max() || fluid[i] == Duration::max()) {
      ++s.unfinished;
      continue;
    }
    r.push_back(fluid[i].seconds() / packet[i].seconds());
  }
  if (r.empty()) return s;
  std::sort(r.begin(), r.end());
  const auto rank = [&](double p) {
    const auto k = static_cast<size_t>(std::ceil(p * static_cast<double>(r.size())));
    return r[std::clamp<size_t>(k, 1, r.size()) - 1];
  };
  s.median = rank(0.5);
  s.p99 = rank(0.99);
  s.min = r.front();
  s.max = r.back();
  s.flows = static_cast<uint32_t>(r.size());
  return s;
}

}  // namespace fleetsim::packet
