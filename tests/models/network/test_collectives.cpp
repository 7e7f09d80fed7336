// SPDX-License-Identifier: Apache-2.0
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

Duration run_detailed(Fabric& f, const std::vector<VertexId>& placement, const CollectiveSpec& s) {
  CollectiveRun run(f.flows, f.router, f.engine, placement, s);
  run.start();
  f.run();
  REQUIRE(run.done());
  REQUIRE_FALSE(run.failed());
  return run.elapsed();
}

std::vector<VertexId> first_gpus(const Fabric& f, uint32_t n) {
  std::vector<VertexId> p;
  for (uint32_t i = 0; i < n; ++i) p.push_back(f.gpu(i));
  return p;
}

// 64 GPUs in 8 HGX hosts (NVLink 450 GB/s), rail-optimized 2-tier fabric of radix 16.
ClusterSpec hgx64() {
  ClusterSpec c;
  c.name = "hgx";
  c.gpus = 64;
  c.gpus_per_host = 8;
  c.scale_up = {8, 450e9, Duration::ns(250)};
  c.scale_out.attach = Attach::Rail;
  c.scale_out.tiers = 2;
  c.scale_out.radix = 16;
  c.scale_out.port_bytes_per_s = kPort;
  c.scale_out.link_latency = Duration::ns(500);
  return c;
}

}  // namespace

TEST_CASE("ring all-reduce on an idle non-blocking fabric follows the alpha-beta formula", "[network]") {
  // 8 GPUs on two leaves of a 1:1 leaf-spine. Ring hops inside a leaf cross 2 links, the two hops between
  // leaves cross 4 (on different directed links: no sharing), so every step lasts alpha + 4 x 500 ns +
  // (S/n)/B and the total is 2(n-1)/n * S/B + 2(n-1) * (alpha + 2 us).
  Fabric f(tor_cluster(8, 8, 2));
  const auto placement = first_gpus(f, 8);
  CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 80e6, .alpha = Duration::us(5)};
  const Duration detailed = run_detailed(f, placement, s);
  const Duration formula = ring_allreduce_time(8, 80e6, kPort, s.alpha + Duration::us(2));
  CHECK(std::llabs(detailed.ticks() - formula.ticks()) <= 14);  // one ns of rounding per step at most
  const CollectiveCost agg = estimate_collective(f.router, f.capacities(), placement, s);
  CHECK(std::llabs(agg.time.ticks() - formula.ticks()) <= 14);
  CHECK(agg.steps == 14);
  CHECK(agg.bottleneck_bytes_per_s == Approx(kPort));
  CHECK(agg.step_latency == s.alpha + Duration::us(2));
}

TEST_CASE("detailed and aggregate costing agree within 5 percent on an idle fabric", "[network]") {
  struct Case {
    const char* name;
    CollectiveOp op;
    Algorithm algo;
    uint32_t n;
  };
  const Case cases[] = {
      {"ring all-reduce", CollectiveOp::AllReduce, Algorithm::Ring, 64},
      {"tree all-reduce", CollectiveOp::AllReduce, Algorithm::Tree, 64},
      {"hierarchical all-reduce", CollectiveOp::AllReduce, Algorithm::Hierarchical, 64},
      {"all-gather", CollectiveOp::AllGather, Algorithm::Ring, 64},
      {"reduce-scatter", CollectiveOp::ReduceScatter, Algorithm::Ring, 64},
      {"all-to-all", CollectiveOp::AllToAll, Algorithm::Ring, 16},
      {"point-to-point", CollectiveOp::PointToPoint, Algorithm::Ring, 2},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      Fabric f(hgx64());
      std::vector<VertexId> placement = first_gpus(f, 64);
      if (c.n == 2) placement = {f.gpu(0), f.gpu(8)};  // host 0 to host 1, same rail
      if (c.n == 16) placement.resize(16);
      const CollectiveSpec s{.op = c.op, .algorithm = c.algo, .bytes = 256e6, .alpha = Duration::us(3)};
      const Duration detailed = run_detailed(f, placement, s);
      const CollectiveCost agg = estimate_collective(f.router, f.capacities(), placement, s);
      INFO(c.name << ": detailed " << detailed.seconds() << " s, aggregate " << agg.time.seconds() << " s");
      CHECK(std::abs(detailed.seconds() - agg.time.seconds()) <= 0.05 * agg.time.seconds());
      CHECK(detailed > Duration::zero());
    }
  }
}

