// SPDX-License-Identifier: Apache-2.0
// Placement is the truth (issue 14): inference replicas and training ranks run on the nodes the one
// GangScheduler gave them, and a failure acts on exactly what runs where it strikes.
#include "models/world/scheduler_broker.hpp"
#include "tests/models/inference/inference_fixtures.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <set>

using namespace fleetsim;
using test::h100_regions;

namespace {

/// Fleet, failures, the one scheduler and its broker (which is also the replicas' placer), a training
/// job and an inference service, wired as models/world/world.cpp wires them.
struct Rig {
  Fleet fleet;
  Catalog catalog = test::h100_catalog();
  Engine engine;
  RngStreams streams{7};
  Recorder recorder{RecorderOptions{.directory = {}, .keep_in_memory = true}};
  FailureSpec failure_spec = test::quiet();
  FailureModel failures;
  GangScheduler sched;
  SchedulerBroker broker;
  std::unique_ptr<TrainingModel> training;
  std::unique_ptr<InferenceModel> inference;

  explicit Rig(const FleetSpec& fs)
      : fleet(Fleet::build(fs)), failures(failure_spec, fleet, engine, streams, recorder), sched(fleet, engine, &failures),
        broker(sched, fleet) {}

  void add_service(const InferenceServiceSpec& s) {
    InferenceSpec spec;
    spec.services.push_back(s);
    inference = std::make_unique<InferenceModel>(spec, fleet, catalog, engine, streams, recorder,
                                                 InferenceOptions{.broker = &broker, .placer = &broker});
    failures.on_event.connect([this](const FailureEvent& e) { inference->on_failure_event(e); });
  }
  void add_training(uint32_t nodes, const std::string& region) {
    TrainingSpec ts;
    ts.jobs.push_back(test::small_job(nodes, 1e18));
    ts.jobs.back().region = region;
    ts.sample_interval = Duration::zero();
    training = std::make_unique<TrainingModel>(ts, fleet, engine, recorder, sched, &failures, &failure_spec);
  }
  void start() {
    failures.start();
    if (training) training->start();
    inference->start();
  }
  /// `c` fails now (as the failure model reports it), and is repaired after `down`.
  void fail(ComponentRef c, ComponentClass cls, Duration down) {
    fleet.set_health(c, Health::Failed);
    failures.on_event.emit(FailureEvent{.kind = FailureEvent::Kind::Failure, .time = engine.now(), .cls = cls,
                                        .component = c, .cause = "test", .duration = down});
    engine.schedule_in(down, Phase::Repair, [this, c, cls, down] {
      fleet.set_health(c, Health::Healthy);
      failures.on_event.emit(FailureEvent{.kind = FailureEvent::Kind::Repair, .time = engine.now(), .cls = cls,
                                          .component = c, .cause = "test", .duration = down});
    });
  }
  void run_until(Duration t) { engine.run(SimTime::zero() + t); }

  std::set<uint32_t> replica_nodes(size_t replica) const {
    std::set<uint32_t> out;
    const auto reps = inference->replicas(0);
    for (const GpuSpan& g : reps.at(replica).gpus) out.insert(fleet.node_of(GpuId{g.begin}).value());
    return out;
  }
};

FleetSpec one_region(uint32_t nodes, uint32_t per_rack) { return h100_regions({"r1"}, nodes, per_rack); }

/// The fixtures' Llama-3-8B-like service (8.03e9 parameters, bf16), fluid, of TP4 replicas (two to a
/// host) at 1 request/s.
InferenceServiceSpec tp4_service(std::vector<std::pair<std::string, uint32_t>> regions) {
  InferenceServiceSpec s = test::small_service(std::move(regions), 1.0);
  s.mode = InferenceMode::Fluid;
  s.fluid_step = Duration::minutes(1);
  s.replica.tp = 4;
  return s;
}

}  // namespace

