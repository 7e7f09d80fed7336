// SPDX-License-Identifier: Apache-2.0
// Routing policies (models/network/routing_policy.hpp): each against a case worked out by hand.
#include "models/network/fabric_load.hpp"
#include "models/network/routing_policy.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

// Four leaves of two single-GPU hosts under two spines (radix 4, 1:1: 2 down, 2 up per leaf, one link
// to each spine). GPUs 0-1 on leaf 0, 2-3 on leaf 1; every link 50 GB/s. A flow from leaf 0 to leaf 1
// has two equal-cost paths, one per spine.
ClusterSpec two_spines() { return tor_cluster(8, 4, 2); }

// Two leaves of four single-GPU hosts at 2:1 (radix 6: 4 down, 2 up) under one spine, which takes both
// uplinks of each leaf as parallel links: 4 GPUs share 2 uplinks of 50 GB/s, and a flow from leaf 0 to
// leaf 1 has 2 x 2 equal-cost paths.
ClusterSpec oversubscribed() { return tor_cluster(8, 6, 2, 2); }

// The spine a leaf-to-leaf path crosses (its second hop's far end).
std::string spine_of(const Topology& t, const std::vector<EdgeIndex>& path) {
  REQUIRE(path.size() == 4);
  return t.vertex(t.edge(path[1]).target).name;
}

// A key whose ECMP route from src to dst crosses `spine` (searched, as a user steering ECMP must).
uint64_t key_through(Router& r, VertexId src, VertexId dst, const std::string& spine, uint64_t from = 1) {
  std::vector<EdgeIndex> p;
  for (uint64_t k = from; k < from + 1000; ++k) {
    REQUIRE(r.route(src, dst, k, p));
    if (spine_of(r.topology(), p) == spine) return k;
  }
  FAIL("no key found");
  return 0;
}

}  // namespace

TEST_CASE("routing policies: names", "[network][routing]") {
  CHECK(routing_policy_name(RoutingPolicy::Ecmp) == "ecmp");
  CHECK(routing_policy_name(RoutingPolicy::Pinned) == "pinned");
  CHECK(routing_policy_name(RoutingPolicy::Spray) == "spray");
  CHECK(routing_policy_name(RoutingPolicy::Adaptive) == "adaptive");
}

TEST_CASE("adaptive: two flows that collide under ECMP take different spines", "[network][routing]") {
  // Under ECMP, keys a and b both hash gpu0->gpu2 and gpu1->gpu3 onto spine 0: the two flows share
  // leaf0 -> spine0 and spine0 -> leaf1 and get 25 GB/s each. Adaptive puts the second on the spine
  // nobody uses (fair share 50 GB/s there against 25 on the first), so both get the full 50.
  Fabric ecmp(two_spines());
  std::vector<EdgeIndex> p;
  REQUIRE(ecmp.router.route(ecmp.gpu(0), ecmp.gpu(2), 1, p));
  const std::string first_spine = spine_of(ecmp.topo, p);
  const uint64_t a = 1;
  const uint64_t b = key_through(ecmp.router, ecmp.gpu(1), ecmp.gpu(3), first_spine);
  const FlowId ea = ecmp.flows.start(ecmp.gpu(0), ecmp.gpu(2), 1e9, {}, a);
  const FlowId eb = ecmp.flows.start(ecmp.gpu(1), ecmp.gpu(3), 1e9, {}, b);
  ecmp.flows.flush();
  CHECK(spine_of(ecmp.topo, ecmp.flows.path(ea)) == spine_of(ecmp.topo, ecmp.flows.path(eb)));
  CHECK(ecmp.flows.rate(ea) == Approx(kPort / 2));
  CHECK(ecmp.flows.rate(eb) == Approx(kPort / 2));

  Fabric ad(two_spines());
  ad.router.set_policy(0, RoutingPolicy::Adaptive);
  const FlowId fa = ad.flows.start(ad.gpu(0), ad.gpu(2), 1e9, {}, a);
  const FlowId fb = ad.flows.start(ad.gpu(1), ad.gpu(3), 1e9, {}, b);
  ad.flows.flush();
  // The first flow meets an idle fabric: both spines tie and the hash picks, as ECMP does.
  CHECK(ad.flows.path(fa) == ecmp.flows.path(ea));
  CHECK(spine_of(ad.topo, ad.flows.path(fa)) != spine_of(ad.topo, ad.flows.path(fb)));
  CHECK(ad.flows.rate(fa) == Approx(kPort));
  CHECK(ad.flows.rate(fb) == Approx(kPort));
  // Deterministic: the same starts give the same paths.
  Fabric again(two_spines());
  again.router.set_policy(0, RoutingPolicy::Adaptive);
  const FlowId ga = again.flows.start(again.gpu(0), again.gpu(2), 1e9, {}, a);
  const FlowId gb = again.flows.start(again.gpu(1), again.gpu(3), 1e9, {}, b);
  CHECK(again.flows.path(ga) == ad.flows.path(fa));
  CHECK(again.flows.path(gb) == ad.flows.path(fb));
}

