// SPDX-License-Identifier: Apache-2.0
// SharedFabricCost's incremental path (a job's collectives kept per collective and updated by the groups
// that changed, its registration suspended over a stop and resumed, its costs kept while nothing on its
// links moved) against a full re-cost: a fresh SharedFabricCost on a fresh ledger holding the same
// other traffic, costing the job's placement of the moment from nothing.
#include "models/network/fleet_map.hpp"
#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "models/training/shared_fabric_cost.hpp"
#include "tests/models/training/fabric_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
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
