// SPDX-License-Identifier: Apache-2.0
#include "models/network/fabric_failures.hpp"
#include "models/network/fleet_map.hpp"
#include "models/network/nccl_protocol.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "models/training/network_comm_cost.hpp"
#include "tests/models/training/fabric_fixture.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;

namespace {

// 16 HGX hosts (128 H100) in one datacenter, rail-optimized 2-tier fabric at 400 Gb/s per GPU.
using Net = fleetsim::test::FabricNet;

}  // namespace

TEST_CASE("network comm cost: a DP ring on a non-blocking fabric matches alpha-beta", "[training]") {
  Net n;
  HardwareFigures hw = fleetsim::test::h100_figures();
  hw.scale_out_latency = Duration::us(5);
  AlphaBetaCommCost ab(hw);
  NetworkCommCost net(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), ab);
  // One GPU (rail 0) per host: 16 ranks, 1 GB each.
  std::vector<uint32_t> gpus;
  for (uint32_t h = 0; h < 16; ++h) gpus.push_back(h * 8);
  CommGroup g;
  g.ranks = 16;
  g.gpus = gpus;
  const double t_net = net.seconds(Collective::AllReduce, 1e9, g);
  const double t_ab = ab.seconds(Collective::AllReduce, 1e9, g);
  CHECK(net.network_answers() == 1);
  // Same bandwidth term (2*15/16 GB at 50 GB/s = 37.5 ms); the network adds its path latencies.
  CHECK(t_net == Approx(t_ab).epsilon(0.02));
  // Memoized: the same question again costs nothing new and gives the same answer.
  CHECK(net.seconds(Collective::AllReduce, 1e9, g) == t_net);
  // Without GPUs the fallback answers.
  CommGroup bare;
  bare.ranks = 16;
  CHECK(net.seconds(Collective::AllReduce, 1e9, bare) == t_ab);
  CHECK(net.fallback_answers() == 1);
}

TEST_CASE("network comm cost: the step model uses it through the placement's groups", "[training]") {
  Net n;
  TrainingJobSpec j = fleetsim::test::small_job(16, 1e12);
  AlphaBetaCommCost ab(j.hardware);
  NetworkCommCost net(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), ab);
  TrainingSpec spec;
  spec.jobs.push_back(j);
  Engine engine;
  Recorder rec;
  GangScheduler sched(n.fleet, engine);
  TrainingModel training(spec, n.fleet, engine, rec, sched, nullptr, nullptr, &net);
  training.start();
  engine.run(SimTime::zero() + Duration::hours(1));
  REQUIRE(training.state(0) == JobState::Running);
  CHECK(net.network_answers() >= 2);  // TP inside a host and the DP ring over the 16 hosts
  CHECK(training.nominal_step(0).dp_s > 0);
}

namespace {

// One 8-GPU host of the fleet seen as 8 single-GPU endpoints on a small ToR leaf-spine (no NVLink), so
// every ring step crosses the scale-out fabric; `radix` and `leaf_over` shape the leaves' uplinks.
struct SmallNet {
  Fleet fleet = Fleet::build(fleetsim::test::h100_fleet(1));
  NetworkSpec spec;
  Topology topo;
  Router router;
  Engine engine;
  FlowModel flows;
  FleetNetworkMap map;
  HardwareFigures hw = fleetsim::test::h100_figures();
  AlphaBetaCommCost ab{hw};
  static NetworkSpec make(uint32_t radix, double leaf_over) {
    NetworkSpec s;
    ClusterSpec c;
    c.name = "dc1";
    c.datacenter = "r1/z1/dc1";
    c.gpus = 8;
    c.gpus_per_host = 1;
    c.scale_up.gpus_per_domain = 1;
    c.scale_out.attach = Attach::Tor;
    c.scale_out.tiers = 2;
    c.scale_out.radix = radix;
    c.scale_out.port_bytes_per_s = 50e9;
    c.scale_out.leaf_oversubscription = leaf_over;
    s.clusters.push_back(c);
    return s;
  }
  SmallNet(uint32_t radix, double leaf_over)
      : spec(make(radix, leaf_over)), topo(build_topology(spec)), router(topo), flows(topo, router, engine), map(fleet, topo, spec) {}
};

}  // namespace

