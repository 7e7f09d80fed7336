// SPDX-License-Identifier: Apache-2.0
#include "sim/rng.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

// Three leaves of three single-GPU hosts under one spine (radix 4 at 3:1: 3 down, 1 up). GPUs 0-2 on
// leaf 0, 3-5 on leaf 1, 6-8 on leaf 2. "Link 1" is leaf0 -> spine, "link 2" is spine -> leaf1; every
// link is 50 GB/s, so access links never bottleneck flows that do not share them.
ClusterSpec one_spine() { return tor_cluster(9, 4, 2, 3); }

}  // namespace

TEST_CASE("max-min reference solver: textbook examples", "[network]") {
  // Bertsekas and Gallager, Data Networks (2nd ed.), section 6.5.2: max-min fairness by progressive
  // filling. Links 0 and 1; flow A crosses both, B link 0 only, C link 1 only.
  const std::vector<std::vector<EdgeIndex>> paths{{0, 1}, {0}, {1}};
  const auto eq = max_min_fair(paths, std::vector<double>{1.0, 1.0});
  CHECK(eq[0] == Approx(0.5));
  CHECK(eq[1] == Approx(0.5));
  CHECK(eq[2] == Approx(0.5));
  // Link 1 twice as wide: link 0 is A's bottleneck (1/2), and C takes what A leaves on link 1.
  const auto asym = max_min_fair(paths, std::vector<double>{1.0, 2.0});
  CHECK(asym[0] == Approx(0.5));
  CHECK(asym[1] == Approx(0.5));
  CHECK(asym[2] == Approx(1.5));
}

TEST_CASE("flow model: three flows over two shared links all get half", "[network]") {
  Fabric f(one_spine());
  const FlowId a = f.flows.start(f.gpu(0), f.gpu(3), 1e9, {});  // link 1 and link 2
  const FlowId b = f.flows.start(f.gpu(1), f.gpu(6), 1e9, {});  // link 1
  const FlowId c = f.flows.start(f.gpu(7), f.gpu(4), 1e9, {});  // link 2
  f.flows.flush();
  CHECK(f.flows.rate(a) == Approx(kPort / 2));
  CHECK(f.flows.rate(b) == Approx(kPort / 2));
  CHECK(f.flows.rate(c) == Approx(kPort / 2));
}

TEST_CASE("flow model: a bottleneck elsewhere frees capacity for others", "[network]") {
  Fabric f(one_spine());
  const FlowId a = f.flows.start(f.gpu(0), f.gpu(3), 1e9, {});
  const FlowId b = f.flows.start(f.gpu(1), f.gpu(6), 1e9, {});
  const FlowId d = f.flows.start(f.gpu(2), f.gpu(7), 1e9, {});  // a third flow on link 1
  const FlowId c = f.flows.start(f.gpu(8), f.gpu(4), 1e9, {});
  f.flows.flush();
  // Link 1 carries A, B, D: 1/3 each. A is held to 1/3 there, so C gets 2/3 of link 2.
  CHECK(f.flows.rate(a) == Approx(kPort / 3));
  CHECK(f.flows.rate(b) == Approx(kPort / 3));
  CHECK(f.flows.rate(d) == Approx(kPort / 3));
  CHECK(f.flows.rate(c) == Approx(2 * kPort / 3));
  // When B ends, link 1 splits in two and C drops to half: max-min is not monotone per flow.
  CHECK(f.flows.abort(b));
  f.flows.flush();
  CHECK(f.flows.rate(a) == Approx(kPort / 2));
  CHECK(f.flows.rate(c) == Approx(kPort / 2));
}

TEST_CASE("flow model: an idle flow takes latency plus bytes over bandwidth", "[network]") {
  Fabric f(one_spine());
  SimTime done;
  f.flows.start(f.gpu(0), f.gpu(3), 10e6, [&] { done = f.engine.now(); });
  f.run();
  // 4 links of 500 ns; 10 MB at 50 GB/s = 200 us.
  CHECK(done.ticks() == 2'000 + 200'000);
}

