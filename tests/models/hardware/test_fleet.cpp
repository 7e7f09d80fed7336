// SPDX-License-Identifier: Apache-2.0
#include "models/hardware/fleet.hpp"
#include "sim/rng.hpp"
#include "tests/models/hardware/fleet_fixtures.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace fleetsim;
using fleetsim::test::two_region_spec;

namespace {

// Brute force: usable GPUs of a region by walking every GPU and its ancestors.
uint64_t scan_usable(const Fleet& f, RegionId r) {
  uint64_t n = 0;
  const IndexRange g = f.range(r, Level::Gpu);
  for (uint32_t i = g.begin; i < g.end; ++i) n += f.usable(ref(GpuId{i})) ? 1 : 0;
  return n;
}

// Brute force: components of a level in a region reporting health h.
uint64_t scan_count(const Fleet& f, RegionId r, Level l, Health h) {
  uint64_t n = 0;
  const IndexRange c = f.range(r, l);
  for (uint32_t i = c.begin; i < c.end; ++i) n += f.health({l, i}) == h ? 1 : 0;
  return n;
}

uint64_t counted(const Fleet& f, RegionId r, Level l, Health h) {
  uint64_t n = 0;
  for (uint32_t a = 0; a < f.accelerators().size(); ++a) n += f.count(r, a, l, h);
  return n;
}

void check_consistent(const Fleet& f) {
  for (uint32_t r = 0; r < f.regions(); ++r) {
    const RegionId rid{r};
    REQUIRE(f.usable_gpus(rid) == scan_usable(f, rid));
    for (Level l : {Level::Datacenter, Level::Rack, Level::Node, Level::Gpu})
      for (int h = 0; h < kHealthStates; ++h)
        REQUIRE(counted(f, rid, l, static_cast<Health>(h)) == scan_count(f, rid, l, static_cast<Health>(h)));
  }
}

}  // namespace

TEST_CASE("fleet: build lays out contiguous ranges per region", "[fleet]") {
  const Fleet f = Fleet::build(two_region_spec());
  CHECK(f.regions() == 2);
  CHECK(f.count(Level::Zone) == 3);
  CHECK(f.count(Level::Datacenter) == 4);
  CHECK(f.gpus() == 312);
  CHECK(f.nodes() == 10 + 36 + 5 + 6);
  CHECK(f.racks() == 5 + 2 + 3 + 3);
  const IndexRange east = f.range(RegionId{0}, Level::Gpu);
  CHECK(east.begin == 0);
  CHECK(east.end == 80 + 144 + 40);
  CHECK(f.range(RegionId{1}, Level::Gpu).size() == 48);
  CHECK(f.usable_gpus(RegionId{0}) == 264);
  CHECK(f.usable_gpus(RegionId{1}) == 48);
  CHECK(f.accelerators() == std::vector<std::string>{"H100", "GB200"});
  CHECK(f.usable_gpus(RegionId{0}, 1) == 144);
}

TEST_CASE("fleet: path names and find round-trip at every level", "[fleet]") {
  const Fleet f = Fleet::build(two_region_spec());
  CHECK(f.path(ref(RegionId{1})) == "us-west-2");
  CHECK(f.path(ref(ZoneId{1})) == "us-east-1/use1-az2");
  CHECK(f.path(ref(GpuId{0})) == "us-east-1/use1-az1/dc1/rack0/node0/gpu0");
  CHECK(f.path(ref(GpuId{8 * 3 + 5})) == "us-east-1/use1-az1/dc1/rack1/node1/gpu5");
  // dc2 is NVL72: node 20 of the fleet is the 11th node of dc2, in its first rack.
  CHECK(f.path(ref(NodeId{10 + 20})) == "us-east-1/use1-az1/dc2/rack1/node2");
  for (Level l : {Level::Region, Level::Zone, Level::Datacenter, Level::Rack, Level::Node, Level::Gpu}) {
    for (uint32_t i = 0; i < f.count(l); ++i) {
      const auto found = f.find(f.path({l, i}));
      REQUIRE(found.has_value());
      REQUIRE(*found == ComponentRef{l, i});
    }
  }
  CHECK_FALSE(f.find("us-east-1/use1-az1/dc1/rack5").has_value());
  CHECK_FALSE(f.find("us-east-1/use1-az1/dc1/rack0/node2").has_value());
  CHECK_FALSE(f.find("us-east-1/use1-az1/dc1/rack01").has_value());
  CHECK_FALSE(f.find("eu-west-1").has_value());
  CHECK_FALSE(f.find("us-east-1/use1-az1/dc1/rack0/node0/gpu8").has_value());
}