TEST_CASE("network comm cost: a failed leaf-spine link slows a ring crossing it by the expected share",
          "[training][network]") {
  // Radix 6 at 2:1: leaves of 4 GPUs with 2 uplinks to one spine. A ring that alternates leaves two
  // GPUs at a time (L0 L0 L1 L1 L0 L0 L1 L1) sends 2 flows each way between the leaves. Healthy, with
  // ECMP spreading them over the 2 uplinks, the ring runs at the port speed B: alpha-beta exactly,
  // 2(n-1)/n S/(eta B) + 2(n-1)(alpha + 4 links x 500 ns), eta NCCL's protocol efficiency
  // (models/network/nccl_protocol.hpp). With one leaf-spine link failed (any of the 4: the fabric is
  // symmetric) both flows of each direction of that leaf share one link: B/2, so the bandwidth term
  // doubles and the ring takes exactly 2(n-1)/n S/(eta B) longer.
  SmallNet n(6, 2);
  REQUIRE(n.topo.report().clusters[0].switches_per_tier[1] == 1);
  const double S = 1e9, B = 50e9;
  const double bw = 2.0 * 7 / 8 * S / B / kNcclScaleOutEfficiency;
  const double healthy_expected = bw + 14 * (5e-6 + 4 * 0.5e-6);
  // Find a ring order whose crossing flows ECMP puts on distinct links (the hash is fixed, so this is
  // deterministic; a collision-free order exists among the 24 x 24 tried).
  std::vector<uint32_t> ring;
  double healthy = 0;
  std::array<uint32_t, 4> a{0, 1, 2, 3}, b{4, 5, 6, 7};
  bool found = false;
  do {
    do {
      std::vector<uint32_t> r{a[0], a[1], b[0], b[1], a[2], a[3], b[2], b[3]};
      NetworkCommCost probe(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), n.ab);
      CommGroup g;
      g.ranks = 8;
      g.gpus = r;
      const double t = probe.seconds(Collective::AllReduce, S, g);
      if (std::abs(t - healthy_expected) < 1e-9 * healthy_expected) {
        ring = r;
        healthy = t;
        found = true;
      }
    } while (!found && std::next_permutation(b.begin(), b.end()));
  } while (!found && std::next_permutation(a.begin(), a.end()));
  REQUIRE(found);

  // Fail one leaf-spine link through the run's path: FabricFailures -> FlowModel -> Router.
  LinkFailureSpec one;
  one.count = 1;
  one.kinds = {LinkKind::LeafSpine};
  FabricFailures ff(n.topo, n.flows, n.engine, nullptr, {one}, 42);
  ff.start();
  REQUIRE(n.router.links_down() == 1);
  NetworkCommCost net(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), n.ab);
  CommGroup g;
  g.ranks = 8;
  g.gpus = ring;
  const double degraded = net.seconds(Collective::AllReduce, S, g);
  CHECK(degraded - healthy == Approx(bw).epsilon(1e-6));
  CHECK(net.fallback_answers() == 0);
}

TEST_CASE("network comm cost: flows costing puts concurrent groups on the fabric together", "[training][network]") {
  // Radix 4 at 3:1: leaves of 3 GPUs with ONE uplink each. DP groups {0, 3} and {1, 4} both cross
  // leaf 0 -> leaf 1 over that single link. Aggregate costs one group alone (rate B); flows costs both
  // (B/2 each, by max-min): the 2-rank all-reduce's bandwidth term 2(n-1)/n S/(eta B) = S/(eta B)
  // doubles (eta: NCCL's protocol efficiency, models/network/nccl_protocol.hpp).
  SmallNet n(4, 3);
  const double S = 1e9, B = 50e9;
  std::vector<uint32_t> one{0, 3}, both{0, 3, 1, 4};
  CommGroup g;
  g.ranks = 2;
  g.gpus = one;
  g.concurrent_gpus = both;
  NetworkCommCost aggregate(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), n.ab, CollectiveCosting::Aggregate);
  NetworkCommCost flows(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), n.ab, CollectiveCosting::Flows);
  const double ta = aggregate.seconds(Collective::AllReduce, S, g);
  const double tf = flows.seconds(Collective::AllReduce, S, g);
  CHECK(ta == Approx(S / B / kNcclScaleOutEfficiency + 2 * (5e-6 + 2e-6)).epsilon(1e-9));
  CHECK(tf - ta == Approx(S / B / kNcclScaleOutEfficiency).epsilon(1e-6));
  CHECK(flows.computed() == 1);
  CHECK(flows.seconds(Collective::AllReduce, S, g) == tf);  // memoized per placement and fabric state
  CHECK(flows.computed() == 1);
  // A link change (here: a repair of nothing is no change; a failure elsewhere is) invalidates it.
  n.flows.set_link_up(Router::link_of(n.router.out(n.topo.endpoint(0, 7)).front().e), false);
  flows.seconds(Collective::AllReduce, S, g);
  CHECK(flows.computed() == 2);
}