TEST_CASE("replicas are placed on the nodes the scheduler gave them, beside the training gangs", "[placement][inference]") {
  Rig rig(one_region(9, 3));
  rig.add_service(tp4_service({{"r1", 8}}));  // 8 replicas of 4 GPUs: 4 hosts
  rig.add_training(4, "r1");
  rig.start();
  rig.run_until(Duration::minutes(1));
  const auto reps = rig.inference->replicas(0);
  REQUIRE(reps.size() == 8);
  std::set<uint32_t> gpus;
  const AllocationId serving = rig.broker.placement_allocation(0);
  REQUIRE(serving != kNoAllocation);
  for (size_t k = 0; k < reps.size(); ++k) {
    CHECK(reps[k].up);
    REQUIRE(reps[k].gpus.size() == 1);
    CHECK(reps[k].gpus[0].count == 4);
    for (uint32_t g = reps[k].gpus[0].begin; g < reps[k].gpus[0].end(); ++g) CHECK(gpus.insert(g).second);  // no GPU twice
    for (uint32_t n : rig.replica_nodes(k)) CHECK(rig.sched.owner(NodeId{n}) == serving);
  }
  const auto& job = rig.sched.allocation(rig.training->allocation(0));
  REQUIRE(job.nodes.size() == 4);
  for (NodeId n : job.nodes)
    for (size_t k = 0; k < reps.size(); ++k) CHECK(rig.replica_nodes(k).count(n.value()) == 0);
  // The cost model's busy GPUs come from the same table: 4 hosts of replicas + 4 of training.
  CHECK(rig.sched.gang_gpus(RegionId{0}, 0) == 8 * 8);
}

TEST_CASE("a rack failure takes down exactly the replicas and ranks on that rack", "[placement][inference]") {
  // Racks of 3 hosts: replicas on hosts 0-3 (racks 0 and 1), training on 4-7 (racks 1 and 2), host 8 free.
  Rig rig(one_region(9, 3));
  rig.add_service(tp4_service({{"r1", 8}}));
  rig.add_training(4, "r1");
  rig.start();
  rig.run_until(Duration::minutes(5));
  REQUIRE(rig.training->state(0) == JobState::Running);
  const RackId rack{1};  // hosts 3, 4, 5
  std::set<size_t> on_rack;
  for (size_t k = 0; k < 8; ++k)
    for (uint32_t n : rig.replica_nodes(k))
      if (rig.fleet.rack_of(NodeId{n}) == rack) on_rack.insert(k);
  REQUIRE(on_rack.size() == 2);  // the two replicas of host 3
  rig.engine.schedule_in(Duration::zero(), Phase::Failure,
                         [&] { rig.fail(ref(rack), ComponentClass::RackPower, Duration::hours(2)); });
  rig.run_until(Duration::minutes(5) + Duration::ms(500));  // inside the weight load
  const auto reps = rig.inference->replicas(0);
  for (size_t k = 0; k < reps.size(); ++k) {
    INFO("replica " << k);
    // Host 3's replicas moved to the free host 8 and are loading there; every other replica served on.
    CHECK(reps[k].up == (on_rack.count(k) == 0));
    if (on_rack.count(k) > 0) {
      CHECK(reps[k].loading);
      CHECK(rig.replica_nodes(k) == std::set<uint32_t>{8});
    }
  }
  CHECK(rig.training->stats(0).interruptions == 1);  // its ranks on hosts 4 and 5
  // After the weight load (8.03e9 bf16 parameters over 4 GPUs: 4 GB each at 2 GB/s, 2 s) they serve.
  const double load_s = rig.inference->stats(0).weight_load_s;
  CHECK(load_s == Approx(8.03e9 * 2 / 4 / 2e9).epsilon(0.01));
  rig.run_until(Duration::minutes(5) + Duration::from_seconds(load_s));
  for (const auto& r : rig.inference->replicas(0)) CHECK(r.up);
}

TEST_CASE("a replica with no free host waits for the repair, then loads its weights", "[placement][inference]") {
  Rig rig(one_region(4, 2));
  rig.add_service(tp4_service({{"r1", 8}}));  // every host
  rig.start();
  const NodeId host{1};
  rig.engine.schedule_at(SimTime::zero() + Duration::minutes(10), Phase::Failure,
                         [&] { rig.fail(ref(host), ComponentClass::Node, Duration::minutes(30)); });
  rig.run_until(Duration::minutes(20));
  uint32_t down = 0;
  for (size_t k = 0; k < 8; ++k)
    if (!rig.inference->replicas(0)[k].up) {
      ++down;
      CHECK(rig.replica_nodes(k) == std::set<uint32_t>{1});  // nowhere to go: still on host 1
    }
  CHECK(down == 2);
  const Duration load = Duration::from_seconds(rig.inference->stats(0).weight_load_s);
  REQUIRE(load > Duration::zero());
  rig.run_until(Duration::minutes(40) + load - Duration::ns(1));  // repaired at 40 min, loading
  uint32_t up = 0;
  for (const auto& r : rig.inference->replicas(0)) up += r.up ? 1 : 0;
  CHECK(up == 6);
  rig.run_until(Duration::minutes(40) + load);
  up = 0;
  for (const auto& r : rig.inference->replicas(0)) up += r.up ? 1 : 0;
  CHECK(up == 8);
}

