// SPDX-License-Identifier: Apache-2.0
#include "models/training/checkpoint.hpp"
#include "models/training/training_model.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

TrainingSpec one(const TrainingJobSpec& j) {
  TrainingSpec s;
  s.jobs.push_back(j);
  s.sample_interval = Duration::hours(1);
  return s;
}

OutageSpec dc_outage(SimTime from, Duration d) {
  OutageSpec o;
  o.name = "dc1-down";
  o.kind = OutageKind::Full;
  o.target = "r1/z1/dc1";
  o.from = from;
  o.duration = d;
  o.cause = "power";
  return o;
}

}  // namespace

TEST_CASE("training: a job without failures runs to completion at its step time", "[training]") {
  TrainingJobSpec j = small_job(4, 0);
  j.total_tokens = j.global_batch_tokens * 1000;  // 1000 steps
  j.checkpoint.kind = CheckpointPolicy::Kind::None;
  for (Fidelity f : {Fidelity::Step, Fidelity::Segment}) {
    j.fidelity = f;
    TrainingRun run(h100_fleet(4), quiet(), one(j));
    run.run_for(Duration::days(1));
    REQUIRE(run.training.state(0) == JobState::Done);
    const Duration T = run.training.step_duration(0);
    // Launch (restart overhead), then 1000 steps.
    CHECK(run.training.stats(0).finished == SimTime::zero() + j.recovery.restart + T * 1000);
    CHECK(run.training.tokens_trained(0) == Approx(j.total_tokens));
    CHECK(run.training.stats(0).interruptions == 0);
  }
}

TEST_CASE("training: lost work equals the time since the last checkpoint", "[training]") {
  TrainingJobSpec j = small_job(4, 1e15);
  const SimTime fail_at = SimTime::zero() + Duration::hours(3) + Duration::s(1234);
  FailureSpec fs = quiet();
  fs.outages.push_back(dc_outage(fail_at, Duration::hours(1)));
  for (Fidelity f : {Fidelity::Step, Fidelity::Segment}) {
    j.fidelity = f;
    TrainingRun run(h100_fleet(4), fs, one(j));
    run.run_for(Duration::hours(3) + Duration::s(1235));
    const Duration T = run.training.step_duration(0);
    const uint64_t K = run.training.steps_per_checkpoint(0);
    CHECK(K == static_cast<uint64_t>(std::llround(1800.0 / T.seconds())));
    // By hand: running from t0 = restart; checkpoint i starts after i*K steps and (i-1) stalls of
    // C = 60 s; the last one whose write completed before the failure is the one the job resumes from.
    const SimTime t0 = SimTime::zero() + j.recovery.restart;
    const Duration C = Duration::s(60);
    SimTime last_resume = t0;
    for (int64_t i = 1;; ++i) {
      const SimTime start = t0 + T * (i * static_cast<int64_t>(K)) + C * (i - 1);
      if (start + C >= fail_at) break;
      last_resume = start + C;
    }
    const JobStats& st = run.training.stats(0);
    CHECK(st.interruptions == 1);
    CHECK(st.lost_s == Approx((fail_at - last_resume).seconds()).margin(1e-6));
    CHECK(st.by_cause.at("outage: power").lost_s == Approx(st.lost_s));
    // The model rolled back to the checkpoint: tokens = whole steps up to it.
    CHECK(run.training.state(0) == JobState::Waiting);
    const double steps_kept = std::floor(run.training.tokens_trained(0) / j.global_batch_tokens + 0.5);
    CHECK(std::fmod(steps_kept, double(K)) == 0);
  }
}

TEST_CASE("training: a paused job resumes after the outage with detection, restart and restore", "[training]") {
  TrainingJobSpec j = small_job(4, 1e15);
  j.fidelity = Fidelity::Segment;
  FailureSpec fs = quiet();
  const SimTime fail_at = SimTime::zero() + Duration::hours(2);
  fs.outages.push_back(dc_outage(fail_at, Duration::hours(5)));
  TrainingRun run(h100_fleet(4), fs, one(j));
  run.run_for(Duration::hours(10));
  REQUIRE(run.training.state(0) == JobState::Running);
  const JobStats& st = run.training.stats(0);
  // Down from the outage to its end (5 h) + restart 5 min + restore 60 s.
  CHECK(st.by_cause.at("outage: power").down_s == Approx(5 * 3600.0 + 300 + 60));
  CHECK(st.waiting_s == Approx(5 * 3600.0));
}

