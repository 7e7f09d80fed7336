// SPDX-License-Identifier: Apache-2.0
#include "models/network/nccl_protocol.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace fleetsim {

namespace {
// NCCL's ring latencies (us), by protocol LL, LL128, Simple (NVIDIA/nccl src/graph/tuning.cc).
constexpr std::array<double, 3> kBaseUs = {3.6, 3.6, 8.4};
constexpr std::array<double, 3> kStepNvlinkUs = {0.4, 2.5, 5.7};
constexpr std::array<double, 3> kStepNetUs = {0.9, 2.5, 6.6};

struct Shape {
  double steps = 0;    // sequential ring steps
  double traffic = 0;  // bytes each rank sends over its link
};

Shape shape(NcclOp op, uint32_t n, double bytes) {
  const double nn = n;
  switch (op) {
    case NcclOp::AllReduce: return {2 * (nn - 1), 2 * (nn - 1) / nn * bytes};
    case NcclOp::AllGather:
    case NcclOp::ReduceScatter:
    case NcclOp::AllToAll: return {nn - 1, (nn - 1) / nn * bytes};
    case NcclOp::SendRecv: return {1, bytes};
  }
  return {};
}
}  // namespace

double nccl_data_fraction(NcclProtocol p) {
  switch (p) {
    case NcclProtocol::LL: return 1.0 / 4.0;
    case NcclProtocol::LL128: return 120.0 / 128.0;
    case NcclProtocol::Simple: return 1.0;
  }
  return 1.0;
}

double nccl_ring_seconds(NcclOp op, uint32_t n, double bytes, double bytes_per_s, double alpha_s, NcclLink link,
                         NcclProtocol p) {
  if (bytes <= 0 || bytes_per_s <= 0) return 0;
  if (op != NcclOp::SendRecv && n <= 1) return 0;
  const Shape s = shape(op, n, bytes);
  const auto i = static_cast<size_t>(p);
  const double step_us = (link == NcclLink::ScaleUp ? kStepNvlinkUs : kStepNetUs)[i];
  // NCCL's per-step latency already holds the hop's switching and propagation inside a datacenter;
  // a longer configured latency (across datacenters or regions) replaces it.
  return kBaseUs[i] * 1e-6 + s.steps * std::max(step_us * 1e-6, alpha_s) +
         s.traffic / (nccl_bus_efficiency(link) * nccl_data_fraction(p) * bytes_per_s);
}

NcclCost nccl_ring_cost(NcclOp op, uint32_t n, double bytes, double bytes_per_s, double alpha_s, NcclLink link) {
  NcclCost best{std::numeric_limits<double>::infinity(), NcclProtocol::Simple};
  if (bytes <= 0 || bytes_per_s <= 0 || (op != NcclOp::SendRecv && n <= 1)) return {0, NcclProtocol::Simple};
  for (NcclProtocol p : {NcclProtocol::LL, NcclProtocol::LL128, NcclProtocol::Simple}) {
    const double t = nccl_ring_seconds(op, n, bytes, bytes_per_s, alpha_s, link, p);
    if (t < best.seconds) best = {t, p};
  }
  return best;
}

double nccl_allreduce_bus_bandwidth(uint32_t n, double bytes, double seconds) {
  if (seconds <= 0 || n <= 1) return 0;
  return 2.0 * (n - 1.0) / n * bytes / seconds;
}

}  // namespace fleetsim
