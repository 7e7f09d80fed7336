// SPDX-License-Identifier: Apache-2.0
#include "models/world/scheduler_broker.hpp"
#include "tests/models/inference/inference_fixtures.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <utility>
#include <variant>
#include <vector>

using namespace fleetsim;

namespace {

/// A fluid Llama-3-8B-like service in r1: `replicas` dedicated one-GPU replicas, autoscaling up to 16
/// more, a burst of x3 from hour 1 to hour 2.
InferenceSpec burst_service(uint32_t replicas, double rate) {
  InferenceServiceSpec s = test::small_service({{"r1", replicas}}, rate);
  s.mode = InferenceMode::Fluid;
  s.fluid_step = Duration::minutes(1);
  s.arrivals.bursts.push_back(BurstSpec{SimTime::zero() + Duration::hours(1), Duration::hours(1), 3.0, ""});
  s.regions[0].max_extra_replicas = 16;
  s.autoscale.enabled = true;
  s.autoscale.interval = Duration::minutes(1);
  s.autoscale.scale_up_delay = Duration::minutes(10);
  s.autoscale.scale_down_delay = Duration::minutes(30);
  s.autoscale.target_utilization = 0.8;
  s.autoscale.priority = 100;
  InferenceSpec spec;
  spec.services.push_back(std::move(s));
  return spec;
}

/// r1: 6 nodes of 8 H100: node 0 for the service's dedicated replicas, 5 for a preemptible training
/// job at priority 0; the scheduler shared by both, as models/world/world.cpp builds it.
struct Rig {
  Fleet fleet = Fleet::build(test::h100_fleet(6));
  Catalog catalog = test::h100_catalog();
  Engine engine;
  RngStreams streams{1};
  Recorder recorder{RecorderOptions{.directory = {}, .keep_in_memory = true}};
  FailureSpec failure_spec = test::quiet();
  FailureModel failures{failure_spec, fleet, engine, streams, recorder};
  GangScheduler sched{fleet, engine, &failures};
  SchedulerBroker broker{sched, fleet};
  std::unique_ptr<TrainingModel> training;
  std::unique_ptr<InferenceModel> inference;

  void reserve_dedicated(uint32_t nodes) {
    GangRequest r;
    r.name = "inference:chat:r1";
    r.nodes = nodes;
    r.accelerator = "H100";
    r.region = RegionId{0};
    r.priority = 1'000'000;
    r.preemptible = false;
    sched.submit(std::move(r));
  }
  void add_training(uint32_t nodes) {
    TrainingSpec ts;
    ts.jobs.push_back(test::small_job(nodes, 1e18));
    ts.jobs.back().region = "r1";
    ts.jobs.back().priority = 0;
    ts.jobs.back().preemptible = true;
    ts.sample_interval = Duration::zero();
    training = std::make_unique<TrainingModel>(ts, fleet, engine, recorder, sched, &failures, &failure_spec);
  }
  void run_until(Duration t) { engine.run(SimTime::zero() + t); }
};

constexpr RegionId kR1{0};

}  // namespace

TEST_CASE("scheduler broker grants free nodes at once and rounds GPUs to whole nodes", "[broker]") {
  Rig rig;
  CHECK(rig.broker.acquire(kR1, "H100", 3, 100, SimTime::zero()) == 3);
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 1);
  CHECK(rig.broker.acquire(kR1, "H100", 4, 100, SimTime::zero()) == 4);  // the same node's leftover
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 1);
  CHECK(rig.broker.acquire(kR1, "H100", 2, 100, SimTime::zero()) == 2);  // 9 GPUs: a second node
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 2);
  rig.run_until(Duration::s(1));
  CHECK(rig.sched.allocated_nodes() == 2);
  CHECK(rig.broker.claims_started() == 2);
  CHECK(rig.broker.max_claim_wait() == Duration::zero());
  rig.broker.release(kR1, "H100", 2, rig.engine.now());  // 7 lent: one node is enough
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 1);
  rig.broker.release(kR1, "H100", 7, rig.engine.now());
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 0);
  CHECK(rig.broker.lent_gpus(kR1, "H100") == 0);
  rig.run_until(Duration::s(2));
  CHECK(rig.sched.allocated_nodes() == 0);
}

TEST_CASE("scheduler broker claims a scaling step's nodes in one request and gives them back one by one", "[broker]") {
  // One request per scaling step (a request per node made every search scan the region again).
  Rig rig;
  CHECK(rig.broker.acquire(kR1, "H100", 24, 100, SimTime::zero()) == 24);
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 3);
  CHECK(rig.sched.queued() == 1);  // one request of 3 nodes, not 3 requests
  rig.run_until(Duration::s(1));
  CHECK(rig.sched.allocated_nodes() == 3);
  CHECK(rig.broker.claims_started() == 3);
  CHECK(rig.broker.acquire(kR1, "H100", 10, 100, rig.engine.now()) == 10);  // 34 GPUs: a 4th and 5th node
  rig.run_until(Duration::s(2));
  CHECK(rig.sched.allocated_nodes() == 5);
  rig.broker.release(kR1, "H100", 10, rig.engine.now());  // 24 lent: the second request goes
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 3);
  CHECK(rig.sched.allocated_nodes() == 3);
  rig.broker.release(kR1, "H100", 9, rig.engine.now());  // 15 lent: two nodes of the first request
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 2);
  CHECK(rig.sched.allocated_nodes() == 2);
  rig.broker.release(kR1, "H100", 15, rig.engine.now());
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 0);
  CHECK(rig.sched.allocated_nodes() == 0);
}

