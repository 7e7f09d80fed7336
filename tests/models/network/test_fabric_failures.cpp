// SPDX-License-Identifier: Apache-2.0
// Fabric-internal link failures (models/network/fabric_failures.hpp): which links a spec fails, when,
// and that the router sees them.
#include "models/network/fabric_failures.hpp"
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>

using namespace fleetsim;
using namespace fleetsim::test;

namespace {

LinkFailureSpec fraction_spec(double f, uint64_t seed) {
  LinkFailureSpec s;
  s.fraction = f;
  s.seed = seed;
  return s;
}

std::vector<uint32_t> down_links(const Router& r, const Topology& t) {
  std::vector<uint32_t> out;
  for (uint32_t l = 0; l < t.directed_edges() / 2; ++l)
    if (!r.link_up(l)) out.push_back(l);
  return out;
}

}  // namespace

TEST_CASE("fabric failures: a fraction fails exactly that share of the eligible links, the same ones for a seed",
          "[network][failures]") {
  // k = 8 fat-tree: 32 leaves x 4 uplinks and 32 spines x 4 uplinks (Al-Fares et al. 2008).
  Fabric f(tor_cluster(128, 8, 3));
  const std::vector<uint32_t> eligible = eligible_links(f.topo, fraction_spec(0.1, 1));
  REQUIRE(eligible.size() == 256);
  for (uint32_t l : eligible) {
    const LinkKind k = f.topo.edge(l * 2).kind;
    CHECK((k == LinkKind::LeafSpine || k == LinkKind::SpineCore));
  }
  const auto a = choose_links(eligible, fraction_spec(0.1, 7), 7);
  const auto b = choose_links(eligible, fraction_spec(0.1, 7), 7);
  const auto c = choose_links(eligible, fraction_spec(0.1, 8), 8);
  CHECK(a.size() == 26);  // round(0.1 * 256) = round(25.6)
  CHECK(a == b);
  CHECK(a != c);
  CHECK(std::adjacent_find(a.begin(), a.end()) == a.end());  // distinct
  for (uint32_t l : a) CHECK(std::binary_search(eligible.begin(), eligible.end(), l));

  // Through FabricFailures at 0s: exactly those links are down in the router, before anything runs.
  Fabric g(tor_cluster(128, 8, 3));
  FabricFailures ff(g.topo, g.flows, g.engine, nullptr, {fraction_spec(0.1, 7)}, /*default seed*/ 99);
  ff.start();
  const auto down = down_links(g.router, g.topo);
  CHECK(down.size() == 26);
  CHECK(ff.links_down() == 26);
  CHECK(ff.failures_per_kind()[static_cast<size_t>(LinkKind::LeafSpine)] +
            ff.failures_per_kind()[static_cast<size_t>(LinkKind::SpineCore)] == 26);
  CHECK(ff.eligible_per_kind()[static_cast<size_t>(LinkKind::LeafSpine)] == 128);

  // The same spec without a seed takes the run's: the same run seed gives the same links.
  LinkFailureSpec unseeded;
  unseeded.fraction = 0.1;
  Fabric h1(tor_cluster(128, 8, 3)), h2(tor_cluster(128, 8, 3)), h3(tor_cluster(128, 8, 3));
  FabricFailures f1(h1.topo, h1.flows, h1.engine, nullptr, {unseeded}, 5);
  FabricFailures f2(h2.topo, h2.flows, h2.engine, nullptr, {unseeded}, 5);
  FabricFailures f3(h3.topo, h3.flows, h3.engine, nullptr, {unseeded}, 6);
  f1.start();
  f2.start();
  f3.start();
  CHECK(down_links(h1.router, h1.topo) == down_links(h2.router, h2.topo));
  CHECK(down_links(h1.router, h1.topo) != down_links(h3.router, h3.topo));
}

TEST_CASE("fabric failures: tiers and clusters select the eligible links", "[network][failures]") {
  Fabric f(tor_cluster(128, 8, 3));
  LinkFailureSpec s;
  s.count = 1000;  // more than there are: all of them
  s.kinds = {LinkKind::SpineCore};
  const auto e = eligible_links(f.topo, s);
  CHECK(e.size() == 128);
  CHECK(choose_links(e, s, 1).size() == 128);
  s.cluster = "nope";
  CHECK_THROWS_WITH(eligible_links(f.topo, s), Catch::Contains("no cluster \"nope\""));
}

