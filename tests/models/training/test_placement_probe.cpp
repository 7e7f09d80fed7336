// SPDX-License-Identifier: Apache-2.0
// Network partitions and training: a job whose placement a partition splits is interrupted with cause
// "network partition" and restarts once the placement is whole again (models/training/placement_probe.hpp).
#include "models/network/fleet_map.hpp"
#include "models/network/placement_check.hpp"
#include "models/network/routing.hpp"
#include "models/training/placement_probe.hpp"
#include "models/training/training_model.hpp"
#include "tests/models/network/network_fixtures.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

TrainingSpec one(const TrainingJobSpec& j) {
  TrainingSpec s;
  s.jobs.push_back(j);
  s.sample_interval = Duration::hours(1);
  return s;
}

/// A probe whose answer the test sets.
struct FakeProbe final : PlacementProbe {
  bool ok = true;
  uint64_t calls = 0;
  bool connected(std::span<const NodeId>) override {
    ++calls;
    return ok;
  }
};

/// A link failure or repair event on a GPU of a node no job holds (so only the partition check can
/// touch the job), emitted at `t` after `before` runs (the stand-in for the fabric's listener).
template <class F>
void link_event_at(TrainingRun& run, SimTime t, FailureEvent::Kind kind, F before) {
  run.engine.schedule_at(t, Phase::Failure, [&run, t, kind, before] {
    before();
    uint32_t node = 0;
    while (run.scheduler.owner(NodeId{node}) != kNoAllocation) ++node;
    FailureEvent e;
    e.kind = kind;
    e.time = t;
    e.cls = ComponentClass::Link;
    e.component = ref(GpuId{run.fleet.range(ref(NodeId{node}), Level::Gpu).begin});
    e.cause = "link";
    run.failures.on_event.emit(e);
  });
}

/// Every leaf-to-spine link of `leaf` up or down.
void set_uplinks(Router& router, VertexId leaf, bool up) {
  for (const Router::Out& o : router.out(leaf))
    if (router.topology().vertex(o.to).kind == VertexKind::Spine) router.set_link_up(Router::link_of(o.e), up);
}

/// The ToR fabric of h100_fleet(6): 48 GPUs, 2 hosts (one rack) per leaf: 3 leaves.
NetworkSpec six_node_network() {
  ClusterSpec c = tor_cluster(48, 32, 2);
  c.name = "dc1";
  c.gpus_per_host = 8;
  c.datacenter = "r1/z1/dc1";
  return NetworkSpec{{c}, {}, {}};
}

VertexId leaf_of(const Topology& topo, VertexId gpu) {
  for (auto [it, end] = boost::out_edges(gpu, topo.graph()); it != end; ++it) {
    const auto v = static_cast<VertexId>(boost::target(*it, topo.graph()));
    if (topo.vertex(v).kind == VertexKind::Leaf) return v;
  }
  FAIL("GPU without a leaf");
  return 0;
}

}  // namespace

TEST_CASE("training: a partition splitting the placement interrupts the job until the probe reports it whole", "[training][network]") {
  TrainingJobSpec j = small_job(4, 1e15);
  for (Fidelity f : {Fidelity::Step, Fidelity::Segment}) {
    j.fidelity = f;
    TrainingRun run(h100_fleet(6), quiet(), one(j));
    FakeProbe probe;
    run.training.set_placement_probe(&probe);
    const SimTime cut = SimTime::zero() + Duration::hours(2) + Duration::s(77);
    const SimTime heal = SimTime::zero() + Duration::hours(5);
    link_event_at(run, cut, FailureEvent::Kind::Failure, [&probe] { probe.ok = false; });
    // A repair elsewhere that leaves the placement split: the job keeps waiting.
    link_event_at(run, heal - Duration::hours(1), FailureEvent::Kind::Repair, [] {});
    link_event_at(run, heal, FailureEvent::Kind::Repair, [&probe] { probe.ok = true; });
    run.run_for(Duration::hours(4) + Duration::minutes(30));
    CHECK(run.training.state(0) == JobState::Waiting);
    const JobStats& st = run.training.stats(0);
    CHECK(st.interruptions == 1);
    REQUIRE(st.by_cause.count("network partition") == 1);
    const LossByCause& bc = st.by_cause.at("network partition");
    CHECK(bc.interruptions == 1);
    // Checkpoints every 30 min: the cut 2 h 1 min 17 s after t=0 loses work since the last one.
    CHECK(bc.lost_s > 0);
    CHECK(bc.lost_s < 1800 + 60);
    CHECK(bc.lost_s == Approx(st.lost_s));
    const uint64_t calls = probe.calls;
    run.engine.run(SimTime::zero() + Duration::hours(6));
    REQUIRE(run.training.state(0) == JobState::Running);
    CHECK(st.interruptions == 1);
    // Down from the cut to the heal, then restart 5 min and restore 60 s (detection is long past).
    CHECK(bc.down_s == Approx((heal - cut).seconds() + 300 + 60));
    CHECK(st.waiting_s == Approx((heal - cut).seconds()));
    // The probe is asked on link events and restarts only, never per step.
    CHECK(probe.calls <= calls + 3);
  }
}

