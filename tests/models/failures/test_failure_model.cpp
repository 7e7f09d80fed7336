// SPDX-License-Identifier: Apache-2.0
#include "models/failures/failure_model.hpp"
#include "tests/models/hardware/fleet_fixtures.hpp"
#include "tests/support/ks.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace fleetsim;
using fleetsim::test::single_dc_spec;
using fleetsim::test::two_region_spec;

namespace {

constexpr double kHour = 3600.0;

ProcessSpec process(std::string name, ComponentClass cls, double mtbf_h, double repair_h) {
  ProcessSpec p;
  p.name = std::move(name);
  p.cls = cls;
  p.lifetime = LifetimeSpec::exponential_mtbf(mtbf_h * kHour);
  p.repair = RepairSpec::fixed(repair_h * kHour);
  return p;
}

// Everything one run needs, in dependency order.
struct Run {
  Fleet fleet;
  Engine engine;
  RngStreams streams;
  Recorder recorder;
  FailureModel model;
  Run(const FleetSpec& fs, const FailureSpec& spec, uint64_t seed)
      : fleet(Fleet::build(fs)), streams(seed), model(spec, fleet, engine, streams, recorder) {}
  void run_for(Duration d) {
    model.start();
    engine.run(SimTime::zero() + d);
  }
};

FailureSpec no_samples() {
  FailureSpec s;
  s.sample_interval = Duration::zero();
  return s;
}

using fleetsim::test::ks_statistic;

}  // namespace

TEST_CASE("failures: exponential counts match N T / MTBF over many seeds", "[failures][statistics]") {
  // 1,000 GPUs, MTBF 1,000 h, 1,000 h: each run expects N T / MTBF = 1,000 failures. A repair of one
  // minute keeps the downtime correction below 2e-5. The count of one run is Poisson(1000): every run
  // must lie within 5 sd (p ~ 6e-7 each), and the total of 40 runs, Poisson(40,000), within 4 sd
  // (+-800; p ~ 6e-5).
  FailureSpec spec = no_samples();
  spec.processes.push_back(process("gpu", ComponentClass::Gpu, 1000, 1.0 / 60));
  uint64_t total = 0;
  double sum_sq = 0;
  const int runs = 40;
  for (int seed = 1; seed <= runs; ++seed) {
    Run r(single_dc_spec(125), spec, static_cast<uint64_t>(seed));
    r.run_for(Duration::hours(1000));
    const uint64_t n = r.model.stats().failures;
    CHECK(std::abs(static_cast<double>(n) - 1000.0) < 5 * std::sqrt(1000.0));
    total += n;
    sum_sq += (static_cast<double>(n) - 1000.0) * (static_cast<double>(n) - 1000.0);
  }
  CHECK(std::abs(static_cast<double>(total) - 40000.0) < 800.0);
  // Dispersion: Poisson counts have variance = mean. With 40 runs the sample variance / mean lies in
  // [0.45, 1.75] with probability > 0.999 (chi-square with 40 degrees of freedom).
  const double dispersion = sum_sq / runs / 1000.0;
  CHECK(dispersion > 0.45);
  CHECK(dispersion < 1.75);
}

TEST_CASE("failures: node failures use the node population and rate", "[failures][statistics]") {
  // 500 nodes, 1 failure per 1,000 node-days (RSC style), 2,000 days: expected 1,000 (repairs 1 min).
  FailureSpec spec = no_samples();
  auto p = process("node", ComponentClass::Node, 1000 * 24, 1.0 / 60);
  spec.processes.push_back(p);
  uint64_t total = 0;
  for (int seed = 1; seed <= 10; ++seed) {
    Run r(single_dc_spec(500), spec, static_cast<uint64_t>(seed));
    r.run_for(Duration::days(2000));
    total += r.model.stats().failures;
  }
  CHECK(std::abs(static_cast<double>(total) - 10000.0) < 4 * std::sqrt(10000.0));
}