TEST_CASE("training: with the move policy a region outage moves the job", "[training]") {
  FleetSpec fleet = h100_fleet(4);
  FleetSpec other = h100_fleet(4);
  other.regions[0].name = "r2";
  fleet.regions.push_back(other.regions[0]);
  TrainingJobSpec j = small_job(4, 1e15);
  j.recovery.outage = RecoveryPolicy::OutagePolicy::Move;
  FailureSpec fs = quiet();
  OutageSpec o = dc_outage(SimTime::zero() + Duration::hours(2), Duration::hours(5));
  o.target = "r1";
  fs.outages.push_back(o);
  TrainingRun run(fleet, fs, one(j));
  run.run_for(Duration::hours(3));
  CHECK(run.training.stats(0).moves == 1);
  CHECK(run.training.state(0) == JobState::Running);
  CHECK(run.training.stats(0).by_cause.at("outage: power").down_s == Approx(60 + 300 + 60));
}

TEST_CASE("training: hot spares replace a failed node without waiting for the repair", "[training]") {
  TrainingJobSpec j = small_job(4, 1e15);
  j.recovery.hot_spare_nodes = 1;
  j.recovery.use_free_capacity = false;
  FailureSpec fs = quiet();
  fs.processes.push_back(node_process("n", 40 * 3600.0, 24 * 3600.0));  // 5 nodes: ~1 failure / 8 h
  TrainingRun run(h100_fleet(5), fs, one(j), 7);
  run.run_for(Duration::days(2));
  const JobStats& st = run.training.stats(0);
  REQUIRE(st.interruptions >= 1);
  // The first failure in the gang found the spare: down = detection + restart + restore.
  const auto& bc = st.by_cause.at("node");
  CHECK(bc.interruptions == st.interruptions);
  CHECK(st.waiting_s < st.down_s);
}

TEST_CASE("training: elastic shrink drops a replica and regrows after the repair", "[training]") {
  TrainingJobSpec j = small_job(4, 1e15);
  j.recovery.mode = RecoveryPolicy::Mode::ElasticShrink;
  j.fidelity = Fidelity::Segment;
  FailureSpec fs = quiet();
  StragglerSpec none;  // keep the spec minimal: one deterministic node failure through a short outage
  OutageSpec o = dc_outage(SimTime::zero() + Duration::hours(1), Duration::hours(1));
  (void)none;
  (void)o;
  fs.processes.push_back(node_process("n", 16 * 3600.0, 3 * 3600.0));
  TrainingRun run(h100_fleet(4), fs, one(j), 3);
  bool saw_shrink = false;
  for (int h = 1; h <= 48 && !saw_shrink; ++h) {
    if (h == 1) {
      run.failures.start();
      run.training.start();
    }
    run.engine.run(SimTime::zero() + Duration::hours(h));
    if (run.training.active_dp(0) < 4 && run.training.state(0) == JobState::Running) saw_shrink = true;
  }
  REQUIRE(saw_shrink);
  CHECK(run.training.stats(0).shrinks >= 1);
  run.engine.run(SimTime::zero() + Duration::days(4));
  CHECK(run.training.stats(0).regrows >= 1);
}

TEST_CASE("training: a straggler slows the synchronous job by its factor", "[training]") {
  TrainingJobSpec j = small_job(4, 0);
  j.total_tokens = j.global_batch_tokens * 2000;
  j.checkpoint.kind = CheckpointPolicy::Kind::None;
  FailureSpec fs = quiet();
  StragglerSpec s;
  s.name = "slow";
  s.target = "r1/z1/dc1/rack0/node1";
  s.at = SimTime::zero();
  s.duration = Duration::days(10);
  s.slowdown = 1.5;
  fs.stragglers.push_back(s);
  for (Fidelity f : {Fidelity::Step, Fidelity::Segment}) {
    j.fidelity = f;
    TrainingRun fast(h100_fleet(4), quiet(), one(j));
    fast.run_for(Duration::days(10));
    TrainingRun slow(h100_fleet(4), fs, one(j));
    slow.run_for(Duration::days(10));
    REQUIRE(slow.training.state(0) == JobState::Done);
    const double t_fast = (fast.training.stats(0).finished - SimTime::zero() - j.recovery.restart).seconds();
    const double t_slow = (slow.training.stats(0).finished - SimTime::zero() - j.recovery.restart).seconds();
    CHECK(t_slow / t_fast == Approx(1.5).epsilon(1e-6));
  }
}