TEST_CASE("fleet: hierarchy queries agree with the ranges", "[fleet]") {
  const Fleet f = Fleet::build(two_region_spec());
  for (uint32_t g = 0; g < f.gpus(); ++g) {
    const NodeId n = f.node_of(GpuId{g});
    REQUIRE(f.range(ref(n), Level::Gpu).contains(g));
    const RackId r = f.rack_of(n);
    REQUIRE(f.range(ref(r), Level::Node).contains(n.value()));
    REQUIRE(f.parent(ref(GpuId{g})) == ref(n));
  }
  CHECK(f.region_of(ref(GpuId{311})) == RegionId{1});
  CHECK(f.zone_of(ref(GpuId{80 + 144})) == ZoneId{1});
  // NVL72: 18 nodes per scale-up domain; HGX: the node alone.
  const IndexRange su = f.scale_up_domain(NodeId{10 + 20});
  CHECK(su.begin == 10 + 18);
  CHECK(su.size() == 18);
  CHECK(f.scale_up_domain(NodeId{3}).size() == 1);
}

TEST_CASE("fleet: a GPU failure removes exactly one GPU and repair returns it", "[fleet]") {
  Fleet f = Fleet::build(two_region_spec());
  f.set_health(ref(GpuId{5}), Health::Failed);
  CHECK(f.usable_gpus(RegionId{0}) == 263);
  CHECK(f.count(RegionId{0}, 0, Level::Gpu, Health::Failed) == 1);
  f.set_health(ref(GpuId{5}), Health::Repairing);
  CHECK(f.count(RegionId{0}, 0, Level::Gpu, Health::Failed) == 0);
  CHECK(f.count(RegionId{0}, 0, Level::Gpu, Health::Repairing) == 1);
  f.set_health(ref(GpuId{5}), Health::Healthy);
  CHECK(f.usable_gpus(RegionId{0}) == 264);
  check_consistent(f);
}

TEST_CASE("fleet: a rack failure takes exactly its nodes", "[fleet]") {
  Fleet f = Fleet::build(two_region_spec());
  const RackId rack{5};  // first NVL72 rack: 18 nodes x 4 GPUs
  const IndexRange in_rack = f.range(ref(rack), Level::Node);
  REQUIRE(in_rack.size() == 18);
  f.set_health(ref(rack), Health::Failed);
  CHECK(f.usable_gpus(RegionId{0}) == 264 - 72);
  CHECK(f.usable_gpus(RegionId{1}) == 48);
  for (uint32_t n = 0; n < f.nodes(); ++n) REQUIRE(f.usable(ref(NodeId{n})) == !in_rack.contains(n));
  // A GPU failing inside the dead rack changes nothing usable; it is counted as failed.
  f.set_health(ref(GpuId{f.range(ref(rack), Level::Gpu).begin}), Health::Failed);
  CHECK(f.usable_gpus(RegionId{0}) == 264 - 72);
  f.set_health(ref(rack), Health::Healthy);
  CHECK(f.usable_gpus(RegionId{0}) == 264 - 1);
  check_consistent(f);
}

