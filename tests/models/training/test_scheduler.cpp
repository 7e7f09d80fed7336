// SPDX-License-Identifier: Apache-2.0
// GangScheduler tests (CMake has no tests_scheduler target: they build into tests_training).
#include "models/scheduler/gang_scheduler.hpp"
#include "tests/models/training/training_fixtures.hpp"

#include <catch2/catch.hpp>

#include <ctime>
#include <set>

using namespace fleetsim;

namespace {

struct Sched {
  Fleet fleet;
  Engine engine;
  GangScheduler sched;
  explicit Sched(const FleetSpec& fs) : fleet(Fleet::build(fs)), sched(fleet, engine) {}
  void settle() { engine.run(engine.now()); }
};

GangRequest req(std::string name, uint32_t nodes, int priority = 0) {
  GangRequest r;
  r.name = std::move(name);
  r.nodes = nodes;
  r.priority = priority;
  return r;
}

FleetSpec two_dcs() {
  FleetSpec s = fleetsim::test::h100_fleet(8);
  DatacenterSpec d = s.regions[0].zones[0].datacenters[0];
  d.name = "dc2";
  d.nodes = 4;
  s.regions[0].zones[0].datacenters.push_back(d);
  return s;
}

}  // namespace

TEST_CASE("scheduler: best fit puts a gang in the smallest datacenter that holds it", "[training][scheduler]") {
  Sched s(two_dcs());  // dc1: nodes 0-7, dc2: nodes 8-11
  std::vector<NodeId> got;
  GangRequest r = req("a", 3);
  r.on_start = [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); };
  s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(got.size() == 3);
  CHECK(got[0] == NodeId{8});
  CHECK(got[2] == NodeId{10});
}

TEST_CASE("scheduler: a gang too big for one datacenter spans the fewest", "[training][scheduler]") {
  Sched s(two_dcs());
  std::vector<NodeId> got;
  GangRequest r = req("a", 10);
  r.replica_nodes = 2;
  r.on_start = [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); };
  s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(got.size() == 10);
  CHECK(got.front() == NodeId{0});  // all of dc1 (the largest) and two nodes of dc2
  CHECK(s.sched.allocated_nodes() == 10);
}

TEST_CASE("scheduler: priorities order the queue", "[training][scheduler]") {
  Sched s(fleetsim::test::h100_fleet(4));
  std::vector<std::string> order;
  auto mk = [&](std::string n, uint32_t nodes, int p) {
    GangRequest r = req(n, nodes, p);
    r.on_start = [&order, n](AllocationId, std::span<const NodeId>) { order.push_back(n); };
    return r;
  };
  const AllocationId first = s.sched.submit(mk("first", 4, 0));
  s.settle();
  s.sched.submit(mk("low", 4, 0));
  s.sched.submit(mk("high", 4, 5));
  s.settle();
  s.sched.release(first);
  s.settle();
  REQUIRE(order.size() == 2);
  CHECK(order[1] == "high");
}

TEST_CASE("scheduler: EASY backfill starts a short job that ends before the head's reservation", "[training][scheduler]") {
  Sched s(fleetsim::test::h100_fleet(4));
  std::set<std::string> started;
  auto mk = [&](std::string n, uint32_t nodes, Duration rt) {
    GangRequest r = req(n, nodes);
    r.expected_runtime = rt;
    r.on_start = [&started, n](AllocationId, std::span<const NodeId>) { started.insert(n); };
    return r;
  };
  s.sched.submit(mk("running", 3, Duration::hours(10)));
  s.settle();
  s.sched.submit(mk("head", 4, Duration::hours(10)));  // waits until "running" ends at 10 h
  s.sched.submit(mk("short", 1, Duration::hours(2)));  // fits the free node and ends before 10 h
  s.sched.submit(mk("long", 1, Duration::hours(20)));  // would delay the head
  s.settle();
  CHECK(started.count("short") == 1);
  CHECK(started.count("head") == 0);
  CHECK(started.count("long") == 0);
  CHECK(s.sched.backfilled() == 1);
}

TEST_CASE("scheduler: a claim preempts lower-priority training through its hook", "[training][scheduler]") {
  Sched s(fleetsim::test::h100_fleet(4));
  AllocationId train = kNoAllocation;
  int preempted = 0;
  GangRequest r = req("train", 4, 0);
  r.on_preempt = [&](AllocationId id) {
    ++preempted;
    s.sched.release(id, true);
  };
  train = s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(s.sched.allocation(train).state == GangScheduler::State::Running);
  std::vector<NodeId> got;
  const AllocationId c = s.sched.claim(RegionId{0}, 16, 10, [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); });
  s.settle();
  CHECK(preempted == 1);
  CHECK(got.size() == 2);  // 16 GPUs = 2 nodes
  CHECK(s.sched.preemptions() == 1);
  // The preempted job waits in the queue and comes back when the claim is released.
  CHECK(s.sched.allocation(train).state == GangScheduler::State::Queued);
  s.sched.release(c);
  s.settle();
  CHECK(s.sched.allocation(train).state == GangScheduler::State::Running);
}

