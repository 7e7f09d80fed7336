// SPDX-License-Identifier: Apache-2.0
#include "tests/models/network/network_fixtures.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace fleetsim;
using namespace fleetsim::test;

TEST_CASE("k=32 fat-tree has the textbook switch counts and full bisection", "[network]") {
  // Al-Fares et al. 2008: k^3/4 hosts, k^2/2 edge, k^2/2 aggregation, (k/2)^2 core switches.
  const Topology t = build_topology(NetworkSpec{{tor_cluster(8192, 32, 3)}, {}, {}});
  const ClusterReport& r = t.report().clusters[0];
  CHECK(r.switches_per_tier[0] == 512);
  CHECK(r.switches_per_tier[1] == 512);
  CHECK(r.switches_per_tier[2] == 256);
  CHECK(r.pods == 32);
  CHECK(r.bisection_bytes_per_s == Approx(8192 * kPort / 2));
  CHECK(r.oversubscription == Approx(1.0));
  CHECK(t.report().links == 3 * 8192);
  for (int tier = 0; tier < 3; ++tier) CHECK(r.ports_used_per_tier[tier] == r.ports_available_per_tier[tier]);
}

TEST_CASE("oversubscription per tier shapes the fabric", "[network]") {
  // radix 48 at 2:1 at the leaf: 32 down and 16 up.
  const Topology t = build_topology(NetworkSpec{{tor_cluster(1024, 48, 3, 2, 1)}, {}, {}});
  const ClusterReport& r = t.report().clusters[0];
  CHECK(r.switches_per_tier[0] == 32);
  CHECK(r.oversubscription == Approx(2.0));
  CHECK(r.bisection_bytes_per_s == Approx(1024 * kPort / 2 / 2));
  for (int tier = 0; tier < 3; ++tier) CHECK(r.ports_used_per_tier[tier] <= r.ports_available_per_tier[tier]);
}

TEST_CASE("rail-optimized leaves hold one rail of a group of hosts", "[network]") {
  ClusterSpec c;
  c.name = "ro";
  c.gpus = 256;  // 32 hosts of 8
  c.gpus_per_host = 8;
  c.scale_up = {8, 450e9, Duration::ns(250)};
  c.scale_out.attach = Attach::Rail;
  c.scale_out.radix = 32;  // 16 down: 16 hosts per rail group
  const Topology t = build_topology(NetworkSpec{{c}, {}, {}});
  const ClusterReport& r = t.report().clusters[0];
  CHECK(r.switches_per_tier[0] == 16);  // 2 groups x 8 rails
  CHECK(r.switches_per_tier[1] == 8);   // 16 leaves x 16 uplinks over radix-32 spines
  CHECK(r.scale_up_domains == 32);
  // GPU 3 of host 0 and GPU 3 of host 5 share a leaf; GPU 4 of host 0 does not.
  auto leaf_of = [&](uint32_t g) {
    for (auto [it, end] = boost::out_edges(t.endpoint(0, g), t.graph()); it != end; ++it) {
      const auto v = boost::target(*it, t.graph());
      if (t.vertex(static_cast<VertexId>(v)).kind == VertexKind::Leaf) return static_cast<VertexId>(v);
    }
    return VertexId{0};
  };
  CHECK(leaf_of(3) == leaf_of(5 * 8 + 3));
  CHECK(leaf_of(3) != leaf_of(4));
  CHECK(leaf_of(3) != leaf_of(16 * 8 + 3));  // next rail group
}

TEST_CASE("multi-plane fabrics give every GPU one port per plane", "[network]") {
  ClusterSpec c = tor_cluster(64, 16, 2);
  c.scale_out.planes = 4;
  const Topology t = build_topology(NetworkSpec{{c}, {}, {}});
  const ClusterReport& r = t.report().clusters[0];
  CHECK(r.planes == 4);
  CHECK(r.switches_per_tier[0] == 4 * 8);
  CHECK(r.injection_bytes_per_s == Approx(4 * kPort));
  CHECK(boost::out_degree(t.endpoint(0, 0), t.graph()) == 4);
}