TEST_CASE("scheduler broker grants nothing it cannot get and never queues a blocking claim", "[broker]") {
  Rig rig;
  rig.reserve_dedicated(6);  // every node non-preemptible
  rig.run_until(Duration::s(1));
  CHECK(rig.broker.acquire(kR1, "H100", 8, 100, rig.engine.now()) == 0);
  CHECK(rig.broker.acquire(kR1, "B200", 8, 100, rig.engine.now()) == 0);  // no such accelerator here
  CHECK(rig.broker.claims() == 0);
  CHECK(rig.sched.queued() == 0);
}

TEST_CASE("scheduler broker does not preempt work at or above its priority", "[broker]") {
  Rig rig;
  rig.reserve_dedicated(1);
  rig.add_training(5);
  rig.training->start();
  rig.run_until(Duration::minutes(30));
  REQUIRE(rig.training->state(0) == JobState::Running);
  CHECK(rig.broker.acquire(kR1, "H100", 8, 0, rig.engine.now()) == 0);  // training is at priority 0 too
  CHECK(rig.broker.acquire(kR1, "H100", 8, 1, rig.engine.now()) == 8);
  rig.run_until(Duration::minutes(60));
  CHECK(rig.training->stats(0).preemptions == 1);
  CHECK(rig.broker.claims_started() == 1);
}

TEST_CASE("autoscaling preempts training through the scheduler and gives the nodes back", "[broker][inference]") {
  // The replica's saturation throughput decides the load: 0.6 of 8 replicas before and after the
  // burst (6 replicas wanted at 0.8 target), x3 during it (18 or more wanted: 10 to 16 extra, two nodes).
  double sat = 0;
  {
    Rig probe;
    InferenceModel m(burst_service(8, 1.0), probe.fleet, probe.catalog, probe.engine, probe.streams, probe.recorder);
    sat = m.stats(0).replica_saturation_rps;
  }
  REQUIRE(sat > 0);
  Rig rig;
  rig.reserve_dedicated(1);
  rig.add_training(5);
  rig.inference = std::make_unique<InferenceModel>(burst_service(8, 0.6 * 8 * sat), rig.fleet, rig.catalog, rig.engine,
                                                   rig.streams, rig.recorder, InferenceOptions{.broker = &rig.broker});
  rig.failures.start();
  rig.training->start();
  rig.inference->start();

  rig.run_until(Duration::minutes(55));
  CHECK(rig.training->state(0) == JobState::Running);
  CHECK(rig.training->stats(0).preemptions == 0);
  CHECK(rig.broker.lent_gpus(kR1, "H100") == 0);

  rig.run_until(Duration::minutes(100));  // in the burst, past the scale-up delay
  CHECK(rig.training->stats(0).preemptions == 1);
  CHECK(rig.training->state(0) == JobState::Queued);  // 5 nodes needed, 3 left
  const uint64_t extra = rig.inference->stats(0).regions[0].extra_replicas;  // one GPU each
  CHECK(extra >= 10);  // the fluid load in the burst may exceed 3 x 0.6: capped at 16
  CHECK(rig.broker.lent_gpus(kR1, "H100") == extra);
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == (extra + 7) / 8);
  CHECK(rig.broker.claims_started() == (extra + 7) / 8);
  CHECK(rig.broker.max_claim_wait() < Duration::minutes(10));  // the preemption fits in the scale-up delay

  rig.run_until(Duration::hours(4));  // burst over at 2 h, calm for 30 min, then scale down
  CHECK(rig.broker.lent_gpus(kR1, "H100") == 0);
  CHECK(rig.broker.claimed_nodes(kR1, "H100") == 0);
  CHECK(rig.training->state(0) == JobState::Running);
  CHECK(rig.sched.allocated_nodes() == 6);
  CHECK(rig.sched.queued() == 0);
  uint64_t ups = 0, downs = 0;
  for (const auto& e : rig.recorder.events()) {
    ups += e.kind == "inference_scale_up" ? 1 : 0;
    downs += e.kind == "inference_scale_down" ? 1 : 0;
  }
  CHECK(ups >= 1);
  CHECK(downs >= 1);
  CHECK(rig.training->stats(0).preemptions == 1);
}