TEST_CASE("adaptive: the flows costing routes a step's transfers onto the least loaded spines", "[network][routing]") {
  // Two concurrent point-to-point transfers leaf 0 -> leaf 1 of 1 GB: with adaptive they never share a
  // spine, so the step takes 1 GB / 50 GB/s = 20 ms plus latency and alpha, whatever the hash does.
  Fabric ad(two_spines());
  ad.router.set_policy(0, RoutingPolicy::Adaptive);
  const std::vector<std::vector<VertexId>> pairs{{ad.gpu(0), ad.gpu(2)}, {ad.gpu(1), ad.gpu(3)}};
  CollectiveSpec s{.op = CollectiveOp::PointToPoint, .bytes = 1e9};
  for (uint64_t base = 0; base < 8; ++base) {
    s.key_base = base;
    const CollectiveCost c = estimate_concurrent(ad.router, ad.capacities(), pairs, s);
    CHECK(c.bottleneck_bytes_per_s == Approx(kPort));
  }
  // Under ECMP some key bases collide (the rate halves): the case adaptive removes.
  Fabric ecmp(two_spines());
  int collided = 0;
  for (uint64_t base = 0; base < 8; ++base) {
    s.key_base = base;
    collided += estimate_concurrent(ecmp.router, ecmp.capacities(), pairs, s).bottleneck_bytes_per_s < kPort * 0.75;
  }
  CHECK(collided > 0);
}

TEST_CASE("spray: equal split over the spines gives the analytic max-min rate", "[network][routing]") {
  // Four flows from the four GPUs of leaf 0 to the four of leaf 1 at 2:1. Sprayed, each puts half its
  // rate on each of the 2 uplinks: 4 x r/2 = 50 GB/s per uplink, r = 25 GB/s, for any hash.
  Fabric f(oversubscribed());
  f.router.set_policy(0, RoutingPolicy::Spray);
  std::vector<FlowId> ids;
  for (uint32_t i = 0; i < 4; ++i) ids.push_back(f.flows.start(f.gpu(i), f.gpu(4 + i), 1e9, {}, 1000 + i));
  f.flows.flush();
  for (FlowId id : ids) {
    CHECK(f.flows.rate(id) == Approx(2 * kPort / 4));
    // The DAG: access up, 2 uplinks, 2 downlinks, access down; the uplinks carry half each.
    REQUIRE(f.flows.path(id).size() == 6);
    std::multiset<double> fr(f.flows.fractions(id).begin(), f.flows.fractions(id).end());
    CHECK(fr.count(1.0) == 2);
    CHECK(fr.count(0.5) == 4);
  }
  // Every uplink carries exactly its capacity.
  for (EdgeIndex e = 0; e < f.topo.directed_edges(); ++e)
    if (f.topo.edge(e).kind == LinkKind::LeafSpine && f.flows.flows_on(e) > 0) CHECK(f.flows.load(e) == Approx(kPort));
  // The fluid drains at that rate: 1 GB at 25 GB/s, plus the path latency (every path has 4 links).
  std::vector<EdgeIndex> one;
  REQUIRE(f.router.route(f.gpu(0), f.gpu(4), 1, one));
  Duration lat;
  for (EdgeIndex e : one) lat += f.topo.edge(e).latency;
  f.run();
  CHECK(f.engine.now().since_epoch().seconds() == Approx(1e9 / (kPort / 2) + lat.seconds()).epsilon(1e-7));
}