TEST_CASE("training: a straggler in mid-run changes the pace at the next step in both fidelities", "[training]") {
  TrainingJobSpec j = small_job(4, 0);
  j.total_tokens = j.global_batch_tokens * 30000;
  j.checkpoint.interval = Duration::minutes(20);
  FailureSpec fs = quiet();
  StragglerSpec s;
  s.name = "slow";
  s.target = "r1/z1/dc1/rack1/node0";
  s.at = SimTime::zero() + Duration::s(4321);
  s.duration = Duration::s(7777);
  s.slowdown = 1.3;
  fs.stragglers.push_back(s);
  fs.outages.push_back(dc_outage(SimTime::zero() + Duration::s(9000), Duration::minutes(10)));
  j.fidelity = Fidelity::Step;
  TrainingRun a(h100_fleet(4), fs, one(j));
  a.run_for(Duration::hours(5));
  j.fidelity = Fidelity::Segment;
  TrainingRun b(h100_fleet(4), fs, one(j));
  b.run_for(Duration::hours(5));
  CHECK(a.training.tokens_trained(0) == b.training.tokens_trained(0));
  CHECK(a.training.stats(0).lost_s == Approx(b.training.stats(0).lost_s));
  CHECK(a.training.stats(0).checkpoints == b.training.stats(0).checkpoints);
  CHECK(b.engine.events_executed() * 50 < a.engine.events_executed());
}

TEST_CASE("training: step and segment fidelities train the same tokens within 0.5 percent", "[training]") {
  // Two weeks of a 32-node job with node failures (MTBF 8 h for the job), Young/Daly checkpoints
  // from the observed failures, hot spares and repairs: the same failures reach both fidelities.
  TrainingJobSpec j = small_job(32, 1e15);
  j.model.parameters = 20e9;  // steps of about a second
  j.checkpoint.kind = CheckpointPolicy::Kind::YoungDaly;
  j.checkpoint.mtbf_source = CheckpointPolicy::MtbfSource::Observed;
  j.recovery.hot_spare_nodes = 2;
  FailureSpec fs = quiet();
  fs.processes.push_back(node_process("n", 32 * 8 * 3600.0, 6 * 3600.0));
  TrainingSpec spec = one(j);
  double tokens[2] = {0, 0};
  uint64_t events[2] = {0, 0};
  uint64_t interruptions[2] = {0, 0};
  for (int m = 0; m < 2; ++m) {
    spec.jobs[0].fidelity = m == 0 ? Fidelity::Step : Fidelity::Segment;
    TrainingRun run(h100_fleet(40), fs, spec, 11);
    run.run_for(Duration::days(14));
    tokens[m] = run.training.tokens_trained(0);
    events[m] = run.engine.events_executed();
    interruptions[m] = run.training.stats(0).interruptions;
  }
  REQUIRE(interruptions[0] > 20);
  CHECK(interruptions[0] == interruptions[1]);
  CHECK(std::abs(tokens[0] - tokens[1]) <= 0.005 * tokens[0]);
  CHECK(events[1] * 100 < events[0]);
}

TEST_CASE("training: the Young/Daly interval beats intervals 50 percent shorter and longer", "[training]") {
  // C = 5 min stall, job MTBF 5 h: tau* = sqrt(2 * 300 * 18000) s = 54.8 min. One simulated year;
  // the same seed gives every policy the same failures (common random numbers).
  TrainingJobSpec j = small_job(16, 1e18);
  j.checkpoint.storage_bytes_per_s = 14e9 / 300;
  j.recovery.hot_spare_nodes = 8;
  j.recovery.detection = Duration::minutes(1);
  j.recovery.restart = Duration::minutes(2);
  FailureSpec fs = quiet();
  fs.processes.push_back(node_process("n", 16 * 5 * 3600.0, 2 * 3600.0));
  const double tau = std::sqrt(2.0 * 300 * 18000);
  double ettr[4] = {0, 0, 0, 0};
  Duration interval_used;
  for (int k = 0; k < 4; ++k) {
    TrainingJobSpec v = j;
    if (k == 0) {
      v.checkpoint.kind = CheckpointPolicy::Kind::YoungDaly;
    } else {
      v.checkpoint.kind = CheckpointPolicy::Kind::Fixed;
      v.checkpoint.interval = Duration::from_seconds(tau * (k == 1 ? 0.5 : k == 2 ? 1.5 : 1.0));
    }
    TrainingRun run(h100_fleet(24), fs, one(v), 5);
    run.run_for(Duration::days(365));
    ettr[k] = run.training.ettr(0);
    if (k == 0) interval_used = run.training.step_duration(0) * static_cast<int64_t>(run.training.steps_per_checkpoint(0));
  }
  CHECK(interval_used.seconds() == Approx(tau).epsilon(0.01));
  CHECK(ettr[0] > ettr[1]);
  CHECK(ettr[0] > ettr[2]);
  CHECK(ettr[0] == Approx(ettr[3]).epsilon(0.002));
  // First-order theory: waste C/tau + tau/(2M) = 18% at tau*, 22.6% at 0.5 tau*, 19.7% at 1.5 tau*.
  CHECK(ettr[0] - ettr[1] > 0.02);
}