TEST_CASE("NVL72 scale-up domains join 72 GPUs through one NVSwitch", "[network]") {
  ClusterSpec c;
  c.name = "nvl";
  c.gpus = 144;
  c.gpus_per_host = 4;
  c.scale_up = {72, 900e9, Duration::ns(250)};
  c.has_scale_out = false;
  const Topology t = build_topology(NetworkSpec{{c}, {}, {}});
  CHECK(t.report().clusters[0].scale_up_domains == 2);
  CHECK(t.nvswitch_of(t.endpoint(0, 0)) == t.nvswitch_of(t.endpoint(0, 71)));
  CHECK(t.nvswitch_of(t.endpoint(0, 0)) != t.nvswitch_of(t.endpoint(0, 72)));
}

TEST_CASE("a radix too small for the size is rejected with what fits", "[network]") {
  auto msg = [](const ClusterSpec& c) {
    try {
      build_topology(NetworkSpec{{c}, {}, {}});
    } catch (const TopologyError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // 2 tiers of radix 16: 16 leaves of 8 = 128 GPUs at most.
  const std::string two = msg(tor_cluster(129, 16, 2));
  CHECK_THAT(two, Catch::Contains("radix 16 is too small for 129 GPUs in 2 tiers"));
  CHECK_THAT(two, Catch::Contains("at most 128 GPUs"));
  // k=8 fat-tree holds 128 hosts.
  CHECK_THAT(msg(tor_cluster(129, 8, 3)), Catch::Contains("radix 8 is too small for 129 GPUs in 3 tiers"));
  CHECK_NOTHROW(build_topology(NetworkSpec{{tor_cluster(128, 8, 3)}, {}, {}}));
  ClusterSpec host = tor_cluster(64, 8, 2);
  host.gpus_per_host = 8;  // a leaf of radix 8 at 1:1 has 4 down ports: no room for a host of 8 GPUs
  CHECK_THAT(msg(host), Catch::Contains("a leaf has 4 down ports and a host needs 8"));
}

TEST_CASE("zero or negative bandwidth is rejected", "[network]") {
  ClusterSpec c = tor_cluster(16, 8, 2);
  c.scale_out.port_bytes_per_s = 0;
  CHECK_THROWS_WITH(build_topology(NetworkSpec{{c}, {}, {}}), Catch::Contains("port bandwidth must be positive, got 0"));
  ClusterSpec d = tor_cluster(16, 8, 2);
  d.gpus_per_host = 8;
  d.scale_out.radix = 32;
  d.scale_up = {8, -1, Duration::ns(1)};
  CHECK_THROWS_WITH(build_topology(NetworkSpec{{d}, {}, {}}), Catch::Contains("scale-up bandwidth must be positive"));
  NetworkSpec w{{}, {{"us-east-1", ""}, {"eu-west-1", ""}}, {{"us-east-1", "eu-west-1", 0, Duration::ms(40), 1}}};
  CHECK_THROWS_WITH(build_topology(w), Catch::Contains("bandwidth must be positive"));
}

TEST_CASE("a WAN link to an unknown region is rejected", "[network]") {
  NetworkSpec w{{}, {{"us-east-1", ""}, {"use1-az4", "us-east-1"}}, {{"us-east-1", "eu-west-9", 1e11, Duration::ms(40), 1}}};
  CHECK_THROWS_WITH(build_topology(w), Catch::Contains("unknown region or zone \"eu-west-9\""));
  NetworkSpec z{{}, {{"use1-az4", "us-east-9"}}, {}};
  CHECK_THROWS_WITH(build_topology(z), Catch::Contains("site \"use1-az4\" belongs to unknown region \"us-east-9\""));
  ClusterSpec c = tor_cluster(16, 8, 2);
  c.site = "mars-1";
  CHECK_THROWS_WITH(build_topology(NetworkSpec{{c}, {{"us-east-1", ""}}, {}}), Catch::Contains("unknown site \"mars-1\""));
}

TEST_CASE("WAN sites join clusters through their routers", "[network]") {
  ClusterSpec a = tor_cluster(8, 8, 2);
  a.name = "a";
  a.site = "us-east-1";
  a.wan_uplink_bytes_per_s = kPort;
  ClusterSpec b = tor_cluster(8, 8, 2);
  b.name = "b";
  b.site = "eu-west-1";
  b.wan_uplink_bytes_per_s = kPort;
  NetworkSpec s{{a, b}, {{"us-east-1", ""}, {"eu-west-1", ""}}, {{"us-east-1", "eu-west-1", 12.5e9, Duration::ms(38), 2}}};
  const Topology t = build_topology(s);
  // Two leaves of 4 uplinks need 2 spines (radix 8, one port kept for the WAN), 2 links each way.
  CHECK(t.report().clusters[0].switches_per_tier[1] == 2);
  CHECK(t.report().links_per_kind[static_cast<int>(LinkKind::Wan)] == 2 + 2 + 2);
  Router r(t);
  CHECK(r.reachable(t.endpoint(0, 0), t.endpoint(1, 0)));
  // 4 leaf uplinks x 2 parallel WAN links x 2 spines x 2 parallel spine-to-leaf links.
  CHECK(r.count_paths(t.endpoint(0, 0), t.endpoint(1, 0)) == 4 * 2 * 2 * 2);
}

TEST_CASE("storage endpoint: one link per top-tier switch, its bandwidth spread evenly, one port each", "[network][topology]") {
  // 2 tiers, radix 8: 8 leaves of 4 GPUs need 8 spine ports each, so with storage (one more port per
  // spine) 32 GPUs no longer fit and 28 do. Storage of 200 GB/s over the 4 spines: 50 GB/s per link.
  ClusterSpec c;
  c.name = "c";
  c.gpus = 28;
  c.gpus_per_host = 1;
  c.scale_up.gpus_per_domain = 1;
  c.scale_out.attach = Attach::Tor;
  c.scale_out.tiers = 2;
  c.scale_out.radix = 8;
  c.scale_out.port_bytes_per_s = 50e9;
  const Topology plain = build_topology(NetworkSpec{{c}, {}, {}});
  CHECK_FALSE(plain.storage(0));
  c.storage_bytes_per_s = 200e9;
  const Topology t = build_topology(NetworkSpec{{c}, {}, {}});
  REQUIRE(t.storage(0));
  const VertexId st = *t.storage(0);
  CHECK(t.vertex(st).kind == VertexKind::Storage);
  CHECK(t.vertex(st).name == "c/storage");
  // Everything else is built as without storage: same vertices and edges first, storage appended.
  CHECK(t.vertices() == plain.vertices() + 1);
  uint32_t links = 0;
  for (EdgeIndex e = plain.directed_edges(); e < t.directed_edges(); e += 2) {
    CHECK(t.edge(e).target == st);
    CHECK(t.vertex(t.edge(e).source).kind == VertexKind::Spine);
    CHECK(t.edge(e).bytes_per_s == Approx(50e9));
    ++links;
  }
  CHECK(links == 4);
  for (EdgeIndex e = 0; e < plain.directed_edges(); ++e) CHECK(t.edge(e).source == plain.edge(e).source);
  c.gpus = 32;
  CHECK_THROWS_WITH(build_topology(NetworkSpec{{c}, {}, {}}),
                    Catch::Contains("a spine has 7 ports besides its storage link"));
}

TEST_CASE("check_topology rejects what build_topology rejects, with the same message, and builds nothing", "[network]") {
  // The scenario loader checks each cluster with check_topology: it must throw exactly when the build
  // would, with the build's words (they land on the cluster's JSON pointer).
  const auto outcome = [](auto&& run) {
    try {
      run();
    } catch (const TopologyError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::vector<ClusterSpec> specs = {tor_cluster(129, 16, 2), tor_cluster(129, 8, 3), tor_cluster(128, 8, 3),
                                    tor_cluster(16, 8, 2, 9) /* no up port left */,
                                    tor_cluster(64, 8, 3, 3, 0.5) /* spine oversubscription below 1 */};
  ClusterSpec host = tor_cluster(64, 8, 2);
  host.gpus_per_host = 8;
  specs.push_back(host);
  ClusterSpec rail = tor_cluster(512, 16, 3);
  rail.gpus_per_host = 8;
  rail.scale_out.attach = Attach::Rail;
  rail.scale_out.hosts_per_rail_group = 16;  // more than a leaf's 8 down ports
  specs.push_back(rail);
  ClusterSpec zero = tor_cluster(16, 8, 2);
  zero.scale_out.port_bytes_per_s = 0;
  specs.push_back(zero);
  int errors = 0;
  for (const ClusterSpec& c : specs) {
    const NetworkSpec n{{c}, {}, {}};
    const std::string built = outcome([&] { build_topology(n); });
    const std::string checked = outcome([&] { check_topology(n); });
    INFO(built);
    CHECK(checked == built);
    errors += built != "no error";
  }
  CHECK(errors == 7);  // every spec above but the k=8 fat-tree of 128 GPUs
}