TEST_CASE("failures: Weibull first failures follow the Weibull CDF by Kolmogorov-Smirnov", "[failures][statistics]") {
  // Never repaired: each of the 2,000 GPUs fails exactly once, at its Weibull lifetime. The cohort
  // method draws these as successive minima; their empirical CDF must match F(x) = 1 - exp(-(x/eta)^k).
  // Critical value at significance 0.01: 1.628 / sqrt(n) = 0.0364 for n = 2,000.
  for (double k : {0.7, 1.0, 2.5}) {
    FailureSpec spec = no_samples();
    ProcessSpec p;
    p.name = "wear";
    p.cls = ComponentClass::Gpu;
    p.lifetime = LifetimeSpec::weibull_mtbf(1000 * kHour, k);
    p.repair = RepairSpec::fixed(1e12);  // beyond any horizon: never repaired
    spec.processes.push_back(p);
    Run r(single_dc_spec(250), spec, 11);
    std::vector<double> times;
    r.model.on_event.connect([&](const FailureEvent& e) {
      if (e.kind == FailureEvent::Kind::Failure) times.push_back(e.time.seconds());
    });
    r.run_for(Duration::days(365 * 200));
    REQUIRE(times.size() == 2000);
    const double eta = p.lifetime.scale_s();
    const double d = ks_statistic(times, [&](double x) { return 1 - std::exp(-std::pow(x / eta, k)); });
    INFO("shape " << k << " D = " << d);
    CHECK(d < 1.628 / std::sqrt(2000.0));
  }
}

TEST_CASE("failures: Weibull renewals reach the renewal-theorem rate", "[failures][statistics]") {
  // Shape 2, mean 100 h, repair 10 h fixed: each component cycles every 110 h on average, so 200 GPUs
  // over 20,000 h fail about 200 * 20000 / 110 = 36,364 times (renewal theorem; the start-up
  // transient is a fraction of one cycle per component). Within 2%.
  FailureSpec spec = no_samples();
  ProcessSpec p;
  p.name = "wear";
  p.cls = ComponentClass::Gpu;
  p.lifetime = LifetimeSpec::weibull_mtbf(100 * kHour, 2.0);
  p.repair = RepairSpec::fixed(10 * kHour);
  spec.processes.push_back(p);
  Run r(single_dc_spec(25), spec, 3);
  r.run_for(Duration::hours(20000));
  const double expected = 200.0 * 20000 / 110;
  CHECK(std::abs(static_cast<double>(r.model.stats().failures) - expected) < 0.02 * expected);
}

TEST_CASE("failures: a scheduled region outage removes exactly that region and returns it", "[failures][outage]") {
  FailureSpec spec = no_samples();
  OutageSpec o;
  o.name = "use1";
  o.target = "us-east-1";
  o.from = SimTime::zero() + Duration::hours(10);
  o.duration = Duration::hours(5);
  o.kind = OutageKind::Full;
  spec.outages.push_back(o);
  Run r(two_region_spec(), spec, 1);
  std::vector<std::pair<uint64_t, uint64_t>> seen;  // (east, west) usable at 9h, 12h, 15h, 16h
  for (int h : {9, 12, 15, 16})
    r.engine.schedule_at(SimTime::zero() + Duration::hours(h), Phase::Sample, [&] {
      seen.emplace_back(r.fleet.usable_gpus(RegionId{0}), r.fleet.usable_gpus(RegionId{1}));
    });
  std::vector<FailureEvent::Kind> kinds;
  r.model.on_event.connect([&](const FailureEvent& e) { kinds.push_back(e.kind); });
  r.run_for(Duration::hours(24));
  REQUIRE(seen.size() == 4);
  CHECK(seen[0] == std::make_pair<uint64_t, uint64_t>(264, 48));
  CHECK(seen[1] == std::make_pair<uint64_t, uint64_t>(0, 48));
  CHECK(seen[2] == std::make_pair<uint64_t, uint64_t>(264, 48));  // ends at 15h, Repair phase before Sample
  CHECK(seen[3] == std::make_pair<uint64_t, uint64_t>(264, 48));
  CHECK(kinds == std::vector<FailureEvent::Kind>{FailureEvent::Kind::OutageStart, FailureEvent::Kind::OutageEnd});
  CHECK(r.recorder.event_count("outage_start") == 1);
  CHECK(r.recorder.event_count("outage_end") == 1);
}