TEST_CASE("training: a job following another starts when it completes", "[training]") {
  TrainingJobSpec a = small_job(4, 0);
  a.total_tokens = a.global_batch_tokens * 100;
  a.checkpoint.kind = CheckpointPolicy::Kind::None;
  TrainingJobSpec b = a;
  b.name = "second";
  b.after = "small";
  TrainingSpec spec;
  spec.jobs = {a, b};
  TrainingRun run(h100_fleet(4), quiet(), spec);
  run.run_for(Duration::days(1));
  REQUIRE(run.training.state(1) == JobState::Done);
  CHECK(run.training.stats(1).first_start == run.training.stats(0).finished);
}

TEST_CASE("training: summary and table carry the headline figures", "[training]") {
  TrainingJobSpec j = small_job(4, 1e15);
  FailureSpec fs = quiet();
  fs.outages.push_back(dc_outage(SimTime::zero() + Duration::hours(2), Duration::hours(1)));
  TrainingRun run(h100_fleet(4), fs, one(j));
  run.run_for(Duration::hours(6));
  run.training.write_summary();
  const auto& t = run.recorder.summary().at("training");
  const auto& s = t.at("jobs").at("small");
  CHECK(s.at("interruptions") == 1);
  CHECK(s.at("ettr").get<double>() > 0.5);
  CHECK(s.at("ettr").get<double>() < 1.0);
  CHECK(s.at("mfu").get<double>() > 0.1);
  CHECK(s.at("by_cause").at("outage: power").at("interruptions") == 1);
  const auto table = run.recorder.find_table("training");
  REQUIRE(table);
  CHECK(run.recorder.rows(*table).size() == 6);
  CHECK(run.recorder.event_count("training_interrupt") == 1);
  CHECK(run.recorder.event_count("training_resume") == 2);
}

TEST_CASE("training: an inference claim preempts the job without losing work", "[training]") {
  TrainingJobSpec j = small_job(4, 1e15);
  j.fidelity = Fidelity::Segment;
  TrainingRun run(h100_fleet(4), quiet(), one(j));
  run.failures.start();
  run.training.start();
  run.engine.run(SimTime::zero() + Duration::hours(2));
  REQUIRE(run.training.state(0) == JobState::Running);
  const double before = run.training.tokens_trained(0);
  std::vector<NodeId> got;
  const AllocationId claim = run.scheduler.claim(RegionId{0}, 16, 10, [&](AllocationId, std::span<const NodeId> n) {
    got.assign(n.begin(), n.end());
  });
  run.engine.run(SimTime::zero() + Duration::hours(3));
  CHECK(got.size() == 2);
  CHECK(run.training.state(0) == JobState::Queued);
  CHECK(run.training.stats(0).preemptions == 1);
  CHECK(run.training.stats(0).lost_s == 0);
  CHECK(run.training.stats(0).interruptions == 0);
  CHECK(run.training.tokens_trained(0) == Approx(before).epsilon(0.01));  // kept at the preemption
  run.scheduler.release(claim);
  run.engine.run(SimTime::zero() + Duration::hours(4));
  CHECK(run.training.state(0) == JobState::Running);
  CHECK(run.training.tokens_trained(0) > before);
  // Down from the preemption to the resume: queued 1 h, then restart + restore, no detection.
  CHECK(run.training.stats(0).by_cause.at("preemption").down_s == Approx(3600.0 + 300 + 60).margin(1e-6));
}