TEST_CASE("scheduler: replace takes a free node in the same rack first", "[training][scheduler]") {
  Sched s(fleetsim::test::h100_fleet(8, 4));  // racks of 4 nodes
  GangRequest r = req("a", 3);
  const AllocationId id = s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(s.sched.allocation(id).nodes.size() == 3);
  const NodeId failed = s.sched.allocation(id).nodes[1];
  s.fleet.set_health(ref(failed), Health::Failed);
  auto n = s.sched.replace(id, failed);
  REQUIRE(n);
  CHECK(*n == NodeId{3});
  CHECK(s.sched.owner(failed) == kNoAllocation);
  CHECK(s.sched.owner(NodeId{3}) == id);
}

TEST_CASE("scheduler: unhealthy nodes are not placed", "[training][scheduler]") {
  Sched s(fleetsim::test::h100_fleet(4));
  s.fleet.set_health(ref(GpuId{3}), Health::Failed);  // node 0 has a failed GPU
  std::vector<NodeId> got;
  GangRequest r = req("a", 3);
  r.on_start = [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); };
  s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(got.size() == 3);
  CHECK(got[0] == NodeId{1});
}

TEST_CASE("scheduler: a TP group wider than a node is placed inside one scale-up domain", "[training][scheduler]") {
  // Two NVL72 racks (18 hosts of 4 GPUs, one domain per rack); rack 0 has 16 free hosts.
  FleetSpec fs;
  DatacenterSpec d;
  d.name = "dc1";
  d.instance = "p6e-gb200.36xlarge";
  d.accelerator = "GB200";
  d.gpus_per_node = 4;
  d.nodes_per_rack = 18;
  d.scale_up_nodes = 18;
  d.nodes = 36;
  fs.add_region("r1").add_zone("z1").datacenters.push_back(d);
  Sched s(fs);
  s.fleet.set_health(ref(NodeId{0}), Health::Failed);
  s.fleet.set_health(ref(NodeId{1}), Health::Failed);
  std::vector<NodeId> got;
  GangRequest r = req("tp16", 20);
  r.unit_nodes = 4;  // TP16 over 4-GPU hosts
  r.on_start = [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); };
  s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(got.size() == 20);
  // Every unit of 4 consecutive hosts lies in one rack (one NVLink domain).
  for (size_t k = 0; k < got.size(); k += 4) CHECK(s.fleet.rack_of(got[k]) == s.fleet.rack_of(got[k + 3]));
}

TEST_CASE("scheduler: a gang of 4-GPU hosts is placed after a datacenter of 8-GPU hosts in its region",
          "[training][scheduler]") {
  // Regression: the quick capacity check used the GPUs per node of the region's first datacenter (8),
  // so 6 GB200 hosts (24 GPUs) looked like 48 GPUs and never fit in a datacenter of 8 such hosts.
  FleetSpec fs = fleetsim::test::h100_fleet(2);
  DatacenterSpec gb;
  gb.name = "gb";
  gb.instance = "p6e-gb200.36xlarge";
  gb.accelerator = "GB200";
  gb.gpus_per_node = 4;
  gb.nodes_per_rack = 8;
  gb.nodes = 8;
  fs.regions[0].zones[0].datacenters.push_back(gb);
  Sched s(fs);
  std::vector<NodeId> got;
  GangRequest r = req("gb200-job", 6);
  r.accelerator = "GB200";
  r.on_start = [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); };
  s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(got.size() == 6);
  CHECK(got.front() == NodeId{2});  // the first GB200 host, after the 2 H100 hosts
}

namespace {

/// us-east-1-like region: 2 H100 hosts (8 GPUs, nodes 0-1) before 8 GB200 hosts (4 GPUs, nodes 2-9).
FleetSpec h100_then_gb200() {
  FleetSpec fs = fleetsim::test::h100_fleet(2);
  DatacenterSpec gb;
  gb.name = "gb";
  gb.instance = "p6e-gb200.36xlarge";
  gb.accelerator = "GB200";
  gb.gpus_per_node = 4;
  gb.nodes_per_rack = 8;
  gb.nodes = 8;
  fs.regions[0].zones[0].datacenters.push_back(gb);
  return fs;
}

uint64_t gpus_of(const Fleet& fleet, std::span<const NodeId> nodes) {
  uint64_t g = 0;
  for (NodeId n : nodes) g += fleet.gpus_per_node(fleet.datacenter_of(ref(n)));
  return g;
}

}  // namespace

