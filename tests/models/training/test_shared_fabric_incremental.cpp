// SPDX-License-Identifier: Apache-2.0
// SharedFabricCost's incremental path (a job's collectives kept per collective and updated by the groups
// that changed, its registration suspended over a stop and resumed, its costs kept while nothing on its
// links moved) against a full re-cost: a fresh SharedFabricCost on a fresh ledger holding the same
// other traffic, costing the job's placement of the moment from nothing.
#include "models/network/fleet_map.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "models/network/flow_model.hpp"
#include "models/training/shared_fabric_cost.hpp"
#include "sim/recorder.hpp"
#include "tests/models/training/fabric_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>

using namespace fleetsim;

namespace {

// 16 HGX hosts (128 H100), ToR-attached 2-tier fabric at 2:1, so rings between hosts meet on uplinks.
struct Net : fleetsim::test::FabricNet {
  static ScaleOutSpec tor_2to1() {
    ScaleOutSpec so;
    so.attach = Attach::Tor;
    so.tiers = 2;
    so.radix = 16;
    so.leaf_oversubscription = 2;
    so.port_bytes_per_s = 50e9;
    return so;
  }
  Net() : FabricNet(tor_2to1()) {}
};

// The other traffic: hosts 12-15 to hosts 0-3 (over the spines), sent half the time.
std::vector<Stream> other_streams(const Net& n, double rate) {
  std::vector<Stream> s;
  for (uint32_t h = 0; h < 4; ++h)
    for (uint32_t r = 0; r < 8; ++r)
      s.push_back({*n.map.endpoint(GpuId{(12 + h) * 8 + r}), *n.map.endpoint(GpuId{h * 8 + r}), rate, 1, 2, 5});
  return s;
}

// Data-parallel rings over `hosts`, one per rail, all concurrent.
std::vector<uint32_t> dp_members(const std::vector<uint32_t>& hosts) {
  std::vector<uint32_t> m;
  for (uint32_t r = 0; r < 8; ++r)
    for (uint32_t h : hosts) m.push_back(h * 8 + r);
  return m;
}

struct Costed {
  double seconds = 0;
  LinkVector load;
};

Costed cost(SharedFabricCost& s, const std::vector<uint32_t>& members, uint32_t ranks, bool run, double step_s) {
  CommGroup g;
  g.ranks = ranks;
  g.gpus = std::span<const uint32_t>(members.data(), ranks);
  g.concurrent_gpus = members;
  g.calls_per_step = 2;
  Costed c;
  c.seconds = s.comm(0).seconds(Collective::AllReduce, 2e9, g);
  if (run) s.running(0, JobTraffic{.step_s = step_s});
  return c;
}

bool close(const LinkVector& a, const LinkVector& b, double rel) {
  if (a.nonZeros() != b.nonZeros()) return false;
  LinkVector::InnerIterator x(a), y(b);
  for (; x && y; ++x, ++y)
    if (x.index() != y.index() || std::abs(x.value() - y.value()) > rel * std::max(std::abs(x.value()), std::abs(y.value())))
      return false;
  return true;
}

}  // namespace