TEST_CASE("training: a failure during an asynchronous write falls back to the previous checkpoint", "[training]") {
  TrainingJobSpec j = small_job(4, 1e15);
  j.checkpoint.async = true;
  j.checkpoint.async_stall = Duration::s(2);
  j.checkpoint.storage_bytes_per_s = 14e9 / 600;  // a 10-minute write
  j.checkpoint.interval = Duration::minutes(30);
  for (Fidelity f : {Fidelity::Step, Fidelity::Segment}) {
    j.fidelity = f;
    // Find when the second checkpoint starts: t0 + 2K steps + one stall.
    TrainingRun probe(h100_fleet(4), quiet(), one(j));
    probe.run_for(Duration::minutes(10));
    const Duration T = probe.training.step_duration(0);
    const auto K = static_cast<int64_t>(probe.training.steps_per_checkpoint(0));
    const SimTime t0 = SimTime::zero() + j.recovery.restart;
    const SimTime ck1 = t0 + T * K;                        // first checkpoint starts
    const SimTime ck2 = t0 + T * (2 * K) + Duration::s(2);  // second one starts
    // Fail 5 minutes into the second write: the job resumes from the first checkpoint.
    FailureSpec fs = quiet();
    fs.outages.push_back(dc_outage(ck2 + Duration::minutes(5), Duration::hours(1)));
    TrainingRun run(h100_fleet(4), fs, one(j));
    run.run_for(Duration::hours(3));
    const JobStats& st = run.training.stats(0);
    REQUIRE(st.interruptions == 1);
    // Lost steps: the K between the two checkpoints and those completed after the second stall.
    const int64_t after = (Duration::minutes(5) - Duration::s(2) - Duration::ns(1)).ticks() / T.ticks();
    CHECK(st.lost_tokens == Approx(double(K + after) * j.global_batch_tokens));
    // Lost time: from the resume after the first checkpoint's stall, minus the second stall.
    CHECK(st.lost_s == Approx(((ck2 + Duration::minutes(5)) - (ck1 + Duration::s(2))).seconds() - 2.0).margin(1e-6));
  }
}

TEST_CASE("training: hot spares change nothing while free hosts can stand in, and cut the wait when none can",
          "[training]") {
  // The quickstart finding (docs/training.md, "Hot spares"): a spare and a free host from the
  // scheduler both cost detection + restart + restore, so with free hosts in the job's region the
  // spares only add held hosts; they show when nothing else can replace a failed host.
  FailureSpec fs = quiet();
  fs.processes.push_back(node_process("n", 8 * 10 * 3600.0, 24 * 3600.0));  // 8 nodes: ~1 failure / 10 h
  JobStats st[2][2];
  double waited[2][2] = {};  // as of the end, a wait still open included: one wait may last to the end
  for (int free_capacity = 0; free_capacity < 2; ++free_capacity)
    for (int spares = 0; spares < 2; ++spares) {
      TrainingJobSpec j = small_job(4, 1e15);
      j.recovery.hot_spare_nodes = spares == 0 ? 0 : 2;
      j.recovery.use_free_capacity = free_capacity == 1;
      TrainingRun run(h100_fleet(8), fs, one(j), 3);
      run.run_for(Duration::days(4));
      st[free_capacity][spares] = run.training.stats(0);
      waited[free_capacity][spares] = run.training.waiting_s(0);
    }
  // With free capacity: identical figures (the same failures reach the same gang hosts).
  REQUIRE(st[1][0].interruptions >= 2);
  CHECK(st[1][0].interruptions == st[1][1].interruptions);
  CHECK(st[1][0].down_s == Approx(st[1][1].down_s));
  CHECK(waited[1][0] == 0);
  // Without it: no spare means waiting for the repair (24 h mean); spares avoid most of it.
  CHECK(waited[0][0] > 3600);
  CHECK(waited[0][1] < waited[0][0]);
}

namespace {

/// Two regions "r1" and "r2" of `nodes` 8-GPU H100 hosts each.
FleetSpec two_regions(uint32_t nodes) {
  FleetSpec fleet = h100_fleet(nodes);
  FleetSpec other = h100_fleet(nodes);
  other.regions[0].name = "r2";
  fleet.regions.push_back(other.regions[0]);
  return fleet;
}

OutageSpec region_outage(std::string region, SimTime from, Duration d) {
  OutageSpec o = dc_outage(from, d);
  o.name = region + "-down";
  o.target = std::move(region);
  return o;
}

bool placed_in(const TrainingRun& run, size_t job, std::string_view region) {
  const auto& nodes = run.scheduler.allocation(run.training.allocation(job)).nodes;
  return !nodes.empty() && std::all_of(nodes.begin(), nodes.end(), [&](NodeId n) {
    return run.fleet.region_name(run.fleet.region_of(ref(n))) == region;
  });
}

}  // namespace

