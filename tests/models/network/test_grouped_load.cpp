// SPDX-License-Identifier: Apache-2.0
// GroupedLoad (collective_load.hpp): a job's merged collective load updated by the groups that changed
// against merge_loads of every group afresh (the full re-cost), on random sequences of group changes.
#include "models/network/collective_load.hpp"
#include "models/network/fabric_load.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

// Entry by entry: the same links, values equal to `rel` of the larger magnitude.
void require_same(const LinkVector& got, const LinkVector& want, double rel) {
  REQUIRE(got.nonZeros() == want.nonZeros());
  LinkVector::InnerIterator a(got), b(want);
  for (; a && b; ++a, ++b) {
    REQUIRE(a.index() == b.index());
    const double scale = std::max(std::abs(a.value()), std::abs(b.value()));
    REQUIRE(std::abs(a.value() - b.value()) <= rel * scale);
  }
}

}  // namespace

TEST_CASE("grouped load: updates by changed groups equal a full merge on random change sequences", "[network][fabric_load]") {
  // 64 single-GPU hosts behind 2:1 leaves: groups of 8 ranks share leaf uplinks and spine links, so a
  // changed group moves load on links other groups keep (values updated) and on links only it used
  // (links that come and go). Each step replaces 1-3 groups by random members, sometimes a group by
  // itself or one member only (a replaced host); the merge must equal merge_loads over the current
  // groups: the same links, latency and steps exactly, values to 1e-12 (the stated rounding bound),
  // and the same time on a loaded ledger.
  Fabric f(tor_cluster(64, 16, 2, 2.0));
  FabricLoad ledger(f.topo, f.router);
  const ConsumerId me = ledger.add_consumer("job");
  const ConsumerId other = ledger.add_consumer("other");
  std::vector<Stream> bg;
  for (uint32_t i = 0; i < 16; ++i) bg.push_back({f.gpu(i), f.gpu(63 - i), 3e9, 2, 2, 77});
  ledger.set_streams(other, bg, 0.6);
  std::mt19937_64 rng(20261205);
  for (CollectiveOp op : {CollectiveOp::AllReduce, CollectiveOp::AllGather, CollectiveOp::AllToAll, CollectiveOp::PointToPoint}) {
    INFO("op " << int(op));
    CollectiveSpec s{.op = op, .algorithm = Algorithm::Ring, .bytes = 64e6, .alpha = Duration::us(5), .key_base = 3, .channels = 2};
    auto random_group = [&] {
      std::vector<uint32_t> ids(64);
      for (uint32_t i = 0; i < 64; ++i) ids[i] = i;
      std::shuffle(ids.begin(), ids.end(), rng);
      std::vector<VertexId> g;
      for (uint32_t i = 0; i < 8; ++i) g.push_back(f.gpu(ids[i]));
      return g;
    };
    auto route = [&](const std::vector<VertexId>& g) { return collective_load(f.router, std::span(&g, 1), s); };
    std::vector<std::vector<VertexId>> groups;
    std::vector<CollectiveLoad> loads;
    for (int i = 0; i < 6; ++i) {
      groups.push_back(random_group());
      loads.push_back(route(groups.back()));
    }
    GroupedLoad inc;
    inc.assign(loads);
    for (int step = 0; step < 150; ++step) {
      INFO("step " << step);
      std::vector<size_t> idx;
      const size_t n = 1 + rng() % 3;
      while (idx.size() < n) {
        const size_t g = rng() % groups.size();
        if (std::find(idx.begin(), idx.end(), g) == idx.end()) idx.push_back(g);
      }
      std::sort(idx.begin(), idx.end());
      std::vector<CollectiveLoad> fresh;
      for (size_t g : idx) {
        const uint64_t kind = rng() % 4;
        if (kind == 0) {
          // unchanged members (routed again: the same load)
        } else if (kind == 1) {
          groups[g][rng() % 8] = f.gpu(static_cast<uint32_t>(rng() % 64));  // one member replaced
        } else {
          groups[g] = random_group();
        }
        fresh.push_back(route(groups[g]));
        loads[g] = fresh.back();
      }
      inc.replace(idx, std::move(fresh));
      std::vector<const CollectiveLoad*> parts;
      for (const auto& l : loads) parts.push_back(&l);
      const CollectiveLoad full = merge_loads(parts);
      const CollectiveLoad& got = inc.merged();
      REQUIRE(got.connected == full.connected);
      REQUIRE(got.patterns.size() == full.patterns.size());
      for (size_t k = 0; k < full.patterns.size(); ++k) {
        REQUIRE(got.patterns[k].steps == full.patterns[k].steps);
        REQUIRE(got.patterns[k].latency == full.patterns[k].latency);
        require_same(got.patterns[k].bytes, full.patterns[k].bytes, 1e-12);
        require_same(got.patterns[k].flows, full.patterns[k].flows, 1e-12);
        require_same(got.patterns[k].present, full.patterns[k].present, 0);
      }
      const double t_inc = shared_collective_time(got, ledger, me).time.seconds();
      const double t_full = shared_collective_time(full, ledger, me).time.seconds();
      REQUIRE(std::abs(t_inc - t_full) <= 1e-12 * t_full);
    }
    // The sequence ran mostly on differences (a full merge only every kFullMergeEvery updates).
    CHECK(inc.delta_updates() >= 140);
    CHECK(inc.full_merges() <= 1 + 150 / GroupedLoad::kFullMergeEvery);
  }
}

