// SPDX-License-Identifier: Apache-2.0
// The cross-check of the fluid model against the packet-level backend: the same flows on the same
// topology and paths, once through FlowModel (max-min fair sharing) and once through ns-3 with DCTCP
// and with TCP NewReno; per flow the ratio flow-level FCT / packet-level FCT (docs/network-fidelity.md).
//
//   for (const Workload& w : crosscheck_workloads(1.0)) {
//     Topology topo = build_topology(w.spec);
//     Router router(topo);
//     std::vector<Duration> fluid = run_fluid(topo, router, w.flows);
//     PacketRun dctcp = run_packets(topo, router, w.flows, {.transport = Transport::Dctcp});
//     RatioStats s = ratio_stats(fluid, dctcp.fct);   // s.median, s.p99
//   }
//
// A ratio below 1: the fluid model finishes the flow sooner than packets do (it knows no slow start,
// no queueing, no headers, no congestion-control sawtooth); above 1: packets finish it sooner (a flow
// that grabs more than its max-min share, as an unfair transport lets the first flows do).
#pragma once

#include "models/network/routing.hpp"
#include "models/network/topology.hpp"
#include "tools/packet/packet_network.hpp"

#include <span>
#include <string>
#include <vector>

namespace fleetsim::packet {

struct Workload {
  std::string name;         ///< "permutation", "incast", "ring_allreduce", "all_to_all_2to1"
  std::string description;  ///< one line: fabric and traffic
  NetworkSpec spec;         ///< the fabric; flows name vertices of build_topology(spec)
  std::vector<PacketFlow> flows;
};

/// The four workloads of issue 16 on 100 Gb/s fabrics of 16 hosts; `scale` multiplies every flow's
/// bytes (1: the figures of docs/network-fidelity.md; tests use less).
std::vector<Workload> crosscheck_workloads(double scale);

/// Each flow's completion time in FlowModel (start to last byte delivered), in input order.
std::vector<Duration> run_fluid(const Topology& topology, Router& router, std::span<const PacketFlow> flows);

struct RatioStats {
  double median = 0;  ///< of fluid FCT / packet FCT, nearest rank
  double p99 = 0;     ///< nearest rank: the ceil(0.99 n)-th smallest
  double min = 0, max = 0;
  uint32_t flows = 0;       ///< flows compared (both finished)
  uint32_t unfinished = 0;  ///< flows the packet run did not finish by its horizon (not compared)
};
RatioStats ratio_stats(std::span<const Duration> fluid, std::span<const Duration> packet);

}  // namespace fleetsim::packet
