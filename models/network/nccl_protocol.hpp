// SPDX-License-Identifier: Apache-2.0
// NCCL's three wire protocols and the choice between them, as a cost on top of the alpha-beta terms
// of a ring collective (issue 20, item 6: collectives used to run at the link's line rate).
//
//   NcclCost c = nccl_ring_cost(NcclOp::AllReduce, 8, 4.3e9, 450e9, 1e-6, NcclLink::ScaleUp);
//   c.seconds; c.protocol;            // 20.3 ms, Simple; bus bandwidth 2(n-1)/n * S / t = 370 GB/s
//
// The model is NCCL's own ring tuning model (NVIDIA/nccl src/graph/tuning.cc, the ring branch; read,
// not copied): for each protocol p,
//   time_p = base_p + steps * max(hw_p, alpha) + traffic / (eta * f_p * B)
// where B is the link's line rate per direction, traffic the bytes each rank sends (2(n-1)/n * S for
// an all-reduce), steps 2(n-1) or n-1, and NCCL runs the protocol with the least time:
//   protocol  data fraction f_p              base (us)  per step NVLink / network (us)
//   LL        1/4  (8-byte lines, 4 B flag;   3.6        0.4 / 0.9
//                   tuning.cc busBw *= 1/4)
//   LL128     120/128 (128-byte lines, 8 B    3.6        2.5 / 2.5
//                   flag)
//   Simple    1                              8.4        5.7 / 6.6
// alpha is the link latency the scenario configures; NCCL's hw_p already holds a hop's switching and
// propagation inside a datacenter, so alpha counts only where it is longer (across datacenters or
// regions, where the per-step latency is the wide-area round trip).
//
// eta, the bus efficiency of the Simple protocol (what is left of the line rate after the link's own
// packet overhead and NCCL's flags and synchronisation), is a property of the transport as much as of
// NCCL, so there is one per link kind, each CALIBRATED on one measurement and judged on others:
//   scale-up (NVLink): 370 GB/s ring bus bandwidth on 8 H100 SXM over NVLink4 (450 GB/s line rate),
//     NVIDIA/nccl-tests issue #212, NCCL maintainer S. Jeaugey, 2024-05-06 [P]: eta = 370/450 = 0.822.
//     NVLink moves data in flits with per-packet headers: even a copy-engine peer-to-peer test reaches
//     only about 380 of 450 GB/s (NVIDIA/nccl issue #1264 [P]), and NCCL's topology code gives each
//     Hopper NVLink 20.6 of its 25 GB/s (src/graph/topo.h, SM90_NVLINK_BW [P]; 0.824).
//   scale-out (InfiniBand/RoCE NICs): 192 GB/s all-reduce bus bandwidth across DGX A100 hosts with
//     8 x 200 Gb/s HDR each (200 GB/s per host), NVIDIA/nccl issue #812, NCCL maintainer, 2023-03-31
//     [P]: 0.96 of the line after the ring's step latencies, eta = 0.976 before them (the value at
//     which this ring model gives 192 GB/s for 16 ranks over 1 GiB: 30 steps of 6.6 us take 1.6%).
//     A NIC's rated speed is its data rate after line coding, and a 4 KiB InfiniBand packet carries
//     about 26 bytes of headers (0.994), so little beyond NCCL's own synchronisation is lost.
// The protocols' data fractions (LL 1/4, LL128 120/128) apply on top of either. Checks the fits did
// not use: 8 A100 over NVLink3 (two measurements), and across hosts 24 A100 on 4 HDR cards each
// (nccl-tests #119) and 2 H100 hosts on 8 NDR cards each (nccl-tests #290): scenarios/validation/
// nccl-*.json and docs/validation-notes.md.
#pragma once

#include <cstdint>

namespace fleetsim {

enum class NcclProtocol : uint8_t { LL, LL128, Simple };
enum class NcclOp : uint8_t { AllReduce, AllGather, ReduceScatter, AllToAll, SendRecv };
enum class NcclLink : uint8_t { ScaleUp, ScaleOut };

/// Simple-protocol bus efficiency on NVLink, calibrated on nccl-tests #212 (see the file comment).
inline constexpr double kNcclScaleUpEfficiency = 370.0 / 450.0;
/// Simple-protocol bus efficiency on the network cards, calibrated on nccl #812 (see the file comment).
inline constexpr double kNcclScaleOutEfficiency = 0.976;

/// The Simple protocol's bus efficiency on links of kind `link`.
constexpr double nccl_bus_efficiency(NcclLink link) {
  return link == NcclLink::ScaleUp ? kNcclScaleUpEfficiency : kNcclScaleOutEfficiency;
}

struct NcclCost {
  double seconds = 0;
  NcclProtocol protocol = NcclProtocol::Simple;
};

/// Fraction of the line rate that carries data under protocol p, before eta (1/4, 120/128, 1).
double nccl_data_fraction(NcclProtocol p);

/// The cost of one ring collective of `n` ranks over `bytes` per rank (the all-reduce input, the
/// all-gather output, the all-to-all total sent, the point-to-point message) on links of
/// `bytes_per_s` line rate and `alpha_s` latency, with the protocol NCCL would pick. n <= 1: zero
/// (except SendRecv, which always moves its message).
NcclCost nccl_ring_cost(NcclOp op, uint32_t n, double bytes, double bytes_per_s, double alpha_s, NcclLink link);

/// The same with the protocol forced (NCCL_PROTO=...), for the bus-bandwidth-against-size curve.
double nccl_ring_seconds(NcclOp op, uint32_t n, double bytes, double bytes_per_s, double alpha_s, NcclLink link,
                         NcclProtocol p);

/// nccl-tests' bus bandwidth of an all-reduce: 2(n-1)/n * bytes / seconds.
double nccl_allreduce_bus_bandwidth(uint32_t n, double bytes, double seconds);

}  // namespace fleetsim