TEST_CASE("grouped load: a group without a route makes the merge unconnected until it has one again", "[network][fabric_load]") {
  Fabric f(tor_cluster(16, 8, 2));
  CollectiveSpec s{.op = CollectiveOp::AllReduce, .algorithm = Algorithm::Ring, .bytes = 1e6, .alpha = Duration::us(5), .channels = 1};
  std::vector<std::vector<VertexId>> g{{f.gpu(0), f.gpu(5)}, {f.gpu(1), f.gpu(9)}};
  GroupedLoad inc;
  inc.assign({collective_load(f.router, std::span(&g[0], 1), s), collective_load(f.router, std::span(&g[1], 1), s)});
  REQUIRE(inc.merged().connected);
  CollectiveLoad cut;
  cut.connected = false;
  cut.edges = inc.merged().edges;
  const size_t one[1] = {1};
  inc.replace(one, {cut});
  CHECK_FALSE(inc.merged().connected);
  CHECK(inc.merged().patterns.empty());
  inc.replace(one, {collective_load(f.router, std::span(&g[1], 1), s)});
  REQUIRE(inc.merged().connected);
  std::vector<CollectiveLoad> both{collective_load(f.router, std::span(&g[0], 1), s), collective_load(f.router, std::span(&g[1], 1), s)};
  const CollectiveLoad* parts[2] = {&both[0], &both[1]};
  const CollectiveLoad full = merge_loads(parts);
  REQUIRE(inc.merged().patterns.size() == full.patterns.size());
  for (size_t k = 0; k < full.patterns.size(); ++k) require_same(inc.merged().patterns[k].bytes, full.patterns[k].bytes, 0);
}

TEST_CASE("fabric load: a suspended consumer is off the fabric for everyone else, and resumes as it was", "[network][fabric_load]") {
  // Random sequences of set_streams, suspend, resume and clear on four consumers, against a ledger
  // where a suspend is a clear and a resume sets the same streams again: the same shares, loads,
  // affected consumers and per-link totals told to on_load_change.
  Fabric f(tor_cluster(32, 8, 2, 2.0));
  FabricLoad a(f.topo, f.router), b(f.topo, f.router);
  std::vector<double> tot_a(f.topo.directed_edges(), 0.0), tot_b(f.topo.directed_edges(), 0.0);
  a.on_load_change = [&](EdgeIndex e, double d) { tot_a[e] += d; };
  b.on_load_change = [&](EdgeIndex e, double d) { tot_b[e] += d; };
  const int C = 4;
  std::vector<std::vector<Stream>> streams(C);
  std::vector<char> on(C, 0), held(C, 0);
  for (int c = 0; c < C; ++c) {
    a.add_consumer("c" + std::to_string(c));
    b.add_consumer("c" + std::to_string(c));
  }
  std::mt19937_64 rng(7);
  for (int step = 0; step < 300; ++step) {
    INFO("step " << step);
    const auto c = static_cast<ConsumerId>(rng() % C);
    const uint64_t op = rng() % 4;
    a.clear_affected();
    b.clear_affected();
    if (op == 0) {
      streams[c].clear();
      for (int k = 0; k < 4; ++k)
        streams[c].push_back({f.gpu(static_cast<uint32_t>(rng() % 32)), f.gpu(static_cast<uint32_t>(rng() % 32)),
                              1e9 * static_cast<double>(1 + rng() % 9), 1, 2, static_cast<uint64_t>(c)});
      a.set_streams(c, streams[c], 0.5);
      b.set_streams(c, streams[c], 0.5);
      on[c] = held[c] = 1;
    } else if (op == 1 && on[c]) {
      a.suspend(c);
      b.clear(c);
      on[c] = 0;
    } else if (op == 2 && held[c] && !on[c]) {
      a.resume(c);
      b.set_streams(c, streams[c], 0.5);
      on[c] = 1;
    } else if (op == 3) {
      a.clear(c);
      b.clear(c);
      on[c] = held[c] = 0;
    }
    std::vector<ConsumerId> fa = a.affected(), fb = b.affected();
    std::sort(fa.begin(), fa.end());
    std::sort(fb.begin(), fb.end());
    REQUIRE(fa == fb);
    for (EdgeIndex e = 0; e < f.topo.directed_edges(); ++e) {
      REQUIRE(a.load(e) == Approx(b.load(e)).margin(1e-3));
      REQUIRE(a.consumers_on(e) == b.consumers_on(e));
      REQUIRE(tot_a[e] == Approx(tot_b[e]).margin(1e-3));
      for (ConsumerId x = 0; x < C; ++x) {
        REQUIRE(a.share(e, x, 2) == Approx(b.share(e, x, 2)).epsilon(1e-12));
        const FabricLoad::Others oa = a.others(e, x), ob = b.others(e, x);
        REQUIRE(oa.busy == ob.busy);
        REQUIRE(oa.load == Approx(ob.load).epsilon(1e-12));
        REQUIRE(oa.peak == ob.peak);
      }
    }
  }
}