TEST_CASE("a region outage moves the load to replicas autoscaled onto free nodes elsewhere, behind the WAN",
          "[placement][inference]") {
  Rig rig(h100_regions({"r1", "r2"}, 6));
  auto s = tp4_service({{"r1", 4}, {"r2", 4}});  // 2 hosts of replicas in each region, 4 free
  s.routing.default_rtt = Duration::ms(80);
  s.autoscale.enabled = true;
  s.autoscale.interval = Duration::minutes(1);
  s.autoscale.scale_up_delay = Duration::minutes(5);
  s.autoscale.scale_down_delay = Duration::hours(1);
  s.autoscale.target_utilization = 0.7;
  s.autoscale.priority = 100;
  s.regions[1].max_extra_replicas = 8;
  {
    Rig probe(h100_regions({"r1", "r2"}, 6));
    probe.add_service(s);
    s.arrivals.rate_per_s = 0.5 * 8 * probe.inference->stats(0).replica_saturation_rps;  // half of all 8
  }
  rig.add_service(s);
  rig.start();
  const RegionId r1{0}, r2{1};
  rig.engine.schedule_at(SimTime::zero() + Duration::minutes(30), Phase::Failure, [&] {
    rig.fleet.begin_outage(ref(r1));
    rig.failures.on_event.emit(FailureEvent{.kind = FailureEvent::Kind::OutageStart, .time = rig.engine.now(),
                                            .cls = ComponentClass::Region, .component = ref(r1), .cause = "outage",
                                            .duration = Duration::hours(2)});
  });
  rig.run_until(Duration::minutes(60));
  const auto reps = rig.inference->replicas(0);
  uint32_t borrowed_up = 0;
  for (const auto& r : reps) {
    if (r.region == 0) CHECK_FALSE(r.up);
    if (r.dedicated || !r.up) continue;
    ++borrowed_up;
    CHECK(r.region == 1);
    REQUIRE(r.gpus.size() == 1);
    const NodeId n = rig.fleet.node_of(GpuId{r.gpus[0].begin});
    CHECK(rig.fleet.region_of(ref(n)) == r2);  // on a node of r2 ...
    const AllocationId owner = rig.sched.owner(n);
    REQUIRE(owner != kNoAllocation);
    CHECK(rig.sched.allocation(owner).request.name.rfind("autoscale:", 0) == 0);  // ... that the broker claimed
  }
  CHECK(borrowed_up >= 2);  // r2 alone carries twice its load: at 0.7 target it needs more than its 4
  CHECK(rig.broker.lent_gpus(r2, "H100") == uint64_t{borrowed_up} * 4);
  // Requests born in r1 during the outage were served in r2, 80 ms away: their TTFT shows the WAN.
  const auto& st = rig.inference->stats(0);
  REQUIRE(st.outages.size() == 1);
  CHECK(st.outages[0].rerouted > 0);
  CHECK(st.outages[0].ttft.quantile(0.5) > 0.080);
}

namespace {
/// A placer that puts every dedicated replica on the same GPUs (a broken placement): the inference
/// model must refuse it rather than let two replicas serve from one GPU.
struct OverlappingPlacer final : ReplicaPlacer {
  uint32_t place(std::string_view, RegionId, std::string_view, uint32_t replicas, uint32_t gpus_per_replica,
                 std::vector<ReplicaGpus>& out) override {
    for (uint32_t k = 0; k < replicas; ++k) out.push_back(ReplicaGpus{GpuSpan{0, gpus_per_replica}});
    return 0;
  }
  std::optional<NodeId> replace(uint32_t, NodeId, std::optional<IndexRange>) override { return std::nullopt; }
  std::optional<ReplicaGpus> bind(RegionId, std::string_view, uint32_t) override { return std::nullopt; }
  void unbind(RegionId, std::string_view, const ReplicaGpus&) override {}
};
}  // namespace

TEST_CASE("two replicas placed on one GPU are refused with the service and the GPU named", "[placement][inference]") {
  Fleet fleet = Fleet::build(one_region(4, 2));
  Engine engine;
  RngStreams streams{7};
  Recorder recorder{RecorderOptions{.directory = {}, .keep_in_memory = true}};
  OverlappingPlacer placer;
  InferenceSpec spec;
  spec.services.push_back(tp4_service({{"r1", 2}}));
  const auto build = [&] {
    InferenceModel m(spec, fleet, test::h100_catalog(), engine, streams, recorder, InferenceOptions{.placer = &placer});
  };
  CHECK_THROWS_WITH(build(), Catch::Contains("replicas 0 and 1 on GPU 0"));
  // One replica on those GPUs is fine.
  spec.services[0].regions[0].replicas = 1;
  CHECK_NOTHROW(build());
}