TEST_CASE("failures: partial outages block launches and halve the network", "[failures][outage]") {
  FailureSpec spec = no_samples();
  OutageSpec launch;
  launch.name = "launch";
  launch.target = "us-east-1";
  launch.kind = OutageKind::Launch;
  launch.from = SimTime::zero() + Duration::hours(1);
  launch.duration = Duration::hours(2);
  OutageSpec net = launch;
  net.name = "net";
  net.kind = OutageKind::Network;
  net.network_factor = 0.5;
  net.target = "us-east-1/use1-az2";
  spec.outages = {launch, net};
  Run r(two_region_spec(), spec, 1);
  bool allowed = true;
  double factor = 1;
  uint64_t usable = 0;
  r.engine.schedule_at(SimTime::zero() + Duration::hours(2), Phase::Sample, [&] {
    allowed = r.fleet.launch_allowed(ref(NodeId{0}));
    factor = r.fleet.network_factor(ref(ZoneId{1}));
    usable = r.fleet.usable_gpus(RegionId{0});
  });
  r.run_for(Duration::hours(4));
  CHECK_FALSE(allowed);
  CHECK(factor == 0.5);
  CHECK(usable == 264);  // running capacity keeps running
  CHECK(r.fleet.launch_allowed(ref(NodeId{0})));
  CHECK(r.fleet.network_factor(ref(ZoneId{1})) == 1.0);
}

TEST_CASE("failures: a rack power failure takes exactly its nodes", "[failures][correlated]") {
  FailureSpec spec = no_samples();
  spec.processes.push_back(process("rack-power", ComponentClass::RackPower, 100, 5));
  Run r(two_region_spec(), spec, 5);
  bool checked = false;
  r.model.on_event.connect([&](const FailureEvent& e) {
    if (checked || e.kind != FailureEvent::Kind::Failure) return;
    checked = true;
    REQUIRE(e.component.level == Level::Rack);
    const IndexRange nodes = r.fleet.range(e.component, Level::Node);
    const RegionId region = r.fleet.region_of(e.component);
    const uint64_t full = region.value() == 0 ? 264 : 48;
    CHECK(r.fleet.usable_gpus(region) == full - r.fleet.range(e.component, Level::Gpu).size());
    for (uint32_t n = 0; n < r.fleet.nodes(); ++n) REQUIRE(r.fleet.usable(ref(NodeId{n})) == !nodes.contains(n));
  });
  r.run_for(Duration::hours(200));
  CHECK(checked);
  CHECK(r.model.stats().failures_by_class[static_cast<size_t>(ComponentClass::RackPower)] > 0);
}