TEST_CASE("fabric failures: a set fails at its time and comes back after its duration", "[network][failures]") {
  Fabric f(tor_cluster(128, 8, 3));
  LinkFailureSpec s;
  s.count = 10;
  s.at = Duration::hours(1);
  s.duration = Duration::minutes(30);
  FabricFailures ff(f.topo, f.flows, f.engine, nullptr, {s}, 1);
  int changes = 0;
  bool last_repaired = false;
  ff.on_change = [&](bool repaired) {
    ++changes;
    last_repaired = repaired;
  };
  ff.start();
  CHECK(f.router.links_down() == 0);
  f.engine.run(SimTime::zero() + Duration::minutes(61));
  CHECK(f.router.links_down() == 10);
  CHECK(changes == 1);
  CHECK_FALSE(last_repaired);
  f.engine.run(SimTime::zero() + Duration::minutes(91));
  CHECK(f.router.links_down() == 0);
  CHECK(changes == 2);
  CHECK(last_repaired);
}

TEST_CASE("fabric failures: an mtbf process fails links at the renewal rate", "[network][failures]") {
  // Each link alternates Exp(mtbf) up and a fixed `repair` down: a renewal process of mean cycle
  // mtbf + repair, so over T (3,000 h) the 256 links fail about 256 T / (mtbf + repair) times and are down a
  // fraction repair / (mtbf + repair) of the time (renewal-reward theorem).
  Fabric f(tor_cluster(128, 8, 3));
  LinkFailureSpec s;
  s.mtbf = Duration::hours(100);
  s.repair = Duration::hours(10);
  FabricFailures ff(f.topo, f.flows, f.engine, nullptr, {s}, 3);
  double down_integral = 0;
  SimTime last = SimTime::zero();
  uint32_t down = 0;
  ff.on_change = [&](bool) {
    down_integral += double(down) * (f.engine.now() - last).seconds();
    last = f.engine.now();
    down = ff.links_down();
  };
  ff.start();
  const Duration T = Duration::hours(3000);
  f.engine.run(SimTime::zero() + T);
  down_integral += double(down) * (SimTime::zero() + T - last).seconds();
  const double failures = double(ff.failures_per_kind()[2] + ff.failures_per_kind()[3]);
  const double expected = 256.0 * 3000.0 / 110.0;  // 6,982; Poisson-like spread ~ 84
  CHECK(std::abs(failures - expected) < 4 * std::sqrt(expected));
  const double unavailability = down_integral / (256.0 * T.seconds());
  CHECK(unavailability == Approx(10.0 / 110.0).epsilon(0.1));
}

TEST_CASE("fabric failures: WAN links and a cluster's uplinks; failing the only WAN link splits the sites",
          "[network][failures]") {
  ClusterSpec a = tor_cluster(8, 8, 2);
  a.name = "a";
  a.site = "us-east-1";
  a.wan_uplink_bytes_per_s = kPort;
  ClusterSpec b = a;
  b.name = "b";
  b.site = "eu-west-1";
  NetworkSpec spec;
  spec.clusters = {a, b};
  spec.sites = {{"us-east-1", ""}, {"eu-west-1", ""}};
  spec.wan_links = {{"us-east-1", "eu-west-1", 10e9, Duration::ms(38), 1}};
  Fabric f(spec);
  LinkFailureSpec wan;
  wan.kinds = {LinkKind::Wan};
  wan.count = 1000;
  const auto all = eligible_links(f.topo, wan);
  const uint32_t uplinks = f.topo.report().links_per_kind[static_cast<size_t>(LinkKind::Wan)];
  CHECK(all.size() == uplinks);
  wan.cluster = "a";
  const auto of_a = eligible_links(f.topo, wan);
  // Cluster a's uplinks to its router, not b's, not the router-router link.
  CHECK(of_a.size() == (uplinks - 1) / 2);
  // The router-router link alone (in neither cluster): down, the two sites no longer reach each other.
  std::vector<uint32_t> inter;
  std::set_difference(all.begin(), all.end(), of_a.begin(), of_a.end(), std::back_inserter(inter));
  wan.cluster = "b";
  const auto of_b = eligible_links(f.topo, wan);
  std::vector<uint32_t> only;
  std::set_difference(inter.begin(), inter.end(), of_b.begin(), of_b.end(), std::back_inserter(only));
  REQUIRE(only.size() == 1);
  CHECK(f.router.reachable(f.gpu(0), f.topo.endpoint(1, 0)));
  f.flows.set_link_up(only[0], false);
  CHECK_FALSE(f.router.reachable(f.gpu(0), f.topo.endpoint(1, 0)));
}