TEST_CASE("fleet: a region outage removes exactly that region and returns it at the end", "[fleet]") {
  Fleet f = Fleet::build(two_region_spec());
  f.begin_outage(ref(RegionId{0}));
  CHECK(f.usable_gpus(RegionId{0}) == 0);
  CHECK(f.usable_gpus(RegionId{1}) == 48);
  CHECK(f.health(ref(RegionId{0})) == Health::Offline);
  CHECK(f.count_domains(RegionId{0}, Level::Region, Health::Offline) == 1);
  // Nested outages: a zone outage inside, then the region ends first.
  f.begin_outage(ref(ZoneId{1}));
  f.end_outage(ref(RegionId{0}));
  CHECK(f.usable_gpus(RegionId{0}) == 264 - 40);
  f.begin_outage(ref(RegionId{0}));
  f.begin_outage(ref(RegionId{0}));
  f.end_outage(ref(RegionId{0}));
  CHECK(f.usable_gpus(RegionId{0}) == 0);
  f.end_outage(ref(RegionId{0}));
  f.end_outage(ref(ZoneId{1}));
  CHECK(f.usable_gpus(RegionId{0}) == 264);
  CHECK(f.health(ref(RegionId{0})) == Health::Healthy);
  CHECK_THROWS_AS(f.end_outage(ref(RegionId{0})), std::logic_error);
  check_consistent(f);
}

TEST_CASE("fleet: random changes keep counts equal to a brute-force recount", "[fleet]") {
  Fleet f = Fleet::build(two_region_spec());
  Rng rng(7);
  std::vector<ComponentRef> outages;
  const Health states[] = {Health::Healthy, Health::Degraded, Health::Failed, Health::Repairing};
  for (int step = 0; step < 3000; ++step) {
    const uint64_t op = rng.uniform_int(10);
    if (op < 6) {
      const Level l = static_cast<Level>(rng.uniform_int(kLevels));
      const ComponentRef c{l, static_cast<uint32_t>(rng.uniform_int(f.count(l)))};
      f.set_health(c, states[rng.uniform_int(4)]);
    } else if (op < 8) {
      const Level l = static_cast<Level>(rng.uniform_int(3));
      const ComponentRef c{l, static_cast<uint32_t>(rng.uniform_int(f.count(l)))};
      f.begin_outage(c);
      outages.push_back(c);
    } else if (!outages.empty()) {
      const size_t i = rng.uniform_int(outages.size());
      f.end_outage(outages[i]);
      outages.erase(outages.begin() + static_cast<long>(i));
    }
    if (step % 100 == 0) check_consistent(f);
  }
  check_consistent(f);
}

TEST_CASE("fleet: capacity ramps in and retires", "[fleet]") {
  FleetSpec spec = two_region_spec();
  auto ramp = fleetsim::test::nvl72_dc("ramp1", 3);
  ramp.install_at = SimTime::zero() + Duration::days(30);
  spec.regions[1].zones[0].datacenters.push_back(ramp);
  Fleet f = Fleet::build(spec);
  const DatacenterId d{4};
  CHECK(f.health(ref(d)) == Health::NotInstalled);
  CHECK(f.usable_gpus(RegionId{1}) == 48);
  CHECK(f.installed_gpus(RegionId{1}) == 48);
  CHECK(f.count(RegionId{1}, 1, Level::Gpu, Health::NotInstalled) == 216);
  // A failure recorded before installation is ignored: not-installed parts do not break.
  f.set_health(ref(GpuId{f.range(ref(d), Level::Gpu).begin}), Health::Failed);
  check_consistent(f);
  f.install(d);
  CHECK(f.usable_gpus(RegionId{1}) == 48 + 216);
  CHECK(f.installed_gpus(RegionId{1}, 1) == 216);
  check_consistent(f);
  const auto retired = f.retire_gpus(RegionId{1}, 20);  // 3 nodes of 8 from dc1 (the oldest)
  CHECK(retired.size() == 3);
  CHECK(f.installed_gpus(RegionId{1}) == 48 + 216 - 24);
  CHECK(f.usable_gpus(RegionId{1}) == 48 + 216 - 24);
  check_consistent(f);
  f.retire(d);
  CHECK(f.usable_gpus(RegionId{1}) == 24);
  CHECK(f.health(ref(GpuId{f.range(ref(d), Level::Gpu).begin})) == Health::Retired);
  // Repairs completing on retired parts leave them retired.
  f.set_health(ref(retired[0]), Health::Healthy);
  CHECK(f.health(ref(retired[0])) == Health::Retired);
  check_consistent(f);
}