TEST_CASE("scheduler: a claim of GB200 GPUs counts GB200 hosts in a region whose first hosts are H100",
          "[training][scheduler]") {
  // Regression: claim() rounded GPUs to hosts with the region's first datacenter's GPUs per host (8),
  // so 16 GB200 GPUs became 2 hosts (8 GPUs).
  Sched s(h100_then_gb200());
  std::vector<NodeId> got;
  s.sched.claim(RegionId{0}, 16, 10, [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); }, "gb", "GB200");
  s.settle();
  REQUIRE(got.size() == 4);
  CHECK(got.front() == NodeId{2});
  CHECK(gpus_of(s.fleet, got) == 16);
  CHECK(s.sched.gang_gpus(RegionId{0}, s.fleet.accelerator_of(ref(NodeId{2}))) == 16);
}

TEST_CASE("scheduler: a claim of any accelerator holds at least the GPUs asked wherever it lands", "[training][scheduler]") {
  Sched s(h100_then_gb200());
  s.sched.submit(req("h100-job", 2));  // takes both H100 hosts (best fit: the smaller datacenter)
  s.settle();
  REQUIRE(s.sched.owner(NodeId{0}) != kNoAllocation);
  std::vector<NodeId> got;
  s.sched.claim(RegionId{0}, 16, 10, [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); });
  s.settle();
  // Before the fix: 2 hosts (16 / 8 GPUs of the first datacenter) on GB200, 8 GPUs.
  CHECK(gpus_of(s.fleet, got) >= 16);
  CHECK(got.size() == 4);
}

TEST_CASE("scheduler: a claim of an accelerator the region lacks is refused", "[training][scheduler]") {
  Sched s(h100_then_gb200());
  CHECK_THROWS_AS(s.sched.claim(RegionId{0}, 8, 10, nullptr, "b200", "B200"), std::invalid_argument);
  CHECK(s.sched.queued() == 0);
}

TEST_CASE("scheduler: best fit counts only healthy unallocated hosts of each datacenter", "[training][scheduler]") {
  // Free hosts are counted per rack from the fleet's up counts; a rack with a failed GPU is looked at
  // host by host. dc1 (8 hosts) has 3 healthy ones left, dc2 has 4: dc1 is the best fit for 3.
  Sched s(two_dcs());
  for (uint32_t n = 0; n < 5; ++n) s.fleet.set_health(ref(GpuId{n * 8 + 1}), Health::Failed);
  std::vector<NodeId> got;
  GangRequest r = req("a", 3);
  r.on_start = [&](AllocationId, std::span<const NodeId> n) { got.assign(n.begin(), n.end()); };
  s.sched.submit(std::move(r));
  s.settle();
  REQUIRE(got.size() == 3);
  CHECK(got == std::vector<NodeId>{NodeId{5}, NodeId{6}, NodeId{7}});
}

TEST_CASE("scheduler: a move never takes a request pinned to a region out of it", "[training][scheduler]") {
  // Issue 18, defect 7: move() dropped the pin when told which region to leave.
  FleetSpec fs = fleetsim::test::h100_fleet(4);
  FleetSpec other = fleetsim::test::h100_fleet(4);
  other.regions[0].name = "r2";
  fs.regions.push_back(other.regions[0]);
  Sched s(fs);  // r1: nodes 0-3, r2: nodes 4-7
  GangRequest pinned = req("pinned", 2);
  pinned.region = RegionId{0};
  const AllocationId p = s.sched.submit(std::move(pinned));
  const AllocationId f = s.sched.submit(req("free", 2));
  s.settle();
  const std::vector<NodeId> before = s.sched.allocation(p).nodes;
  REQUIRE(before.size() == 2);
  CHECK_FALSE(s.sched.move(p, RegionId{0}));  // the only region it may use is the one to leave
  CHECK(s.sched.allocation(p).nodes == before);
  CHECK(s.sched.move(f, RegionId{0}));        // an unpinned request leaves it
  for (NodeId n : s.sched.allocation(f).nodes) CHECK(n.value() >= 4);
}

