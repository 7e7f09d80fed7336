// SPDX-License-Identifier: Apache-2.0
#include "models/network/fleet_map.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "models/training/network_comm_cost.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;

namespace {

// 16 HGX hosts (128 H100) in one datacenter, rail-optimized 2-tier fabric at 400 Gb/s per GPU.
struct Net {
  Fleet fleet = Fleet::build(fleetsim::test::h100_fleet(16));
  NetworkSpec spec;
  Topology topo;
  Router router;
  FleetNetworkMap map;
  static NetworkSpec make() {
    NetworkSpec s;
    ClusterSpec c;
    c.name = "dc1";
    c.datacenter = "r1/z1/dc1";
    c.gpus = 128;
    c.gpus_per_host = 8;
    c.scale_up = ScaleUpSpec{8, 450e9, Duration::ns(250)};
    c.scale_out.radix = 64;
    c.scale_out.port_bytes_per_s = 50e9;
    s.clusters.push_back(c);
    return s;
  }
  Net() : spec(make()), topo(build_topology(spec)), router(topo), map(fleet, topo, spec) {}
};

}  // namespace

TEST_CASE("network comm cost: a DP ring on a non-blocking fabric matches alpha-beta", "[training]") {
  Net n;
  HardwareFigures hw = fleetsim::test::h100();
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