TEST_CASE("fleet: stragglers slow their placement and report degraded", "[fleet]") {
  Fleet f = Fleet::build(two_region_spec());
  std::vector<GpuId> placement = {GpuId{0}, GpuId{9}, GpuId{17}};
  CHECK(f.slowest(placement) == 1.0);
  f.set_slowdown(ref(NodeId{1}), 1.1);  // GPU 9 is on node 1
  f.set_slowdown(ref(GpuId{17}), 1.25);
  CHECK(f.slowest(placement) == 1.25);
  CHECK(f.slowdown(GpuId{9}) == 1.1);
  std::vector<NodeId> nodes = {NodeId{0}, NodeId{2}};
  CHECK(f.slowest(nodes) == 1.25);  // GPU 17 is on node 2
  CHECK(f.health(ref(NodeId{1})) == Health::Degraded);
  CHECK(f.usable_gpus(RegionId{0}) == 264);  // slow is still up
  CHECK(f.count(RegionId{0}, 0, Level::Gpu, Health::Degraded) == 1);
  f.set_health(ref(GpuId{17}), Health::Failed);  // taken out: no longer slow
  CHECK(f.slowdown(GpuId{17}) == 1.0);
  f.set_slowdown(ref(NodeId{1}), 1.0);
  CHECK(f.health(ref(NodeId{1})) == Health::Healthy);
  CHECK(f.slowed_components() == 0);
  check_consistent(f);
}

TEST_CASE("fleet: partial outages block launches and degrade the network", "[fleet]") {
  Fleet f = Fleet::build(two_region_spec());
  f.add_launch_block(ref(RegionId{0}), +1);
  CHECK_FALSE(f.launch_allowed(ref(NodeId{0})));
  CHECK(f.launch_allowed(ref(NodeId{f.nodes() - 1})));
  CHECK(f.usable_gpus(RegionId{0}) == 264);
  f.add_launch_block(ref(RegionId{0}), -1);
  CHECK(f.launch_allowed(ref(NodeId{0})));
  f.push_network_factor(ref(ZoneId{0}), 0.5);
  f.push_network_factor(ref(RegionId{0}), 0.8);
  CHECK(f.network_factor(ref(GpuId{0})) == 0.5);
  CHECK(f.network_factor(ref(ZoneId{1})) == 0.8);
  f.pop_network_factor(ref(ZoneId{0}), 0.5);
  CHECK(f.network_factor(ref(GpuId{0})) == 0.8);
}

TEST_CASE("fleet: invalid specs are rejected", "[fleet]") {
  FleetSpec s = two_region_spec();
  s.regions[1].name = "us-east-1";
  CHECK_THROWS_AS(Fleet::build(s), std::invalid_argument);
  s = two_region_spec();
  s.regions[0].zones[0].datacenters[0].gpus_per_node = 0;
  CHECK_THROWS_AS(Fleet::build(s), std::invalid_argument);
  s = two_region_spec();
  s.regions[0].zones[0].datacenters[0].name = "a/b";
  CHECK_THROWS_AS(Fleet::build(s), std::invalid_argument);
}

TEST_CASE("fleet: half a million GPUs cost a few megabytes", "[fleet][scale]") {
  FleetSpec s;
  for (int r = 0; r < 4; ++r) {
    auto& region = s.add_region("region" + std::to_string(r));
    for (int z = 0; z < 3; ++z) {
      auto& zone = region.add_zone("az" + std::to_string(z));
      zone.datacenters.push_back(fleetsim::test::nvl72_dc("dc1", 580));  // 41,760 GPUs
    }
  }
  Fleet f = Fleet::build(s);
  CHECK(f.gpus() == 501'120);
  CHECK(f.memory_bytes() < 4'000'000);
  CHECK(f.usable_gpus_total() == 501'120);
  f.begin_outage(ref(RegionId{2}));
  CHECK(f.usable_gpus_total() == 501'120 - 125'280);
}