TEST_CASE("scheduler: replace passes over a datacenter that is down without scanning its nodes",
          "[training][scheduler]") {
  // Issue 19: the 38B flagship hung inside one event, each replacement scanning every unallocated node
  // of the region. Here dc1's 50,000 nodes are down; the job in dc2 fails over to dc3 and back 20,000
  // times. Scanning dc1 each time is 10^9 node checks (minutes); passing over it takes milliseconds.
  // Measured in process CPU time, which other tests running beside it do not change.
  FleetSpec fs = fleetsim::test::h100_fleet(50000, 4);
  DatacenterSpec d = fs.regions[0].zones[0].datacenters[0];
  d.name = "dc2";
  d.nodes = 2;
  d.nodes_per_rack = 2;
  fs.regions[0].zones[0].datacenters.push_back(d);
  d.name = "dc3";
  d.nodes = 1;
  d.nodes_per_rack = 1;
  fs.regions[0].zones[0].datacenters.push_back(d);
  Sched s(fs);
  s.fleet.set_health(ref(DatacenterId{0}), Health::Failed);
  const AllocationId id = s.sched.submit(req("a", 2));
  s.settle();
  REQUIRE(s.sched.allocation(id).nodes.size() == 2);
  REQUIRE(s.sched.allocation(id).nodes[0].value() >= 50000);  // in dc2
  const std::clock_t cpu0 = std::clock();
  NodeId failed = s.sched.allocation(id).nodes[0];
  for (int k = 0; k < 20000; ++k) {
    s.fleet.set_health(ref(failed), Health::Failed);
    const auto n = s.sched.replace(id, failed);
    REQUIRE(n);
    CHECK(n->value() >= 50000);
    s.fleet.set_health(ref(failed), Health::Healthy);
    failed = *n;
  }
  const double cpu_s = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  INFO("CPU " << cpu_s << " s for 20,000 replacements");
  CHECK(cpu_s < 2.0);
}

// The preemption search looks only at allocations holding nodes (GangScheduler::live_): after thousands
// of claims made and given back, in every order, it still picks the lowest priority and, among equals,
// the newest, and never a released, queued or higher-priority allocation.
TEST_CASE("scheduler: preemption picks the lowest-priority newest holder after many claims come and go",
          "[training][scheduler]") {
  Sched s(fleetsim::test::h100_fleet(8));
  // A scheduler that preempts and backfills at one instant without end fails the checks instead of
  // hanging (it did, before the head's reservation counted the nodes freed for it: GangScheduler::pass).
  s.engine.set_periodic_hook(200'000, [&s] { s.engine.stop(); });
  std::vector<AllocationId> preempted;
  const auto job = [&](std::string name, int priority) {
    GangRequest r = req(std::move(name), 2, priority);
    r.preemptible = true;
    r.on_preempt = [&](AllocationId id) {
      preempted.push_back(id);
      s.sched.release(id, true);
    };
    const AllocationId id = s.sched.submit(std::move(r));
    s.settle();
    REQUIRE(s.sched.allocation(id).state == GangScheduler::State::Running);
    return id;
  };
  const AllocationId low_old = job("low-old", 1);
  // 3,000 one-node claims on the remaining 6 nodes, given back in an order that moves every slot.
  std::vector<AllocationId> claims;
  for (int round = 0; round < 500; ++round) {
    for (int k = 0; k < 6; ++k) claims.push_back(s.sched.claim(RegionId{0}, 8, 5, [](AllocationId, std::span<const NodeId>) {}));
    s.settle();
    for (int k : {3, 0, 5, 1, 4, 2}) s.sched.release(claims[claims.size() - 6 + static_cast<size_t>(k)]);
    s.settle();
  }
  CHECK(s.sched.holding() == 1);  // every claim given back: only low-old holds nodes
  const AllocationId high = job("high", 9);
  const AllocationId low_new = job("low-new", 1);
  const AllocationId mid = job("mid", 3);
  CHECK(s.sched.allocated_nodes() == 8);
  // Claims of 2 nodes at priority 8, one after another: the newest of the two lowest goes first, then
  // the older, then mid; high (9) is never taken by a claim at 8, so the fourth claim waits.
  const std::vector<AllocationId> victims = {low_new, low_old, mid, kNoAllocation};
  for (size_t k = 0; k < victims.size(); ++k) {
    s.sched.claim(RegionId{0}, 16, 8, [](AllocationId, std::span<const NodeId>) {});
    s.settle();
    INFO("claim " << k);
    REQUIRE(preempted.size() == std::min<size_t>(k + 1, 3));
    if (victims[k] != kNoAllocation) CHECK(preempted[k] == victims[k]);
  }
  CHECK(preempted.size() == 3);
  CHECK(s.sched.allocation(high).state == GangScheduler::State::Running);
  CHECK(s.sched.preemptions() == 3);
  CHECK(s.sched.holding() == 4);  // high and three claims; the fourth claim and the victims wait
  CHECK(s.engine.events_executed() < 200'000);
}