TEST_CASE("training: a job placed on a split placement waits for the network before it starts", "[training][network]") {
  TrainingJobSpec j = small_job(4, 1e15);
  TrainingRun run(h100_fleet(6), quiet(), one(j));
  FakeProbe probe;
  probe.ok = false;
  run.training.set_placement_probe(&probe);
  const SimTime heal = SimTime::zero() + Duration::hours(1);
  link_event_at(run, heal, FailureEvent::Kind::Repair, [&probe] { probe.ok = true; });
  run.run_for(Duration::minutes(30));
  CHECK(run.training.state(0) == JobState::Waiting);
  run.engine.run(SimTime::zero() + Duration::hours(2));
  CHECK(run.training.state(0) == JobState::Running);
  // Not running yet, so nothing was interrupted: the wait counts as launch down time.
  CHECK(run.training.stats(0).interruptions == 0);
  CHECK(run.training.stats(0).first_start == SimTime::zero());
  CHECK(run.training.stats(0).waiting_s == Approx(3600.0 - 300));
}

TEST_CASE("network: cutting every uplink of a leaf splits a two-leaf placement but not a one-leaf one", "[training][network]") {
  const Fleet fleet = Fleet::build(h100_fleet(6));
  const NetworkSpec spec = six_node_network();
  const Topology topo = build_topology(spec);
  const FleetNetworkMap map(fleet, topo, spec);
  Router router(topo);
  NetworkPlacementCheck check(fleet, map, router);
  const std::vector<NodeId> two_leaves{NodeId{0}, NodeId{1}, NodeId{2}, NodeId{3}};
  const std::vector<NodeId> one_leaf{NodeId{0}, NodeId{1}};
  CHECK(check.connected(two_leaves));
  const VertexId leaf0 = leaf_of(topo, topo.endpoint(0, 0));
  REQUIRE(leaf0 == leaf_of(topo, topo.endpoint(0, 15)));  // nodes 0 and 1 share leaf 0
  REQUIRE(leaf0 != leaf_of(topo, topo.endpoint(0, 16)));
  set_uplinks(router, leaf0, false);
  CHECK_FALSE(check.connected(two_leaves));
  CHECK(check.connected(one_leaf));
  CHECK(check.connected(std::vector<NodeId>{NodeId{2}, NodeId{3}, NodeId{4}, NodeId{5}}));
  set_uplinks(router, leaf0, true);
  CHECK(check.connected(two_leaves));
}

TEST_CASE("network: GPUs the network map does not know never split a placement", "[training][network]") {
  FleetSpec fs = h100_fleet(6);
  DatacenterSpec other = fs.regions[0].zones[0].datacenters[0];
  other.name = "dc2";
  other.nodes = 2;
  fs.regions[0].zones[0].datacenters.push_back(other);  // nodes 6 and 7, no cluster
  const Fleet fleet = Fleet::build(fs);
  const NetworkSpec spec = six_node_network();
  const Topology topo = build_topology(spec);
  const FleetNetworkMap map(fleet, topo, spec);
  Router router(topo);
  NetworkPlacementCheck check(fleet, map, router);
  set_uplinks(router, leaf_of(topo, topo.endpoint(0, 0)), false);
  CHECK(check.connected(std::vector<NodeId>{NodeId{0}, NodeId{6}, NodeId{7}}));
  CHECK_FALSE(check.connected(std::vector<NodeId>{NodeId{0}, NodeId{2}, NodeId{6}}));
}

TEST_CASE("training: cutting the uplinks of a leaf under a two-leaf job interrupts it through the real fabric", "[training][network]") {
  TrainingJobSpec j = small_job(4, 1e15);
  TrainingRun run(h100_fleet(6), quiet(), one(j));
  const NetworkSpec spec = six_node_network();
  const Topology topo = build_topology(spec);
  const FleetNetworkMap map(run.fleet, topo, spec);
  Router router(topo);
  NetworkPlacementCheck check(run.fleet, map, router);
  PlacementProbeOf<NetworkPlacementCheck> probe(check);
  run.training.set_placement_probe(&probe);
  // The fabric's listener, connected before the training model's (as models/world does): a link event
  // stands for the loss of leaf 0's uplink bundle, a cut the fleet's component classes do not name.
  const VertexId leaf0 = leaf_of(topo, topo.endpoint(0, 0));
  run.failures.on_event.connect([&](const FailureEvent& e) {
    if (e.cls == ComponentClass::Link) set_uplinks(router, leaf0, e.kind != FailureEvent::Kind::Failure);
  });
  const SimTime cut = SimTime::zero() + Duration::hours(2);
  const SimTime heal = SimTime::zero() + Duration::hours(3);
  link_event_at(run, cut, FailureEvent::Kind::Failure, [] {});
  link_event_at(run, heal, FailureEvent::Kind::Repair, [] {});
  run.run_for(Duration::hours(2) + Duration::minutes(30));
  for (uint32_t n = 0; n < 4; ++n) REQUIRE(run.scheduler.owner(NodeId{n}) != kNoAllocation);  // leaves 0 and 1
  CHECK(run.training.state(0) == JobState::Waiting);
  CHECK(run.training.stats(0).by_cause.at("network partition").interruptions == 1);
  CHECK_FALSE(check.connected(std::vector<NodeId>{NodeId{0}, NodeId{2}}));
  run.engine.run(SimTime::zero() + Duration::hours(4));
  CHECK(run.training.state(0) == JobState::Running);
  CHECK(run.training.stats(0).interruptions == 1);
  CHECK(run.training.stats(0).by_cause.at("network partition").down_s == Approx(3600.0 + 300 + 60));
}
