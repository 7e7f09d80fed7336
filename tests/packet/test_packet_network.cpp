// SPDX-License-Identifier: Apache-2.0
// The ns-3 backend against analytic results: one flow alone runs at line rate less its headers, two
// flows through one bottleneck share it evenly under DCTCP (as max-min says), bad flows are refused.
#include "tools/packet/crosscheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace fleetsim;
using namespace fleetsim::packet;

namespace {

constexpr double kRate = 12.5e9;  // 100 Gb/s
const Duration kLatency = Duration::ns(500);

// Four single-GPU hosts on one leaf (radix 8 leaf-spine): GPU -> leaf -> GPU, two 500 ns links.
Topology one_leaf() {
  ClusterSpec c;
  c.name = "c";
  c.gpus = 4;
  c.gpus_per_host = 1;
  c.scale_up.gpus_per_domain = 1;
  c.scale_out.attach = Attach::Tor;
  c.scale_out.tiers = 2;
  c.scale_out.radix = 8;
  c.scale_out.port_bytes_per_s = kRate;
  c.scale_out.link_latency = kLatency;
  return build_topology(NetworkSpec{{c}, {}, {}});
}

PacketFlow flow(VertexId src, VertexId dst, double bytes, uint64_t key = 1) {
  PacketFlow f;
  f.src = src;
  f.dst = dst;
  f.bytes = bytes;
  f.key = key;
  return f;
}

PacketOptions with(Transport t) {
  PacketOptions o;
  o.transport = t;
  return o;
}

}  // namespace

TEST_CASE("one flow alone: bytes / rate + latency, plus TCP/IP headers, within 6%") {
  // Analytic: the fluid model's idle-fabric FCT, bytes / rate + path latency (800 us + 1 us for 10 MB).
  // Packets also carry 54 bytes of headers per 1448-byte segment (IPv4 20, TCP 20 + 12 timestamps, PPP
  // 2: +3.7%), a handshake and a slow start (a few round trips of ~3 us): together under 6% at 10 MB,
  // and never faster than the line.
  const Topology topo = one_leaf();
  Router router(topo);
  const std::vector<PacketFlow> flows{flow(topo.endpoint(0, 0), topo.endpoint(0, 1), 10e6)};
  const double analytic = 10e6 / kRate + 2 * kLatency.seconds();
  for (Transport t : {Transport::Dctcp, Transport::NewReno}) {
    INFO(transport_name(t));
    const PacketRun r = run_packets(topo, router, flows, with(t));
    REQUIRE(r.unfinished == 0);
    const double fct = r.fct[0].seconds();
    CHECK(fct > analytic * (1 + 54.0 / 1448 * 0.99));  // at least the headers' share slower
    CHECK(fct < analytic * 1.06);
    // DCTCP keeps the sender's own NIC queue under its marking threshold; NewReno grows its window
    // into that 4 MB queue and loses packets there (ns-3 has no TCP small queues), so no check for it.
    if (t == Transport::Dctcp) CHECK(r.dropped_packets == 0);
  }
  // The fluid model on the same flow: exactly the analytic figure (to the nanosecond).
  const std::vector<Duration> fluid = run_fluid(topo, router, flows);
  CHECK(std::abs(fluid[0].seconds() - analytic) < 2e-9);
}

TEST_CASE("two flows into one port share it evenly under DCTCP, with ECN marks and no drops") {
  // Max-min: each gets half the receiver's port, both finish at 2 * bytes / rate (+ latency). DCTCP
  // converges to that share within a few round trips (Alizadeh et al., SIGCOMM 2010, section 3.3).
  const Topology topo = one_leaf();
  Router router(topo);
  const std::vector<PacketFlow> flows{
      flow(topo.endpoint(0, 0), topo.endpoint(0, 2), 5e6, 1),
      flow(topo.endpoint(0, 1), topo.endpoint(0, 2), 5e6, 2)};
  const PacketRun r = run_packets(topo, router, flows, with(Transport::Dctcp));
  REQUIRE(r.unfinished == 0);
  const double a = r.fct[0].seconds(), b = r.fct[1].seconds();
  // Within 10%: the first to finish had at most 1 / (2 - 2 * 0.1) = 56% of the port while both ran.
  CHECK(std::abs(a - b) / std::max(a, b) < 0.10);
  const double fair = 2 * 5e6 / kRate + 2 * kLatency.seconds();
  CHECK(std::max(a, b) > fair);
  CHECK(std::max(a, b) < fair * 1.08);
  CHECK(r.marked_packets > 0);  // the queue reached the marking threshold: DCTCP, not the window, held it
  CHECK(r.dropped_packets == 0);
  // And the fluid model's ratio on this workload is the headers' share and a little more.
  const RatioStats s = ratio_stats(run_fluid(topo, router, flows), r.fct);
  CHECK(s.flows == 2);
  CHECK(s.median > 0.9);
  CHECK(s.median < 1.0);
}

TEST_CASE("packet runs are deterministic") {
  const Topology topo = one_leaf();
  Router router(topo);
  std::vector<PacketFlow> flows;
  for (uint32_t i = 1; i < 4; ++i)
    flows.push_back(flow(topo.endpoint(0, i), topo.endpoint(0, 0), 1e6, i));
  const PacketRun a = run_packets(topo, router, flows, PacketOptions{});
  const PacketRun b = run_packets(topo, router, flows, PacketOptions{});
  CHECK(a.fct == b.fct);
  CHECK(a.marked_packets == b.marked_packets);
}

TEST_CASE("bad flows are refused before anything runs") {
  const Topology topo = one_leaf();
  Router router(topo);
  const VertexId leaf = topo.endpoint(0, 3) + 1;  // the first switch after the GPUs
  REQUIRE(topo.forwards(leaf));
  const std::vector<PacketFlow> to_switch{flow(topo.endpoint(0, 0), leaf, 1e6)};
  CHECK_THROWS_WITH(run_packets(topo, router, to_switch, {}), Catch::Contains("must be endpoints"));
  const std::vector<PacketFlow> empty{flow(topo.endpoint(0, 0), topo.endpoint(0, 1), 0)};
  CHECK_THROWS_WITH(run_packets(topo, router, empty, {}), Catch::Contains("bytes >= 1"));
}

TEST_CASE("ratio statistics: nearest rank, unfinished flows left out and counted") {
  // Ratios 1/1, 1/2, 1/4 and one unfinished packet flow: median (2nd of 3) 0.5, p99 (3rd) 1.
  const std::vector<Duration> fluid{Duration::us(1), Duration::us(1), Duration::us(1), Duration::us(1)};
  const std::vector<Duration> packet{Duration::us(1), Duration::us(2), Duration::us(4), Duration::max()};
  const RatioStats s = ratio_stats(fluid, packet);
  CHECK(s.flows == 3);
  CHECK(s.unfinished == 1);
  CHECK(s.median == 0.5);
  CHECK(s.p99 == 1.0);
  CHECK(s.min == 0.25);
  CHECK(s.max == 1.0);
}