TEST_CASE("flow model: incremental solves match the reference solver", "[network]") {
  Fabric f(tor_cluster(128, 8, 3, 1, 1));  // k=8 fat-tree
  Rng rng(7);
  std::vector<FlowId> ids;
  for (int i = 0; i < 300; ++i) {
    const auto s = static_cast<uint32_t>(rng.uniform_int(uint64_t{128}));
    auto d = static_cast<uint32_t>(rng.uniform_int(uint64_t{127}));
    if (d >= s) ++d;
    ids.push_back(f.flows.start(f.gpu(s), f.gpu(d), 1e6 * (1 + rng.uniform_int(uint64_t{50})), {}));
  }
  auto compare = [&] {
    f.flows.flush();
    std::vector<std::vector<EdgeIndex>> paths;
    std::vector<FlowId> live;
    for (FlowId id : ids)
      if (f.flows.active(id)) {
        paths.push_back(f.flows.path(id));
        live.push_back(id);
      }
    const auto ref = max_min_fair(paths, f.capacities());
    const auto fast = max_min_fair_fast(paths, f.capacities());
    for (size_t i = 0; i < live.size(); ++i) {
      REQUIRE(f.flows.rate(live[i]) == Approx(ref[i]).epsilon(1e-6));
      REQUIRE(fast[i] == Approx(ref[i]).epsilon(1e-9));
    }
    return live.size();
  };
  CHECK(compare() == 300);
  // Let a third of the flows finish, then compare again: completions re-solved incrementally.
  f.engine.run(SimTime::zero() + Duration::us(150));
  const size_t left = compare();
  CHECK(left < 300);
  CHECK(left > 0);
  CHECK(f.flows.stats().solves > 1);
}

TEST_CASE("flow model: same-time completions are solved together", "[network]") {
  Fabric f(tor_cluster(16, 8, 2));  // 2 leaves of 4
  int done = 0;
  // Four flows inside leaf 0 and four inside leaf 1, on disjoint access links: equal rates, same end.
  for (uint32_t i = 0; i < 4; ++i) f.flows.start(f.gpu(i), f.gpu((i + 1) % 4), 1e6, [&] { ++done; });
  for (uint32_t i = 0; i < 4; ++i) f.flows.start(f.gpu(8 + i), f.gpu(8 + (i + 1) % 4), 1e6, [&] { ++done; });
  f.run();
  CHECK(done == 8);
  // One solve for the 8 starts; the 8 same-time completions run one batched solve event, which finds
  // no flow left on the freed links and does no filling.
  CHECK(f.flows.stats().solves == 1);
  CHECK(f.flows.stats().solved_flows == 8);
  CHECK(f.engine.events_executed() == 8 + 8 + 2);  // drains, deliveries, two batched solve events
}

TEST_CASE("ECMP spreads flows over every equal-cost path", "[network]") {
  Fabric f(tor_cluster(16, 4, 3));  // k=4 fat-tree: 4 core paths between pods
  const VertexId a = f.gpu(0), b = f.gpu(15);
  CHECK(f.router.count_paths(a, b) == 4);
  std::map<std::vector<EdgeIndex>, int> used;
  std::vector<EdgeIndex> p;
  for (uint64_t key = 1; key <= 400; ++key) {
    REQUIRE(f.router.route(a, b, key, p));
    CHECK(p.size() == 6);
    ++used[p];
  }
  CHECK(used.size() == 4);
  for (const auto& [path, n] : used) CHECK(n > 60);  // 100 expected each
  // The same key always takes the same path.
  std::vector<EdgeIndex> again;
  f.router.route(a, b, 17, p);
  f.router.route(a, b, 17, again);
  CHECK(p == again);
}