TEST_CASE("hierarchical all-reduce keeps the big transfers on NVLink", "[network]") {
  Fabric f(hgx64());
  const auto placement = first_gpus(f, 64);
  CollectiveSpec ring{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 1e9};
  CollectiveSpec hier = ring;
  hier.algorithm = Algorithm::Hierarchical;
  const CollectivePlan plan(placement, hier, f.router);
  CHECK(plan.algorithm() == Algorithm::Hierarchical);
  CHECK(plan.group_size() == 8);
  CHECK(plan.groups() == 8);
  CHECK(plan.steps() == 7 + 14 + 7);
  const auto r = estimate_collective(f.router, f.capacities(), placement, ring);
  const auto h = estimate_collective(f.router, f.capacities(), placement, hier);
  CHECK(h.time < r.time);
}

TEST_CASE("two all-reduce jobs sharing spine uplinks slow each other by their share", "[network]") {
  // Leaves of 3 GPUs under one spine (radix 4 at 3:1). Job A rings GPUs 0 and 3, job B GPUs 1 and 4:
  // in every step both jobs push one flow through leaf0 -> spine and one through leaf1 -> spine, so each
  // gets half of those links while alone it had all of it.
  const ClusterSpec c = tor_cluster(9, 4, 2, 3);
  const CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 100e6};
  Duration alone;
  {
    Fabric f(c);
    alone = run_detailed(f, {f.gpu(0), f.gpu(3)}, s);
  }
  Fabric f(c);
  CollectiveSpec sb = s;
  sb.key_base = 99;
  CollectiveRun a(f.flows, f.router, f.engine, std::vector<VertexId>{f.gpu(0), f.gpu(3)}, s);
  CollectiveRun b(f.flows, f.router, f.engine, std::vector<VertexId>{f.gpu(1), f.gpu(4)}, sb);
  a.start();
  b.start();
  f.run();
  REQUIRE(a.done());
  REQUIRE(b.done());
  // 2 steps of 4 links x 500 ns + 50 MB at B (alone) or B/2 (shared).
  CHECK(alone.ticks() == 2 * (2'000 + 1'000'000));
  CHECK(a.elapsed().ticks() == 2 * (2'000 + 2'000'000));
  CHECK(b.elapsed() == a.elapsed());
  // The aggregate model sees the same share when told the other job's load.
  const std::vector<VertexId> pa{f.gpu(0), f.gpu(3)};
  std::vector<double> bg(f.topo.directed_edges(), 0.0);
  std::vector<EdgeIndex> path;
  for (auto [x, y] : {std::pair{f.gpu(1), f.gpu(4)}, std::pair{f.gpu(4), f.gpu(1)}}) {
    f.router.route(x, y, 1, path);
    for (EdgeIndex e : path) bg[e] += kPort / 2;
  }
  const CollectiveCost shared = estimate_collective(f.router, f.capacities(), pa, s, bg);
  CHECK(shared.time.ticks() == Approx(static_cast<double>(a.elapsed().ticks())).epsilon(1e-6));
}

TEST_CASE("a collective on a split placement fails", "[network]") {
  Fabric f(tor_cluster(8, 8, 2));
  const auto placement = first_gpus(f, 8);
  // Cut every uplink of leaf 1 (GPUs 4-7).
  const VertexId leaf1 = f.topo.edge(f.router.out(f.gpu(4))[0].e).target;
  for (const auto& o : f.router.out(leaf1))
    if (f.topo.vertex(o.to).kind == VertexKind::Spine) f.flows.set_link_up(Router::link_of(o.e), false);
  CHECK_FALSE(f.router.check_placement(placement).connected);
  const CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 8e6};
  CHECK_FALSE(estimate_collective(f.router, f.capacities(), placement, s).connected);
  CollectiveRun run(f.flows, f.router, f.engine, placement, s);
  run.start();
  f.run();
  CHECK(run.done());
  CHECK(run.failed());
}

TEST_CASE("channels split transfers without changing the idle-fabric time", "[network]") {
  Fabric f(tor_cluster(8, 8, 2));
  const auto placement = first_gpus(f, 8);
  CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 80e6, .alpha = Duration::us(5)};
  s.channels = 4;
  const Duration detailed = run_detailed(f, placement, s);
  const Duration formula = ring_allreduce_time(8, 80e6, kPort, s.alpha + Duration::us(2));
  CHECK(std::llabs(detailed.ticks() - formula.ticks()) <= 14);
  CHECK(f.flows.stats().flows_done == 14 * 8 * 4);
  const CollectiveCost agg = estimate_collective(f.router, f.capacities(), placement, s);
  CHECK(std::llabs(agg.time.ticks() - formula.ticks()) <= 14);
  CHECK(agg.bottleneck_bytes_per_s == Approx(kPort / 4));
}