TEST_CASE("training: a job pinned to a region stays in it under the move policy", "[training]") {
  // Issue 18, defect 7: "Only this region" held for placement but not for a move away from an outage.
  TrainingJobSpec j = small_job(4, 1e15);
  j.region = "r1";
  j.recovery.outage = RecoveryPolicy::OutagePolicy::Move;
  FailureSpec fs = quiet();
  fs.outages.push_back(region_outage("r1", SimTime::zero() + Duration::hours(2), Duration::hours(5)));
  TrainingRun run(two_regions(4), fs, one(j));
  run.run_for(Duration::hours(3));
  CHECK(run.training.stats(0).moves == 0);
  CHECK(run.training.state(0) == JobState::Waiting);  // paused: r2 is not allowed
  CHECK(placed_in(run, 0, "r1"));
  run.engine.run(SimTime::zero() + Duration::hours(10));
  CHECK(run.training.state(0) == JobState::Running);
  CHECK(placed_in(run, 0, "r1"));
  CHECK(run.training.stats(0).by_cause.at("outage: power").down_s == Approx(5 * 3600.0 + 300 + 60));
}

TEST_CASE("training: a pinned job moves inside its region away from a datacenter outage", "[training]") {
  // r1 holds dc1 (4 hosts, where best fit puts the 4-host gang) and dc2 (6 hosts); r2 has 4 hosts.
  FleetSpec fleet = two_regions(4);
  DatacenterSpec dc2 = fleet.regions[0].zones[0].datacenters[0];
  dc2.name = "dc2";
  dc2.nodes = 6;
  fleet.regions[0].zones[0].datacenters.push_back(dc2);
  FailureSpec fs = quiet();
  fs.outages.push_back(dc_outage(SimTime::zero() + Duration::hours(2), Duration::hours(5)));  // r1/z1/dc1
  for (const bool pinned : {true, false}) {
    TrainingJobSpec j = small_job(4, 1e15);
    j.recovery.outage = RecoveryPolicy::OutagePolicy::Move;
    if (pinned) j.region = "r1";
    TrainingRun run(fleet, fs, one(j));
    run.run_for(Duration::hours(3));
    CHECK(run.training.stats(0).moves == 1);
    CHECK(run.training.state(0) == JobState::Running);
    // Pinned: to dc2 of its region; otherwise away from the outage's region, as before.
    CHECK(placed_in(run, 0, pinned ? "r1" : "r2"));
  }
}

TEST_CASE("training: a fault on a job paused by an outage does not interrupt it again", "[training]") {
  // Issue 18, defect 2: the job is waiting, not running, so a fault on its dark hosts (here a
  // datacenter outage inside the region's) joins what it waits for; it is not a second interruption,
  // and the down time stays with the outage that stopped the job (docs/training.md).
  TrainingJobSpec j = small_job(4, 1e15);
  FailureSpec fs = quiet();
  fs.outages.push_back(region_outage("r1", SimTime::zero() + Duration::hours(2), Duration::hours(12)));
  OutageSpec inner = dc_outage(SimTime::zero() + Duration::hours(4), Duration::hours(2));
  inner.cause = "cooling";
  fs.outages.push_back(inner);
  for (Fidelity f : {Fidelity::Step, Fidelity::Segment}) {
    j.fidelity = f;
    TrainingRun run(two_regions(4), fs, one(j));
    run.run_for(Duration::hours(16));
    const JobStats& st = run.training.stats(0);
    CHECK(st.interruptions == 1);
    CHECK(run.recorder.event_count("training_interrupt") == 1);
    CHECK(st.by_cause.count("outage: cooling") == 0);
    CHECK(st.by_cause.at("outage: power").down_s == Approx(12 * 3600.0 + 300 + 60));
    CHECK(st.waiting_s == Approx(12 * 3600.0));
    // The whole gang sat in the dark region for the 12 hours.
    CHECK(st.dark_s == Approx(12 * 3600.0));
    CHECK(st.by_cause.at("outage: power").dark_s == Approx(12 * 3600.0));
    CHECK(st.by_cause.at("outage: power").outage);
    CHECK(run.training.state(0) == JobState::Running);
  }
}