TEST_CASE("spray: a degraded spine link holds the whole sprayed flow (weighted max-min)", "[network][routing]") {
  // One flow gpu0 -> gpu2 sprayed over two spines; the link leaf0 -> one spine is cut to 1/4 (12.5 GB/s).
  // Half the flow crosses it, so r / 2 <= 12.5 GB/s: r = 25 GB/s (ECMP would give 50 or 12.5).
  Fabric f(two_spines());
  f.router.set_policy(0, RoutingPolicy::Spray);
  std::vector<EdgeIndex> dag;
  std::vector<double> frac;
  REQUIRE(f.router.spray(f.gpu(0), f.gpu(2), dag, frac));
  REQUIRE(dag.size() == 6);
  CHECK(f.router.count_paths(f.gpu(0), f.gpu(2)) == 2);
  EdgeIndex up = UINT32_MAX;
  for (EdgeIndex e : dag)
    if (f.topo.edge(e).kind == LinkKind::LeafSpine) {
      up = e;
      break;
    }
  REQUIRE(up != UINT32_MAX);
  f.flows.set_link_capacity(Router::link_of(up), 0.25);
  const FlowId id = f.flows.start(f.gpu(0), f.gpu(2), 1e9, {});
  f.flows.flush();
  CHECK(f.flows.rate(id) == Approx(kPort / 2));
  // The aggregate costing's solver gives the same rate.
  const std::vector<std::vector<VertexId>> pair{{f.gpu(0), f.gpu(2)}};
  const CollectiveCost c =
      estimate_concurrent(f.router, f.capacities(), pair, CollectiveSpec{.op = CollectiveOp::PointToPoint, .bytes = 1e9});
  CHECK(c.bottleneck_bytes_per_s == Approx(kPort / 2));
}

TEST_CASE("spray: the ledger spreads a stream's load evenly over the spines", "[network][routing]") {
  Fabric f(two_spines());
  f.router.set_policy(0, RoutingPolicy::Spray);
  FabricLoad ledger(f.topo, f.router);
  const ConsumerId c = ledger.add_consumer("kv");
  const std::vector<Stream> s{{.src = f.gpu(0), .dst = f.gpu(2), .bytes_per_s = 40e9, .flows = 1}};
  ledger.set_streams(c, s);
  int uplinks = 0;
  for (EdgeIndex e = 0; e < f.topo.directed_edges(); ++e)
    if (f.topo.edge(e).kind == LinkKind::LeafSpine && ledger.load(e) > 0) {
      CHECK(ledger.load(e) == Approx(20e9));
      ++uplinks;
    }
  CHECK(uplinks == 4);  // 2 up, 2 down
}

TEST_CASE("ecmp: a fabric whose policy is ecmp routes exactly as before", "[network][routing]") {
  // set_policy(ecmp) changes nothing: same paths and rates as a fresh router for 40 random-ish flows.
  Fabric a(oversubscribed()), b(oversubscribed());
  b.router.set_policy(0, RoutingPolicy::Ecmp);
  std::vector<FlowId> fa, fb;
  for (uint32_t i = 0; i < 40; ++i) {
    fa.push_back(a.flows.start(a.gpu(i % 8), a.gpu((i * 3 + 1) % 8), 1e8 * (i + 1), {}, 77 + i));
    fb.push_back(b.flows.start(b.gpu(i % 8), b.gpu((i * 3 + 1) % 8), 1e8 * (i + 1), {}, 77 + i));
  }
  a.flows.flush();
  b.flows.flush();
  for (size_t i = 0; i < fa.size(); ++i) {
    CHECK(a.flows.path(fa[i]) == b.flows.path(fb[i]));
    CHECK(a.flows.rate(fa[i]) == b.flows.rate(fb[i]));  // to the bit
  }
}