TEST_CASE("shared fabric cost: stops, restarts and replaced hosts give what a full re-cost gives", "[training][network][fabric_load]") {
  Net n;
  AlphaBetaCommCost ab(fleetsim::test::h100_figures());
  Engine engine;
  FabricLoad ledger(n.topo, n.router);
  SharedFabricCost inc(n.router, n.map, ledger, engine, Duration::us(5), ab, {"a"});
  const ConsumerId other = inc.add_consumer("other");
  double rate = 4e9;
  inc.set_streams(other, other_streams(n, rate), 0.5);
  std::vector<uint32_t> hosts{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  const uint32_t ranks = static_cast<uint32_t>(hosts.size());
  std::mt19937_64 rng(14);
  double step = 3.0;
  cost(inc, dp_members(hosts), ranks, true, step);
  uint64_t kept = 0;
  for (int k = 0; k < 60; ++k) {
    INFO("step " << k);
    inc.stopped(0);
    inc.flush();
    const uint64_t what = rng() % 4;
    if (what == 1) {
      // A replaced host: one of the job's hosts swapped with one it does not use.
      std::vector<uint32_t> spare;
      for (uint32_t h = 0; h < 16; ++h)
        if (std::find(hosts.begin(), hosts.end(), h) == hosts.end()) spare.push_back(h);
      hosts[rng() % hosts.size()] = spare[rng() % spare.size()];
    } else if (what == 2) {
      rate = 1e9 + static_cast<double>(rng() % 8) * 1e9;  // the other traffic changed while it was stopped
      inc.set_streams(other, other_streams(n, rate), 0.5);
      inc.flush();
    } else if (what == 3) {
      step *= 1.01;  // a slower pace at the restart
    }
    // Stopped: nothing of the job is on the fabric.
    for (LinkVector::InnerIterator it(ledger.loads(inc.consumer(0))); it; ++it)
      REQUIRE(ledger.load(static_cast<EdgeIndex>(it.index())) == ledger.load_of(other, static_cast<EdgeIndex>(it.index())));
    const uint64_t before = inc.costings();
    const Costed got = cost(inc, dp_members(hosts), ranks, true, step);
    if (what == 0 && inc.costings() == before) ++kept;
    inc.flush();

    // The full re-cost: a fresh ledger with the same other traffic, the job costed from nothing.
    FabricLoad ledger2(n.topo, n.router);
    SharedFabricCost fresh(n.router, n.map, ledger2, engine, Duration::us(5), ab, {"a"});
    const ConsumerId other2 = fresh.add_consumer("other");
    fresh.set_streams(other2, other_streams(n, rate), 0.5);
    const Costed want = cost(fresh, dp_members(hosts), ranks, true, step);
    fresh.flush();
    REQUIRE(std::abs(got.seconds - want.seconds) <= 1e-12 * want.seconds);
    // The job's registration is the full re-cost's: the same links and loads (to the merge's rounding).
    REQUIRE(close(ledger.loads(inc.consumer(0)), ledger2.loads(fresh.consumer(0)), 1e-12));
    REQUIRE(!ledger.suspended(inc.consumer(0)));
  }
  // Restarts with nothing moved kept their cost (no costing on the ledger).
  CHECK(kept > 5);
}

namespace {

// Job `job`'s data-parallel rings costed (as the step model asks) and, if `run`, reported running.
double cost_job(SharedFabricCost& s, size_t job, const std::vector<uint32_t>& members, uint32_t ranks, bool run,
                double step_s = 3.0) {
  CommGroup g;
  g.ranks = ranks;
  g.gpus = std::span<const uint32_t>(members.data(), ranks);
  g.concurrent_gpus = members;
  g.calls_per_step = 2;
  const double t = s.comm(job).seconds(Collective::AllReduce, 2e9, g);
  if (run) s.running(job, JobTraffic{.step_s = step_s});
  return t;
}

// Rings over `hosts` on the given rails (GPU h * 8 + r), one per rail, all concurrent.
std::vector<uint32_t> rail_members(const std::vector<uint32_t>& hosts, uint32_t first_rail, uint32_t rails) {
  std::vector<uint32_t> m;
  for (uint32_t r = first_rail; r < first_rail + rails; ++r)
    for (uint32_t h : hosts) m.push_back(h * 8 + r);
  return m;
}

// Two jobs whose rings share the leaves' uplinks: both on hosts 0-7, a on rails 0-3, b on rails 4-7
// (each host's GPUs share its leaf's uplinks).
struct TwoJobs {
  Net n;
  AlphaBetaCommCost ab{fleetsim::test::h100_figures()};
  Engine engine;
  FabricLoad ledger{n.topo, n.router};
  SharedFabricCost s;
  Recorder rec;
  std::unique_ptr<FlowModel> flows;  // with `sample`: the ledger's loads in hourly utilization rows
  std::vector<uint32_t> a = rail_members({0, 1, 2, 3, 4, 5, 6, 7}, 0, 4), b = rail_members({0, 1, 2, 3, 4, 5, 6, 7}, 4, 4);
  std::vector<size_t> recosted;
  std::vector<char> down{0, 0};  // stopped jobs (the training model re-costs only running ones)
  double b_seconds = 0;
  explicit TwoJobs(Duration hold, bool sample = false)
      : s(n.router, n.map, ledger, engine, Duration::us(5), ab, {"a", "b"}, hold) {
    if (sample) {
      // As the world wires them (models/world/world.cpp).
      flows = std::make_unique<FlowModel>(n.topo, n.router, engine, &rec, FlowModelOptions{.sample_interval = Duration::hours(1)});
      ledger.on_load_change = [this](EdgeIndex e, double d) { flows->add_external_load(e, d); };
      ledger.on_kind_load_change = [this](LinkKind k, double d) { flows->add_external_kind_load(k, d); };
    }
    // As the training model does: a job named for a re-cost is costed again and reports its traffic.
    s.on_recost = [this](std::span<const size_t> js) {
      for (size_t j : js) {
        recosted.push_back(j);
        if (down[j]) continue;
        const double t = cost_job(s, j, j == 0 ? a : b, 8, true);
        if (j == 1) b_seconds = t;
      }
    };
    cost_job(s, 0, a, 8, true);
    b_seconds = cost_job(s, 1, b, 8, true);
    engine.run(engine.now());  // settle the mutual re-costs
    recosted.clear();
  }
  void run_for(Duration d) { engine.run(engine.now() + d); }
  void stop(size_t j) {
    down[j] = 1;
    s.stopped(j);
  }
  void restart(size_t j) {
    down[j] = 0;
    cost_job(s, j, j == 0 ? a : b, 8, true);
  }
};

}  // namespace

TEST_CASE("shared fabric cost: a stop within the hold leaves the traffic on the fabric; past it, the neighbours are re-costed",
          "[training][network][fabric_load]") {
  const Duration hold = Duration::minutes(30);
  TwoJobs held(hold), exact(Duration::zero());
  REQUIRE(held.b_seconds == exact.b_seconds);  // nothing stopped yet: the hold changes nothing
  const double b_shared = held.b_seconds;
  const LinkVector a_load = held.ledger.loads(held.s.consumer(0));
  REQUIRE(a_load.nonZeros() > 0);

  SECTION("a restart within the hold re-costs nobody and registers nothing again") {
    const uint64_t updates = held.ledger.updates(), costings = held.s.costings();
    held.stop(0);
    REQUIRE_FALSE(held.ledger.suspended(held.s.consumer(0)));
    held.run_for(Duration::minutes(12));  // detection and restart from the checkpoint
    CHECK(held.recosted.empty());
    // Still on the fabric while stopped (the [A] of the hold): its load is on its links.
    for (LinkVector::InnerIterator it(a_load); it; ++it)
      REQUIRE(held.ledger.load_of(held.s.consumer(0), static_cast<EdgeIndex>(it.index())) == it.value());
    held.restart(0);
    held.run_for(Duration::hours(1));  // past the hold: it was cancelled by the restart
    CHECK(held.recosted.empty());
    CHECK(held.ledger.updates() == updates);
    CHECK(held.s.costings() == costings);
    CHECK(held.s.stops_held() == 1);
    CHECK(held.s.holds_expired() == 0);
    CHECK(held.b_seconds == b_shared);
  }

  SECTION("past the hold the traffic leaves, as it does at once without a hold") {
    exact.stop(0);
    exact.run_for(Duration::zero());
    REQUIRE(exact.recosted == std::vector<size_t>{1});
    REQUIRE(exact.b_seconds < b_shared);  // b alone on the uplinks is faster

    held.stop(0);
    held.run_for(hold - Duration::s(1));
    CHECK(held.recosted.empty());
    CHECK(held.b_seconds == b_shared);
    held.run_for(Duration::s(2));
    CHECK(held.s.holds_expired() == 1);
    CHECK(held.ledger.suspended(held.s.consumer(0)));
    REQUIRE(held.recosted == std::vector<size_t>{1});
    CHECK(held.b_seconds == exact.b_seconds);
    CHECK(held.ledger.load(held.ledger.loads(held.s.consumer(1)).innerIndexPtr()[0]) ==
          exact.ledger.load(exact.ledger.loads(exact.s.consumer(1)).innerIndexPtr()[0]));

    // The restart after the hold is the exact path's restart: a resumed as it was, b re-costed.
    held.recosted.clear();
    exact.recosted.clear();
    held.restart(0);
    exact.restart(0);
    held.run_for(Duration::zero());
    exact.run_for(Duration::zero());
    CHECK_FALSE(held.ledger.suspended(held.s.consumer(0)));
    CHECK(held.recosted == exact.recosted);
    CHECK(held.b_seconds == exact.b_seconds);
  }

  SECTION("a held job whose links change leaves the fabric at once") {
    held.stop(0);
    // A leaf-spine link a's rings cross fails.
    uint32_t link = UINT32_MAX;
    for (LinkVector::InnerIterator it(a_load); it && link == UINT32_MAX; ++it) {
      const auto e = static_cast<EdgeIndex>(it.index());
      if (held.n.topo.edge(e).kind != LinkKind::Access) link = Router::link_of(e);
    }
    REQUIRE(link != UINT32_MAX);
    held.n.router.set_link_up(link, false);
    held.s.link_changed(link, false);
    CHECK(held.ledger.suspended(held.s.consumer(0)));
    held.run_for(Duration::zero());
    CHECK(std::find(held.recosted.begin(), held.recosted.end(), size_t{1}) != held.recosted.end());
    held.run_for(Duration::hours(1));
    CHECK(held.s.holds_expired() == 0);  // its hold was ended by the link, not run out
    held.n.router.set_link_up(link, true);
  }
}

TEST_CASE("shared fabric cost: a held stop counts in the class utilization as a stop without a hold does",
          "[training][network][fabric_load]") {
  // Job a stops at 10 min and restarts at 22 min; the hourly row of each link class is the same with
  // the hold (a idle in the ledger: its kind loads taken off) as without (a suspended: every link's).
  // The per-link rows keep a held job's load (the [A] of the hold): a's links look busier there.
  TwoJobs held(Duration::minutes(30), true), exact(Duration::zero(), true);
  for (TwoJobs* t : {&held, &exact}) {
    t->run_for(Duration::minutes(10));
    t->stop(0);
    t->run_for(Duration::minutes(12));
    t->restart(0);
    t->run_for(Duration::minutes(38));
  }
  REQUIRE(held.s.stops_held() == 1);
  REQUIRE(held.s.holds_expired() == 0);
  auto classes = [](const Recorder& rec) {
    const TableId t = *rec.find_table("network_utilization");
    const size_t cls = rec.column_index(t, "class"), util = rec.column_index(t, "utilization_fraction");
    std::map<std::string, double> u;
    for (const auto& r : rec.rows(t)) u[std::get<std::string>(r[cls])] = std::get<double>(r[util]);
    return u;
  };
  const auto h = classes(held.rec), x = classes(exact.rec);
  REQUIRE(h.size() == x.size());
  double busiest = 0;
  for (const auto& [name, u] : x) {
    INFO(name);
    CHECK(h.at(name) == Approx(u).epsilon(1e-12).margin(1e-15));
    busiest = std::max(busiest, u);
  }
  CHECK(busiest > 0);
  auto hottest = [](const Recorder& rec) {
    const TableId t = *rec.find_table("links");
    const size_t scope = rec.column_index(t, "scope"), util = rec.column_index(t, "utilization_fraction");
    for (const auto& r : rec.rows(t))
      if (std::get<std::string>(r[scope]) == "link") return std::get<double>(r[util]);
    return 0.0;
  };
  CHECK(hottest(held.rec) >= hottest(exact.rec));
}