TEST_CASE("training: dark time counts only the hosts under the outage and none after a move", "[training]") {
  // A gang of 4 hosts over two datacenters (dc1 has 2, dc2 has 2: no datacenter holds it whole);
  // an outage of dc1 darkens half the gang for its 3 hours while the job waits.
  FleetSpec fleet = h100_fleet(2);
  DatacenterSpec dc2 = fleet.regions[0].zones[0].datacenters[0];
  dc2.name = "dc2";
  fleet.regions[0].zones[0].datacenters.push_back(dc2);
  TrainingJobSpec j = small_job(4, 1e15);
  FailureSpec fs = quiet();
  fs.outages.push_back(dc_outage(SimTime::zero() + Duration::hours(2), Duration::hours(3)));
  TrainingRun run(fleet, fs, one(j));
  run.run_for(Duration::hours(8));
  CHECK(run.training.stats(0).interruptions == 1);
  CHECK(run.training.stats(0).dark_s == Approx(0.5 * 3 * 3600.0));
  // Moved at once to free hosts: down, but never dark.
  TrainingJobSpec m = small_job(4, 1e15);
  m.recovery.outage = RecoveryPolicy::OutagePolicy::Move;
  FailureSpec rs = quiet();
  rs.outages.push_back(region_outage("r1", SimTime::zero() + Duration::hours(2), Duration::hours(5)));
  TrainingRun moved(two_regions(4), rs, one(m));
  moved.run_for(Duration::hours(8));
  CHECK(moved.training.stats(0).moves == 1);
  CHECK(moved.training.stats(0).down_s > 0);
  CHECK(moved.training.stats(0).dark_s == 0);
}

namespace {

/// Checkpoints started before `end` and their stall time up to `end`, by hand: the run starts at t0,
/// checkpoint i (from 1) starts after i*K steps of T and i-1 stalls of C.
std::pair<uint64_t, double> checkpoints_by_hand(SimTime t0, SimTime end, Duration T, int64_t K, Duration C) {
  uint64_t n = 0;
  Duration stall = Duration::zero();
  for (int64_t i = 1;; ++i) {
    const SimTime start = t0 + T * (i * K) + C * (i - 1);
    if (start >= end) break;
    ++n;
    stall += std::min(C, end - start);
  }
  return {n, stall.seconds()};
}

}  // namespace

TEST_CASE("training: step and segment fidelities count the same checkpoints and stall up to the horizon",
          "[training]") {
  // Issue 20, defect 2: segment mode left the run still open at the horizon out of both counters.
  TrainingJobSpec j = small_job(4, 1e15);
  j.checkpoint.interval = Duration::minutes(20);
  for (const bool interrupted : {false, true}) {
    FailureSpec fs = quiet();
    if (interrupted) fs.outages.push_back(dc_outage(SimTime::zero() + Duration::s(20000), Duration::hours(1)));
    uint64_t n[2] = {0, 0};
    double stall[2] = {0, 0};
    for (int m = 0; m < 2; ++m) {
      j.fidelity = m == 0 ? Fidelity::Step : Fidelity::Segment;
      TrainingRun run(h100_fleet(4), fs, one(j));
      run.run_for(Duration::days(1));
      REQUIRE(run.training.state(0) == JobState::Running);
      n[m] = run.training.checkpoints(0);
      stall[m] = run.training.checkpoint_stall_s(0);
      run.training.write_summary();
      const auto& s = run.recorder.summary().at("training").at("jobs").at("small");
      CHECK(s.at("checkpoints").get<uint64_t>() == n[m]);
      CHECK(s.at("checkpoint_stall_s").get<double>() == stall[m]);
      if (!interrupted) {
        // One run from the launch to the horizon: the closed form by hand.
        const auto [hn, hs] = checkpoints_by_hand(SimTime::zero() + j.recovery.restart, SimTime::zero() + Duration::days(1),
                                                  run.training.step_duration(0),
                                                  static_cast<int64_t>(run.training.steps_per_checkpoint(0)), Duration::s(60));
        CHECK(n[m] == hn);
        CHECK(stall[m] == Approx(hs).margin(1e-6));
      }
    }
    CHECK(n[0] > 60);
    CHECK(n[0] == n[1]);
    CHECK(stall[0] == Approx(stall[1]).margin(1e-6));
  }
}