TEST_CASE("failures: events carry path class cause and downtime and repairs follow", "[failures][output]") {
  FailureSpec spec = no_samples();
  auto p = process("llama3/faulty-gpu", ComponentClass::Gpu, 50, 3);
  p.cause = "Faulty GPU";
  spec.processes.push_back(p);
  auto link = process("cables", ComponentClass::Link, 50, 1);
  spec.processes.push_back(link);
  Run r(single_dc_spec(4), spec, 9);
  r.run_for(Duration::hours(100));
  const auto& evs = r.recorder.events();
  REQUIRE(!evs.empty());
  const RecordedEvent& first = evs.front();
  CHECK(first.kind == "failure");
  const Cell* path = first.find("path");
  REQUIRE(path != nullptr);
  CHECK(std::get<std::string>(*path).rfind("r1/z1/dc1/rack", 0) == 0);
  REQUIRE(first.find("cause") != nullptr);
  REQUIRE(first.find("duration_ns") != nullptr);
  size_t gpu_fail = 0, gpu_repair = 0, link_fail = 0;
  for (const auto& e : evs) {
    const auto cls = std::get<std::string>(*e.find("class"));
    if (cls == "gpu" && e.kind == "failure") {
      ++gpu_fail;
      CHECK(std::get<std::string>(*e.find("cause")) == "Faulty GPU");
      CHECK(std::get<int64_t>(*e.find("duration_ns")) == Duration::hours(3).ticks());
    }
    if (cls == "gpu" && e.kind == "repair") ++gpu_repair;
    if (cls == "link" && e.kind == "failure") {
      ++link_fail;
      CHECK(std::get<std::string>(*e.find("path")).find("/rail") != std::string::npos);
    }
  }
  CHECK(gpu_fail > 0);
  CHECK(link_fail > 0);
  CHECK(gpu_repair <= gpu_fail);
  // Exactly the GPU failures not yet repaired are in repair; link failures take no GPU away.
  CHECK(r.fleet.count(RegionId{0}, 0, Level::Gpu, Health::Repairing) == gpu_fail - gpu_repair);
}

TEST_CASE("failures: the same seed gives the same event sequence and another seed differs", "[failures][determinism]") {
  FailureSpec spec;
  spec.processes.push_back(process("gpu", ComponentClass::Gpu, 500, 2));
  spec.processes.push_back(process("node", ComponentClass::Node, 900, 5));
  auto fp = [&](uint64_t seed) {
    Run r(two_region_spec(), spec, seed);
    r.run_for(Duration::days(60));
    return std::make_pair(r.engine.fingerprint(), r.recorder.events_published());
  };
  CHECK(fp(42) == fp(42));
  CHECK(fp(42).first != fp(43).first);
}

TEST_CASE("failures: pending process events do not grow with the fleet", "[failures][scale]") {
  // 100,000 GPUs and three processes over one region: three pending failure events, not 100,000.
  FailureSpec spec = no_samples();
  spec.processes.push_back(process("gpu", ComponentClass::Gpu, 100000, 24));
  spec.processes.push_back(process("node", ComponentClass::Node, 50000, 24));
  ProcessSpec w;
  w.name = "wear";
  w.cls = ComponentClass::Gpu;
  w.lifetime = LifetimeSpec::weibull_mtbf(200000 * kHour, 1.5);
  w.repair = RepairSpec::fixed(24 * kHour);
  spec.processes.push_back(w);
  Run r(single_dc_spec(12500), spec, 1);
  r.model.start();
  CHECK(r.model.pending_process_events() == 3);
  CHECK(r.engine.pending_count() == 3);
  r.engine.run(SimTime::zero() + Duration::days(30));
  CHECK(r.model.stats().failures > 100);
  CHECK(r.model.pending_process_events() == 3);
  // Pending beyond the three: one repair per failure still open.
  CHECK(r.engine.pending_count() <= 3 + r.model.stats().failures - r.model.stats().repairs);
}