TEST_CASE("pinned: a pinned route is exactly the path taken, others fall back to ECMP", "[network][routing]") {
  Fabric f(two_spines());
  std::vector<EdgeIndex> p;
  REQUIRE(f.router.route(f.gpu(0), f.gpu(2), 5, p));
  const std::string ecmp_spine = spine_of(f.topo, p);
  // The other spine, by name.
  std::string other;
  for (VertexId v = 0; v < f.topo.vertices(); ++v)
    if (f.topo.vertex(v).kind == VertexKind::Spine && f.topo.vertex(v).name != ecmp_spine) other = f.topo.vertex(v).name;
  REQUIRE(!other.empty());
  const std::string leaf0 = f.topo.vertex(f.topo.edge(p[0]).target).name;
  const std::string leaf1 = f.topo.vertex(f.topo.edge(p[2]).target).name;
  const std::string g0 = f.topo.vertex(f.gpu(0)).name, g2 = f.topo.vertex(f.gpu(2)).name;
  const std::string text = "# pinned through the spine ECMP does not take\n" + g0 + " " + leaf0 + " " + other + " " +
                           leaf1 + " " + g2 + "\n\nflow=9 " + g0 + "  " + leaf0 + "\t" + ecmp_spine + " " + leaf1 + " " +
                           g2 + "   # one flow the other way\n";
  const auto routes = parse_pinned_routes(text);
  REQUIRE(routes.size() == 2);
  CHECK(routes[0].line == 2);
  CHECK(routes[1].line == 4);
  CHECK(routes[1].key == 9u);
  const auto resolved = resolve_pinned_routes(f.topo, routes);
  f.router.set_policy(0, RoutingPolicy::Pinned);
  for (const auto& r : resolved) f.router.pin(r);

  const FlowId pinned = f.flows.start(f.gpu(0), f.gpu(2), 1e9, {}, 5);
  const FlowId by_key = f.flows.start(f.gpu(0), f.gpu(2), 1e9, {}, 9);
  const FlowId other_pair = f.flows.start(f.gpu(1), f.gpu(3), 1e9, {}, 5);
  f.flows.flush();
  CHECK(f.flows.path(pinned) == resolved[0].path);
  CHECK(spine_of(f.topo, f.flows.path(pinned)) == other);
  CHECK(f.flows.path(by_key) == resolved[1].path);
  std::vector<EdgeIndex> ecmp;
  Router plain(f.topo);
  REQUIRE(plain.route(f.gpu(1), f.gpu(3), 5, ecmp));
  CHECK(f.flows.path(other_pair) == ecmp);
  CHECK(f.router.pinned_hits() >= 2);

  // The pinned spine's uplink fails: the pair falls back to ECMP over what is left.
  f.flows.set_link_up(Router::link_of(resolved[0].path[1]), false);
  f.flows.flush();
  CHECK(f.flows.active(pinned));
  CHECK(spine_of(f.topo, f.flows.path(pinned)) == ecmp_spine);
}

TEST_CASE("pinned: routes file errors name the line and the element", "[network][routing]") {
  Fabric f(two_spines());
  const std::string g0 = f.topo.vertex(f.gpu(0)).name, g2 = f.topo.vertex(f.gpu(2)).name;
  std::vector<EdgeIndex> p;
  REQUIRE(f.router.route(f.gpu(0), f.gpu(2), 1, p));
  const std::string leaf0 = f.topo.vertex(f.topo.edge(p[0]).target).name;
  const std::string spine = spine_of(f.topo, p);
  const std::string leaf1 = f.topo.vertex(f.topo.edge(p[2]).target).name;
  auto parse_error = [](const std::string& t) {
    try {
      parse_pinned_routes(t);
    } catch (const RoutesFileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  auto resolve_error = [&](const std::string& t) {
    try {
      resolve_pinned_routes(f.topo, parse_pinned_routes(t));
    } catch (const RoutesFileError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(parse_error("\n" + g0 + "\n") == "line 2, element 1 \"" + g0 + "\": a route needs at least a source and a "
                                             "destination (vertex names separated by blanks)");
  CHECK_THAT(parse_error("flow=x " + g0 + " " + g2), Catch::StartsWith("line 1, element 1 \"flow=x\": expected"));
  CHECK_THAT(parse_error(g0 + " " + leaf0 + " " + g0), Catch::StartsWith("line 1, element 3 \"" + g0 + "\": the route visits"));
  CHECK(resolve_error(g0 + " " + leaf0 + " ghost " + leaf1 + " " + g2) ==
        "line 1, element 3 \"ghost\": no vertex of this name in the fabric");
  CHECK(resolve_error("# x\n" + g0 + " " + leaf0 + " " + leaf1 + " " + g2) ==
        "line 2, element 3 \"" + leaf1 + "\": no link from \"" + leaf0 + "\" to this vertex");
  CHECK_THAT(resolve_error(leaf0 + " " + spine + " " + leaf1 + " " + g2),
             Catch::StartsWith("line 1, element 1 \"" + leaf0 + "\": a route starts at an endpoint"));
  const std::string route = g0 + " " + leaf0 + " " + spine + " " + leaf1 + " " + g2 + "\n";
  CHECK(resolve_error(route + route) == "line 2, element 1 \"" + g0 + "\": the pair from \"" + g0 + "\" to \"" + g2 +
                                           "\" is already pinned on line 1");
  CHECK(resolve_error(route + "flow=3 " + route) == "no error");  // a flow's pin beside its pair's
}