TEST_CASE("a cut link reroutes flows and a partition fails them", "[network]") {
  Fabric f(tor_cluster(16, 4, 3));
  const VertexId a = f.gpu(0), b = f.gpu(15);
  bool ok = false, failed = false;
  const FlowId id = f.flows.start(a, b, 1e9, [&] {
    failed = f.flows.finishing_failed();
    ok = !failed;
  });
  f.flows.flush();
  const std::vector<EdgeIndex> before = f.flows.path(id);
  const uint32_t cut = Router::link_of(before[2]);  // aggregation -> core
  f.flows.set_link_up(cut, false);
  f.flows.flush();
  const std::vector<EdgeIndex> after = f.flows.path(id);
  REQUIRE(after.size() == 6);
  for (EdgeIndex e : after) CHECK(Router::link_of(e) != cut);
  CHECK(f.flows.rate(id) == Approx(kPort));
  CHECK(f.flows.stats().flows_rerouted == 1);
  // Cut both uplinks of b's leaf: b is cut off, the flow fails, the placement is split.
  const VertexId leaf = f.topo.edge(after.back()).source;
  for (const auto& o : f.router.out(leaf))
    if (f.topo.vertex(o.to).kind == VertexKind::Spine) f.flows.set_link_up(Router::link_of(o.e), false);
  f.run();
  CHECK(failed);
  CHECK_FALSE(ok);
  CHECK_FALSE(f.router.reachable(a, b));
  const std::vector<VertexId> placement{a, f.gpu(1), b};
  const PlacementCheck pc = f.router.check_placement(placement);
  CHECK_FALSE(pc.connected);
  CHECK(pc.groups == 2);
  CHECK(pc.group_of[0] == pc.group_of[1]);
  CHECK(pc.group_of[2] != pc.group_of[0]);
  // Links return: reachable again.
  for (const auto& o : f.router.out(leaf)) f.flows.set_link_up(Router::link_of(o.e), true);
  CHECK(f.router.reachable(a, b));
  CHECK(f.router.check_placement(placement).connected);
}

TEST_CASE("a failed switch reroutes around it", "[network]") {
  Fabric f(tor_cluster(16, 4, 3));
  const FlowId id = f.flows.start(f.gpu(0), f.gpu(15), 1e9, {});
  f.flows.flush();
  const VertexId core = f.topo.edge(f.flows.path(id)[2]).target;
  REQUIRE(f.topo.vertex(core).kind == VertexKind::Core);
  f.flows.set_switch_up(core, false);
  f.flows.flush();
  for (EdgeIndex e : f.flows.path(id)) CHECK(f.topo.edge(e).target != core);
  CHECK(f.flows.active(id));
}

TEST_CASE("a degraded link slows the flows crossing it", "[network]") {
  Fabric f(one_spine());
  const FlowId a = f.flows.start(f.gpu(0), f.gpu(3), 1e9, {});
  f.flows.flush();
  f.flows.set_link_capacity(Router::link_of(f.flows.path(a)[1]), 0.25);
  f.flows.flush();
  CHECK(f.flows.rate(a) == Approx(kPort / 4));
}

TEST_CASE("per-class utilization goes into the recorder table", "[network]") {
  const Topology topo = build_topology(NetworkSpec{{one_spine()}, {}, {}});
  Router router(topo);
  Engine engine;
  Recorder rec;
  FlowModel flows(topo, router, engine, &rec, FlowModelOptions{.sample_interval = Duration::ms(1)});
  // One 25 MB flow at 50 GB/s: busy for 0.5 ms of the first 1 ms sample.
  flows.start(topo.endpoint(0, 0), topo.endpoint(0, 3), 25e6, {});
  engine.run(SimTime::zero() + Duration::ms(1));
  const TableId t = *rec.find_table("network_utilization");
  const auto& rows = rec.rows(t);
  REQUIRE(rows.size() == 2);  // access and leaf_spine
  const size_t cls = rec.column_index(t, "class"), util = rec.column_index(t, "utilization_fraction");
  const size_t load = rec.column_index(t, "mean_load_bytes_per_s");
  CHECK(std::get<std::string>(rows[1][cls]) == "leaf_spine");
  // The flow crosses 2 of the 6 directed leaf-spine links; mean load 25 GB/s over the ms.
  CHECK(std::get<double>(rows[1][load]) == Approx(2 * 25e9).epsilon(1e-3));
  CHECK(std::get<double>(rows[1][util]) == Approx(2 * 25e9 / (6 * kPort)).epsilon(1e-3));
}