TEST_CASE("failures: straggler processes slow victims for a while", "[failures][straggler]") {
  FailureSpec spec = no_samples();
  auto p = process("slow-hosts", ComponentClass::Node, 20, 5);
  p.slowdown = 1.1;
  spec.processes.push_back(p);
  StragglerSpec s;
  s.name = "bad-gpu";
  s.target = "r1/z1/dc1/rack0/node0/gpu3";
  s.at = SimTime::zero() + Duration::hours(1);
  s.duration = Duration::hours(2);
  s.slowdown = 1.5;
  spec.stragglers.push_back(s);
  Run r(single_dc_spec(8), spec, 2);
  double at_2h = 0;
  size_t degraded_nodes = 0;
  r.engine.schedule_at(SimTime::zero() + Duration::hours(2), Phase::Sample, [&] {
    std::vector<GpuId> all;
    for (uint32_t g = 0; g < r.fleet.gpus(); ++g) all.push_back(GpuId{g});
    at_2h = r.fleet.slowest(all);
    degraded_nodes = r.fleet.count(RegionId{0}, 0, Level::Node, Health::Degraded);
  });
  r.run_for(Duration::hours(40));
  CHECK(at_2h == 1.5);
  CHECK(r.model.stats().stragglers > 1);
  CHECK(r.recorder.event_count("straggler_start") == r.model.stats().stragglers);
  CHECK(r.fleet.slowdown(GpuId{3}) < 1.5);
  (void)degraded_nodes;
}

TEST_CASE("failures: ramped capacity joins the population when installed", "[failures][ramp]") {
  FleetSpec fs = single_dc_spec(10);
  auto ramp = fleetsim::test::nvl72_dc("ramp1", 2);
  ramp.install_at = SimTime::zero() + Duration::days(10);
  fs.regions[0].zones[0].datacenters.push_back(ramp);
  FailureSpec spec = no_samples();
  auto p = process("gb200", ComponentClass::Gpu, 1000, 1);
  p.accelerators = {"GB200"};
  spec.processes.push_back(p);
  Fleet fleet = Fleet::build(fs);
  Engine engine;
  RngStreams streams(4);
  Recorder rec;
  FleetLifecycle life(fs, fleet, engine, &rec);
  FailureModel model(spec, fleet, engine, streams, rec, &life);
  SimTime first_failure = SimTime::max();
  model.on_event.connect([&](const FailureEvent& e) {
    if (e.kind == FailureEvent::Kind::Failure && first_failure == SimTime::max()) first_failure = e.time;
    CHECK(fleet.accelerators()[fleet.accelerator_of(e.component)] == "GB200");
  });
  life.start();
  model.start();
  engine.run(SimTime::zero() + Duration::days(20));
  CHECK(first_failure >= SimTime::zero() + Duration::days(10));
  // 144 GPUs x 240 h / 1000 h: ~34.6 expected; Poisson, 5 sd.
  CHECK(std::abs(static_cast<double>(model.stats().failures) - 34.56) < 5 * std::sqrt(34.56));
  CHECK(rec.event_count("capacity_install") == 1);
}

TEST_CASE("failures: samples are one event per interval with one row per region and accelerator", "[failures][output]") {
  FailureSpec spec;
  spec.sample_interval = Duration::hours(6);
  spec.processes.push_back(process("gpu", ComponentClass::Gpu, 100, 10));
  Recorder rec;
  Fleet fleet = Fleet::build(two_region_spec());
  Engine engine;
  RngStreams streams(1);
  FailureModel model(spec, fleet, engine, streams, rec);
  model.start();
  engine.run(SimTime::zero() + Duration::days(2));
  CHECK(model.stats().samples == 9);  // 0h, 6h, ..., 48h
  const auto table = rec.find_table("utilization");
  REQUIRE(table.has_value());
  const auto& rows = rec.rows(*table);
  CHECK(rows.size() == 9 * 3);  // (us-east-1, H100), (us-east-1, GB200), (us-west-2, H100)
  const size_t installed = rec.column_index(*table, "gpus_installed");
  const size_t usable = rec.column_index(*table, "gpus_usable");
  const size_t failed = rec.column_index(*table, "gpus_repairing");
  const size_t offline = rec.column_index(*table, "gpus_offline");
  for (const auto& row : rows) {
    const auto i = std::get<int64_t>(row[installed]);
    const auto u = std::get<int64_t>(row[usable]);
    const auto f = std::get<int64_t>(row[failed]);
    const auto o = std::get<int64_t>(row[offline]);
    CHECK(i == u + f + o);
    CHECK(o == 0);
  }
}