namespace {

/// A fluid service in r1 at a constant load of 7.6 replicas' saturation: 2 dedicated one-GPU replicas,
/// up to 16 more (the autoscaler wants ceil(7.6 / 0.8) = 10 in all), 1-minute steps and evaluations,
/// a 10-minute scale-up delay; nothing else on the 6 nodes, so every claim starts at once.
struct WarmStartRun {
  Rig rig;
  double sat = 0;
  double rate = 0;
  InferenceServiceSpec service(bool warm, InferenceMode mode) const {
    InferenceServiceSpec s = burst_service(2, rate).services.front();
    s.arrivals.bursts.clear();
    s.autoscale.warm_start = warm;
    s.mode = mode;
    return s;
  }
  explicit WarmStartRun(bool warm, InferenceMode mode = InferenceMode::Fluid) {
    {
      Rig probe;
      InferenceModel m(burst_service(2, 1.0), probe.fleet, probe.catalog, probe.engine, probe.streams, probe.recorder);
      sat = m.stats(0).replica_saturation_rps;
    }
    rate = 7.6 * sat;
    InferenceSpec spec;
    spec.services.push_back(service(warm, mode));
    rig.reserve_dedicated(1);
    rig.inference = std::make_unique<InferenceModel>(spec, rig.fleet, rig.catalog, rig.engine, rig.streams, rig.recorder,
                                                     InferenceOptions{.broker = &rig.broker});
    rig.failures.start();
    rig.inference->start();
  }
  std::vector<std::pair<SimTime, int64_t>> scale_ups() const {  // (time, replicas)
    std::vector<std::pair<SimTime, int64_t>> ups;
    for (const auto& e : rig.recorder.events())
      if (e.kind == "inference_scale_up") {
        const Cell* n = e.find("replicas");
        ups.emplace_back(e.time, n != nullptr && std::holds_alternative<int64_t>(*n) ? std::get<int64_t>(*n) : -1);
      }
    return ups;
  }
};

}  // namespace

TEST_CASE("a warm start begins with the replicas the autoscaler wants, up at once", "[broker][inference]") {
  WarmStartRun run(true);
  REQUIRE(run.sat > 0);
  run.rig.run_until(Duration::zero());  // the scheduler's pass and the bring-up, both at t = 0
  CHECK(run.rig.broker.lent_gpus(kR1, "H100") == 8);
  CHECK(run.rig.inference->stats(0).regions[0].extra_replicas == 8);
  run.rig.run_until(Duration::hours(2));
  // The autoscaler's own evaluations at the same load want no more: the warm start is its fixed point.
  const auto ups = run.scale_ups();
  REQUIRE(ups.size() == 1);
  CHECK(ups[0].first == SimTime::zero());
  CHECK(ups[0].second == 8);
  const InferenceCounters& c = run.rig.inference->stats(0).counters;
  CHECK(c.arrived == Approx(run.rate * 7260).epsilon(1e-9));  // the step at 2 h runs to 2 h 1 min
  CHECK(c.timed_out == 0);
  CHECK(c.late == 0);
  CHECK(c.completed == Approx(c.arrived).epsilon(1e-9));
}

TEST_CASE("a warm start in request mode serves from the first request", "[broker][inference]") {
  WarmStartRun run(true, InferenceMode::Request);
  run.rig.run_until(Duration::zero());
  CHECK(run.rig.inference->stats(0).regions[0].extra_replicas == 8);
  run.rig.run_until(Duration::minutes(10));
  // Poisson arrivals counted over 1-minute evaluations: thousands per minute, so the load stays within
  // a few percent of 9.5 replicas' target and the autoscaler keeps wanting 10.
  CHECK(run.scale_ups().size() == 1);
  const InferenceCounters& c = run.rig.inference->stats(0).counters;
  CHECK(c.arrived > 0);
  CHECK(c.timed_out == 0);
  CHECK(c.failed == 0);
}

TEST_CASE("a cold start queues the load on the dedicated replicas until the first scale-up is ready", "[broker][inference]") {
  WarmStartRun run(false);
  run.rig.run_until(Duration::minutes(5));
  // Asked for at the first evaluation (1 min), and more at the next ones: the backlog counts as load.
  CHECK(run.rig.broker.lent_gpus(kR1, "H100") >= 8);
  CHECK(run.rig.inference->stats(0).regions[0].extra_replicas == 0);  // the first ready only at 11 min
  run.rig.run_until(Duration::hours(2));
  const auto ups = run.scale_ups();
  REQUIRE(!ups.empty());
  CHECK(ups[0].first == SimTime::zero() + Duration::minutes(1));
  CHECK(ups[0].second == 8);
  // A fluid queue (docs/inference.md): for the first 11 minutes 2 replicas serve c = 2 x_sat of
  // lambda = 7.6 x_sat, so the backlog grows by (lambda - c) per second up to c x max_queue_time
  // (10 min), and what does not fit times out: (lambda - c) x 660 s - c x 600 s. At 11 min the 8
  // replicas come up before that instant's step (their event was queued at 1 min, the step's at
  // 10 min), and with 10 replicas the backlog fits and drains: nothing more times out.
  const double c = 2 * run.sat;
  const double expected = (run.rate - c) * 660 - c * 600;
  CHECK(run.rig.inference->stats(0).counters.timed_out == Approx(expected).epsilon(1e-9));
}