TEST_CASE("network comm cost: fallbacks are counted per collective kind and reason", "[training][network]") {
  Net n;
  AlphaBetaCommCost ab(fleetsim::test::h100_figures());
  NetworkCommCost net(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), ab);
  CommGroup bare;
  bare.ranks = 16;
  net.seconds(Collective::AllToAll, 1e6, bare);
  CommGroup one;
  one.ranks = 1;
  net.seconds(Collective::AllReduce, 1e6, one);
  CHECK(net.fallbacks(Collective::AllToAll, 0) == 1);     // no_gpu_list
  CHECK(net.fallbacks(Collective::AllReduce, 1) == 1);    // single_rank
  CHECK(net.fallback_answers() == 2);
  CHECK(NetworkCommCost::kReasonNames[0] == "no_gpu_list");
}

TEST_CASE("network comm cost: a group it cannot cost falls back to its own job's hardware", "[training][network]") {
  // Two jobs on one fabric: the network model's default fallback is the first job's alpha-beta; a
  // group that names its own (the training model sets CommGroup::fallback per job) gets its job's NIC.
  Net n;
  HardwareFigures first = fleetsim::test::h100_figures();
  HardwareFigures other = first;
  other.scale_out_bytes_per_s = 2 * first.scale_out_bytes_per_s;  // a job on faster NICs
  AlphaBetaCommCost ab_first(first), ab_other(other);
  NetworkCommCost net(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), ab_first);
  CommGroup bare;  // no GPU list: the network model cannot cost it
  bare.ranks = 16;
  bare.racks = 2;
  const double as_first = net.seconds(Collective::AllReduce, 1e9, bare);
  CHECK(as_first == ab_first.seconds(Collective::AllReduce, 1e9, bare));
  bare.fallback = &ab_other;
  const double own = net.seconds(Collective::AllReduce, 1e9, bare);
  CHECK(own == ab_other.seconds(Collective::AllReduce, 1e9, bare));
  CHECK(own < 0.75 * as_first);
}

TEST_CASE("network comm cost: CP, EP and expert-DP groups of an MoE job are mapped, none falls back",
          "[training][network]") {
  // TP4 x CP2 per node, 16 DP replicas (one node each), 8 experts over EP4: the step model asks for
  // TP, DP (over DP x CP = 32 ranks), expert DP (32 / 4 = 8 ranks), EP (4 ranks) and CP (2 ranks).
  for (const CollectiveCosting costing : {CollectiveCosting::Aggregate, CollectiveCosting::Flows}) {
    Net n;
    TrainingJobSpec j = fleetsim::test::small_job(16, 1e12);
    j.parallel.tp = 4;
    j.parallel.cp = 2;
    j.parallel.ep = 4;
    j.model.experts = 8;
    j.model.top_k = 2;
    j.model.active_parameters = 0.4e9;
    REQUIRE(validate_job(j).empty());
    AlphaBetaCommCost ab(j.hardware);
    NetworkCommCost net(n.router, n.map, nominal_capacity(n.topo), Duration::us(5), ab, costing);
    TrainingSpec spec;
    spec.jobs.push_back(j);
    Engine engine;
    Recorder rec;
    GangScheduler sched(n.fleet, engine);
    TrainingModel training(spec, n.fleet, engine, rec, sched, nullptr, nullptr, &net);
    training.start();
    engine.run(SimTime::zero() + Duration::hours(1));
    REQUIRE(training.state(0) == JobState::Running);
    CHECK(net.fallback_answers() == 0);
    CHECK(net.computed() == 6);  // TP, DP, expert DP, EP, CP all-gather and CP reduce-scatter
    const StepBreakdown& b = training.nominal_step(0);
    CHECK(b.ep_s > 0);
    CHECK(b.cp_s > 0);
    CHECK(b.dp_s > 0);
  }
}