TEST_CASE("a flow across regions pays the WAN latency and its bandwidth", "[network]") {
  ClusterSpec a = tor_cluster(8, 8, 2);
  a.name = "a";
  a.site = "us-east-1";
  a.wan_uplink_bytes_per_s = kPort;
  ClusterSpec b = a;
  b.name = "b";
  b.site = "eu-west-1";
  // One 10 GB/s WAN link of 38 ms: the bottleneck and almost all of the latency.
  Fabric f(NetworkSpec{{a, b}, {{"us-east-1", ""}, {"eu-west-1", ""}}, {{"us-east-1", "eu-west-1", 10e9, Duration::ms(38), 1}}});
  SimTime done;
  f.flows.start(f.topo.endpoint(0, 0), f.topo.endpoint(1, 0), 1e9, [&] { done = f.engine.now(); });
  f.run();
  // 6 fabric links of 500 ns (access, leaf-spine, spine-router on each side) + 38 ms + 1 GB at 10 GB/s.
  CHECK(done.ticks() == 6 * 500 + 38'000'000 + 100'000'000);
}

TEST_CASE("the same flows give the same event sequence", "[network]") {
  auto run = [] {
    Fabric f(tor_cluster(128, 8, 3));
    Rng rng(11);
    for (int i = 0; i < 500; ++i) {
      const auto s = static_cast<uint32_t>(rng.uniform_int(uint64_t{128}));
      const auto d = static_cast<uint32_t>(rng.uniform_int(uint64_t{128}));
      f.flows.start(f.gpu(s), f.gpu(d), 1e5 * static_cast<double>(1 + rng.uniform_int(uint64_t{100})), {});
    }
    f.run();
    return std::pair{f.engine.fingerprint(), f.engine.now()};
  };
  const auto first = run();
  const auto second = run();
  CHECK(first.first == second.first);
  CHECK(first.second == second.second);
  CHECK(first.second > SimTime::zero());
}

TEST_CASE("skipping the solve after departures that keep every bottleneck changes nothing", "[network]") {
  // The same workload with the check on and off (every batch solved): the same completion times to
  // the nanosecond and the same event sequence. Equal sizes make most completion instants skippable;
  // mixed sizes make many departures free capacity that others take, which must be solved.
  for (const bool mixed : {false, true}) {
    auto run = [mixed](bool skip) {
      const Topology topo = build_topology(NetworkSpec{{tor_cluster(128, 8, 3)}, {}, {}});
      Router router(topo);
      Engine engine;
      FlowModel flows(topo, router, engine, nullptr, FlowModelOptions{.skip_unchanged = skip});
      Rng rng(5);
      std::vector<int64_t> done;
      for (int i = 0; i < 400; ++i) {
        const auto s = static_cast<uint32_t>(rng.uniform_int(uint64_t{128}));
        auto d = static_cast<uint32_t>(rng.uniform_int(uint64_t{127}));
        if (d >= s) ++d;
        const double bytes = mixed ? 1e5 * static_cast<double>(1 + rng.uniform_int(uint64_t{40})) : 2e6;
        flows.start(topo.endpoint(0, s), topo.endpoint(0, d), bytes, [&] { done.push_back(engine.now().ticks()); });
      }
      engine.run(SimTime::max());
      return std::tuple{done, engine.fingerprint(), flows.stats()};
    };
    const auto [on, on_fp, on_stats] = run(true);
    const auto [off, off_fp, off_stats] = run(false);
    REQUIRE(on.size() == 400);
    CHECK(on == off);
    CHECK(on_fp == off_fp);
    CHECK(off_stats.solves_skipped == 0);
    CHECK(on_stats.solves_skipped > 0);
    CHECK(on_stats.solves < off_stats.solves);
  }
}

TEST_CASE("a departure that frees a bottleneck is solved, not skipped", "[network]") {
  // Link 1 carries A, B, D (1/3 each); C shares link 2 with A and gets 2/3. B leaves: A loses its
  // bottleneck, so the batch must be solved and A and C meet at 1/2 (the same case as above, driven by
  // B's completion instead of an abort).
  Fabric f(one_spine());
  const FlowId a = f.flows.start(f.gpu(0), f.gpu(3), 1e9, {});
  f.flows.start(f.gpu(1), f.gpu(6), 1e6, {});  // B: small, finishes first
  const FlowId d = f.flows.start(f.gpu(2), f.gpu(7), 1e9, {});
  const FlowId c = f.flows.start(f.gpu(8), f.gpu(4), 1e9, {});
  f.engine.run(SimTime::zero() + Duration::us(200));
  f.flows.flush();
  CHECK(f.flows.rate(a) == Approx(kPort / 2));
  CHECK(f.flows.rate(d) == Approx(kPort / 2));
  CHECK(f.flows.rate(c) == Approx(kPort / 2));
  CHECK(f.flows.stats().solves_skipped == 0);
}

