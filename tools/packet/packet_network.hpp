// SPDX-License-Identifier: Apache-2.0
// The packet-level backend: a fleetsim Topology and a flow set run in ns-3 (3.37, Debian libns3-dev),
// with DCTCP over ECN-marking RED queues or with plain TCP NewReno over drop-tail queues, returning each
// flow's completion time. It exists to check the fluid model (FlowModel, max-min sharing) against what
// packets and congestion control do on the same fabric and the same paths (docs/network-fidelity.md).
//
//   Topology topo = build_topology(spec);
//   Router router(topo);
//   std::vector<PacketFlow> flows{{.src = topo.endpoint(0), .dst = topo.endpoint(5), .bytes = 1e6}};
//   PacketRun r = run_packets(topo, router, flows, PacketOptions{.transport = Transport::Dctcp});
//   r.fct[0];   // start to last byte received, as ns-3 saw it
//
// What is built: one ns-3 node per vertex; one point-to-point link per physical link, at the link's
// rate (bytes/s * 8) and one-way latency; every device's egress is a traffic-control queue disc (RED
// with DCTCP-style marking, or a FIFO of the same size for TCP), the device's own queue one packet long
// so that the whole queue is the disc's and the marker sees it (as Linux's byte queue limits do).
//
// Routing: static routes that follow fleetsim's own Router path of each flow (route(src, dst, key)),
// so both models put every flow on the same links. ns-3 3.37's global routing has only per-packet
// random ECMP (which reorders TCP segments) and otherwise one path per destination; neither reproduces
// the per-flow paths of the fluid model. Each flow gets its own pair of addresses (one on the sender,
// one on the receiver), and every node on its path a /32 host route for each of them: data follows the
// path, ACKs its reverse.
//
// A run is deterministic (ns-3's RNG seeded from `seed`; no wall-clock input). ns-3 keeps one global
// simulator per process: run_packets is not reentrant and must not run on two threads at once.
#pragma once

#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace fleetsim::packet {

enum class Transport : uint8_t { Dctcp, NewReno };
std::string_view transport_name(Transport t);  ///< "dctcp", "tcp"

/// One flow: `bytes` from src to dst (GPU or storage endpoints), starting `start` after time zero, on
/// the Router path chosen by `key` (the fluid model's FlowModel::start key).
struct PacketFlow {
  VertexId src = 0, dst = 0;
  double bytes = 0;
  Duration start = Duration::zero();
  uint64_t key = 1;
};

struct PacketOptions {
  Transport transport = Transport::Dctcp;
  /// IP MTU of every link; TCP segments carry mtu - 52 bytes (IPv4 20, TCP 20, timestamps 12).
  uint32_t mtu = 1500;
  /// Queue per egress port, bytes. 4 MB: the shared buffer of the Broadcom Triumph/Scorpion switches of
  /// the DCTCP paper (Alizadeh et al., SIGCOMM 2010, section 4), as ns-3's examples/tcp/dctcp-example.cc
  /// sets it (2666 packets of 1500 bytes).
  double queue_bytes = 2666.0 * 1500.0;
  /// RED marking thresholds (DCTCP): instantaneous queue (QW = 1), marking from min to max, all above.
  /// 50 and 150 packets of 1500 bytes: ns-3 dctcp-example.cc's 10 Gb/s setting ("MinTh = 50, MaxTh =
  /// 150 recommended in ACM SIGCOMM 2010 DCTCP Paper").
  double mark_min_bytes = 50.0 * 1500.0;
  double mark_max_bytes = 150.0 * 1500.0;
  /// TCP minimum retransmission timeout. 200 ms: Linux's TCP_RTO_MIN (include/net/tcp.h); ns-3's own
  /// default is RFC 6298's 1 s.
  Duration min_rto = Duration::ms(200);
  /// Socket send and receive buffers, bytes. 6 MiB: Linux's default net.ipv4.tcp_rmem maximum
  /// (6291456); ns-3's 128 KiB default would cap a flow below line rate at 100 Gb/s.
  uint32_t socket_buffer_bytes = 6291456;
  /// Segments per delayed ACK. 1 (an ACK per segment), not ns-3's 2: with 2 and ns-3's 200 ms
  /// delayed-ACK timer, DCTCP flows whose window had shrunk to a few segments stalled until that timer
  /// or the RTO fired (3 of the 240 all-to-all flows did not finish in 10 s, 17 took over 100 ms; none
  /// with 1). The same for both transports, so congestion control is the only difference.
  uint32_t delayed_ack_count = 1;
  uint64_t seed = 1;
  /// Simulated time after which unfinished flows are reported as not finished.
  Duration horizon = Duration::s(10);
};

struct PacketRun {
  /// Per flow, in input order: start to the last byte received. Duration::max() if it did not finish.
  std::vector<Duration> fct;
  std::vector<uint64_t> received_bytes;  ///< per flow, by the end of the run (short of bytes: unfinished)
  uint64_t marked_packets = 0;   ///< ECN marks by the queue discs
  uint64_t dropped_packets = 0;  ///< drops anywhere: queue discs (overflow, RED), devices, IP
  uint32_t unfinished = 0;
};

/// Throws std::invalid_argument when a flow's endpoints are not endpoints, cannot be routed, or have
/// zero bytes, or when there are more than 4,194,304 links or flows (the address plan).
PacketRun run_packets(const Topology& topology, Router& router, std::span<const PacketFlow> flows,
                      const PacketOptions& options);

}  // namespace fleetsim::packet