TEST_CASE("links table: two flows sharing one uplink fill it, and only loaded links are listed", "[network]") {
  const Topology topo = build_topology(NetworkSpec{{one_spine()}, {}, {}});
  Router router(topo);
  Engine engine;
  Recorder rec;
  FlowModel flows(topo, router, engine, &rec, FlowModelOptions{.sample_interval = Duration::ms(1)});
  // GPUs 0 and 1 (leaf 0) send to 3 and 4 (leaf 1): both cross leaf0 -> spine and spine -> leaf1 and
  // get 25 GB/s each, for longer than the sample (100 MB at 25 GB/s = 4 ms).
  flows.start(topo.endpoint(0, 0), topo.endpoint(0, 3), 100e6, {});
  flows.start(topo.endpoint(0, 1), topo.endpoint(0, 4), 100e6, {});
  engine.run(SimTime::zero() + Duration::ms(1));
  const TableId t = *rec.find_table("links");
  const auto& rows = rec.rows(t);
  const size_t scope = rec.column_index(t, "scope"), cls = rec.column_index(t, "class"), link = rec.column_index(t, "link");
  const size_t rank = rec.column_index(t, "rank"), util = rec.column_index(t, "utilization_fraction");
  std::map<std::string, double> by_link;
  std::map<std::string, double> by_class;
  std::vector<int64_t> ranks;
  for (const auto& r : rows) {
    if (std::get<std::string>(r[scope]) == "class") {
      by_class[std::get<std::string>(r[cls])] = std::get<double>(r[util]);
    } else {
      by_link[std::get<std::string>(r[link])] = std::get<double>(r[util]);
      ranks.push_back(std::get<int64_t>(r[rank]));
    }
  }
  // The two shared uplink directions are full; the four access links carry one flow at half a port;
  // no other link has load, so none is listed (utilization 0 everywhere else).
  REQUIRE(by_link.size() == 6);
  CHECK(by_link.at("c/p0/leaf0->c/p0/spine0") == Approx(1.0).epsilon(1e-9));
  CHECK(by_link.at("c/p0/spine0->c/p0/leaf1") == Approx(1.0).epsilon(1e-9));
  CHECK(by_link.at("c/gpu0->c/p0/leaf0") == Approx(0.5).epsilon(1e-9));
  CHECK(by_link.at("c/p0/leaf1->c/gpu4") == Approx(0.5).epsilon(1e-9));
  CHECK(ranks == std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  CHECK(std::get<double>(rows[2][util]) == Approx(1.0));  // after the two class rows: hottest first
  // Classes: 2 of the 6 directed leaf-spine links full; 4 of the 18 access directions at one half.
  CHECK(by_class.at("leaf_spine") == Approx(2.0 / 6).epsilon(1e-9));
  CHECK(by_class.at("access") == Approx(4 * 0.5 / 18).epsilon(1e-9));
}

TEST_CASE("links table: at most top_links links per sample, external load counted", "[network]") {
  const Topology topo = build_topology(NetworkSpec{{one_spine()}, {}, {}});
  Router router(topo);
  Engine engine;
  Recorder rec;
  FlowModel flows(topo, router, engine, &rec, FlowModelOptions{.sample_interval = Duration::ms(1), .top_links = 2});
  flows.start(topo.endpoint(0, 0), topo.endpoint(0, 3), 100e6, {});
  flows.start(topo.endpoint(0, 1), topo.endpoint(0, 4), 100e6, {});
  // A ledger-style average load of 40 GB/s on one idle access link, from 0.5 ms: 0.4 of the sample.
  const EdgeIndex quiet = [&] {
    for (EdgeIndex e = 0; e < topo.directed_edges(); ++e)
      if (topo.vertex(topo.edge(e).source).name == "c/gpu8") return e;
    return EdgeIndex{0};
  }();
  engine.schedule_at(SimTime::zero() + Duration::us(500), Phase::Completion, [&] { flows.add_external_load(quiet, 40e9); });
  engine.run(SimTime::zero() + Duration::ms(2));
  const TableId t = *rec.find_table("links");
  const size_t scope = rec.column_index(t, "scope"), link = rec.column_index(t, "link"), time = rec.column_index(t, "time_ns");
  const size_t util = rec.column_index(t, "utilization_fraction");
  const size_t cls = rec.column_index(t, "class");
  std::map<int64_t, int> links_per_sample;
  std::map<std::pair<int64_t, std::string>, double> u, access;
  for (const auto& r : rec.rows(t)) {
    const int64_t at = std::get<int64_t>(r[time]);
    if (std::get<std::string>(r[scope]) == "link") {
      ++links_per_sample[at];
      u[{at, std::get<std::string>(r[link])}] = std::get<double>(r[util]);
    } else if (std::get<std::string>(r[cls]) == "access") {
      access[{at, "access"}] = std::get<double>(r[util]);
    }
  }
  CHECK(links_per_sample == std::map<int64_t, int>{{1'000'000, 2}, {2'000'000, 2}});
  CHECK(u.count({1'000'000, "c/gpu8->c/p0/leaf2"}) == 0);  // 0.4: below the two full uplinks
  // The access class counts it: four directions at 0.5 plus 0.4, then 0.8 of the second ms (of 18).
  CHECK(access.at({1'000'000, "access"}) == Approx((4 * 0.5 + 0.4) / 18).epsilon(1e-9));
  CHECK(access.at({2'000'000, "access"}) == Approx((4 * 0.5 + 0.8) / 18).epsilon(1e-9));
  flows.flush();
  CHECK(flows.load(quiet) == 0);  // not a flow: no share taken in max-min
}

namespace {

// Only links whose load changed in an interval are integrated at a sample; the unchanged ones come
// from buckets by load / capacity. Runs `n_changes` external loads appearing, moving and leaving at
// random instants over `samples` 1 ms samples (with a capacity cut and a failed link), checks every
// sample's hottest links against per-link integrals kept here, and returns how many rows it listed.
// `tied`: loads from three values only (many equal utilizations), and some tiny ones (far octaves).
size_t check_hottest_links(const ClusterSpec& cluster, int n_changes, int samples, uint32_t top, bool tied) {
  const Topology topo = build_topology(NetworkSpec{{cluster}, {}, {}});
  Router router(topo);
  Engine engine;
  Recorder rec;
  FlowModel flows(topo, router, engine, &rec, FlowModelOptions{.sample_interval = Duration::ms(1), .top_links = top});
  const EdgeIndex E = topo.directed_edges();
  const int64_t end_us = int64_t{samples} * 1000;
  Rng rng(1414);
  struct Change {
    int64_t us;
    double load;  // the link's load from then on
  };
  std::vector<std::vector<Change>> changes(E);  // per link, in time order
  std::vector<EdgeIndex> changed;               // in the order made
  std::vector<double> now_load(E, 0.0);
  std::vector<int64_t> times;
  for (int k = 0; k < n_changes; ++k) times.push_back(rng.uniform_int(int64_t{1}, end_us - 1));
  std::sort(times.begin(), times.end());
  for (int64_t t : times) {
    if (t % 1000 == 0) continue;  // never at a sample instant
    const auto e = static_cast<EdgeIndex>(rng.uniform_int(uint64_t{E}));
    double l = rng.bernoulli(0.2) ? 0.0 : rng.uniform(1e9, 50e9);
    if (tied && l > 0) l = rng.bernoulli(0.1) ? rng.uniform(1e3, 1e6) : 10e9 * static_cast<double>(1 + rng.uniform_int(uint64_t{3}));
    changes[e].push_back({t, l});
    changed.push_back(e);
    const double delta = l - now_load[e];
    now_load[e] = l;
    engine.schedule_at(SimTime::zero() + Duration::us(t), Phase::Completion, [&flows, e, delta] { flows.add_external_load(e, delta); });
  }
  // A capacity cut at 20.5 ms and a failed link from 30.5 ms to 40.5 ms, on links that carry load.
  const uint32_t cut = Router::link_of(changed[3]), failed = Router::link_of(changed[7]);
  engine.schedule_at(SimTime::zero() + Duration::us(20'500), Phase::Completion, [&] { flows.set_link_capacity(cut, 0.5); });
  engine.schedule_at(SimTime::zero() + Duration::us(30'500), Phase::Completion, [&] { flows.set_link_up(failed, false); });
  engine.schedule_at(SimTime::zero() + Duration::us(40'500), Phase::Completion, [&] { flows.set_link_up(failed, true); });
  engine.run(SimTime::zero() + Duration::us(end_us));

  const TableId t = *rec.find_table("links");
  const size_t scope = rec.column_index(t, "scope"), link = rec.column_index(t, "link"), time = rec.column_index(t, "time_ns");
  const size_t util = rec.column_index(t, "utilization_fraction");
  std::map<int64_t, std::vector<std::pair<std::string, double>>> got;
  for (const auto& r : rec.rows(t))
    if (std::get<std::string>(r[scope]) == "link")
      got[std::get<int64_t>(r[time]) / 1'000'000].push_back({std::get<std::string>(r[link]), std::get<double>(r[util])});

  size_t listed = 0;
  std::vector<size_t> next(E, 0);  // per link: its first change after the previous sample
  std::vector<double> load(E, 0.0);
  for (int64_t s = 1; s <= samples; ++s) {
    INFO("sample " << s);
    // Each link's mean load over (s - 1, s] ms from the changes, its capacity and state at s; ties by
    // the lower edge, as the model orders them.
    std::vector<std::tuple<double, EdgeIndex, std::string>> want;
    std::map<std::string, double> mean_of;  // every loaded usable link's utilization
    for (EdgeIndex e = 0; e < E; ++e) {
      double integral = 0;
      int64_t at = (s - 1) * 1000;
      for (; next[e] < changes[e].size() && changes[e][next[e]].us <= s * 1000; ++next[e]) {
        const Change& c = changes[e][next[e]];
        integral += load[e] * static_cast<double>(c.us - at);
        at = c.us;
        load[e] = c.load;
      }
      integral += load[e] * static_cast<double>(s * 1000 - at);
      const double mean = integral / 1000.0;
      const double cap = topo.edge(e).bytes_per_s * (Router::link_of(e) == cut && s > 20 ? 0.5 : 1.0);
      const bool down = Router::link_of(e) == failed && s > 30 && s <= 40;
      if (mean > 1e-3 && !down) {
        const auto& r = topo.edge(e);
        want.emplace_back(-mean / cap, e, topo.vertex(r.source).name + "->" + topo.vertex(r.target).name);
        mean_of[std::get<2>(want.back())] = mean / cap;
      }
    }
    std::sort(want.begin(), want.end());
    const auto& g = got[s];
    REQUIRE(g.size() == std::min<size_t>(want.size(), top));
    std::set<std::string> seen;
    for (size_t i = 0; i < g.size(); ++i) {
      // Rank i is the i-th highest utilization. Which of several equal ones is listed depends on
      // the last bit of the model's integrals (ties go to the lower edge there), so a link tied
      // within 1e-12 with its neighbour is checked by its utilization instead of its name.
      const double u = -std::get<0>(want[i]);
      const bool tie = (i > 0 && std::abs(-std::get<0>(want[i - 1]) - u) <= 1e-12 * u) ||
                       (i + 1 < want.size() && std::abs(-std::get<0>(want[i + 1]) - u) <= 1e-12 * u);
      if (!tie) CHECK(g[i].first == std::get<2>(want[i]));
      REQUIRE(mean_of.count(g[i].first) == 1);
      CHECK(mean_of.at(g[i].first) == Approx(u).epsilon(1e-12));
      CHECK(g[i].second == Approx(u).epsilon(1e-9));
      CHECK(seen.insert(g[i].first).second);
    }
    listed += g.size();
  }
  return listed;
}

}  // namespace

TEST_CASE("links table: the hottest links of each sample are the brute-force ones while loads change sparsely",
          "[network]") {
  CHECK(check_hottest_links(one_spine(), 150, 60, 3, false) > 100);
}

TEST_CASE("links table: the hottest links are the brute-force ones through many changes, tied loads and far octaves",
          "[network]") {
  // 40,000 changes on a 128-GPU two-tier fabric: enough stale entries that the buckets are cleaned
  // several times; loads of three values, so many links tie, and some a million times smaller.
  CHECK(check_hottest_links(tor_cluster(128, 16, 2), 40'000, 120, 16, true) > 1500);
}
