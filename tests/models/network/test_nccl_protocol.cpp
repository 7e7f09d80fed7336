// SPDX-License-Identifier: Apache-2.0
// NCCL's protocols as a cost (models/network/nccl_protocol.hpp), checked against the ring tuning
// model NCCL documents in its source (NVIDIA/nccl src/graph/tuning.cc) and nccl-tests' definitions.
#include "models/network/nccl_protocol.hpp"

#include <catch2/catch.hpp>

using namespace fleetsim;

TEST_CASE("NCCL protocols: LL for small messages, LL128 in between, Simple for large", "[network]") {
  const double nvlink = 450e9;
  // 8 ranks on NVLink: tiny all-reduces are latency-bound, LL's 0.4 us per step wins.
  CHECK(nccl_ring_cost(NcclOp::AllReduce, 8, 1024, nvlink, 1e-6, NcclLink::ScaleUp).protocol == NcclProtocol::LL);
  // Large ones are bandwidth-bound: Simple carries data on the whole line.
  CHECK(nccl_ring_cost(NcclOp::AllReduce, 8, 4e9, nvlink, 1e-6, NcclLink::ScaleUp).protocol == NcclProtocol::Simple);
  // Somewhere between, LL128 (120 of 128 bytes, 2.5 us per step) is the fastest.
  bool ll128 = false;
  for (double b = 1024; b < 4e9; b *= 2)
    ll128 = ll128 || nccl_ring_cost(NcclOp::AllReduce, 8, b, nvlink, 1e-6, NcclLink::ScaleUp).protocol == NcclProtocol::LL128;
  CHECK(ll128);
  // The chosen protocol is the fastest of the three.
  for (double b : {1e3, 1e5, 1e7, 1e9}) {
    const double t = nccl_ring_cost(NcclOp::AllReduce, 8, b, nvlink, 1e-6, NcclLink::ScaleUp).seconds;
    for (NcclProtocol p : {NcclProtocol::LL, NcclProtocol::LL128, NcclProtocol::Simple})
      CHECK(t <= nccl_ring_seconds(NcclOp::AllReduce, 8, b, nvlink, 1e-6, NcclLink::ScaleUp, p));
  }
}

TEST_CASE("NCCL bus bandwidth rises with size to the calibrated share of the line rate", "[network]") {
  double last = 0;
  for (double b = 8; b <= 16e9; b *= 4) {
    const double t = nccl_ring_cost(NcclOp::AllReduce, 8, b, 450e9, 1e-6, NcclLink::ScaleUp).seconds;
    const double bus = nccl_allreduce_bus_bandwidth(8, b, t);
    CHECK(bus >= last);
    last = bus;
  }
  // nccl-tests issue #212: ~370 GB/s on 8 H100 with the ring (the calibration point).
  CHECK(last == Approx(370e9).epsilon(0.01));
  // LL carries 4 bytes of data in 8, and NCCL's model halves that again (busBw *= 1/4).
  CHECK(nccl_data_fraction(NcclProtocol::LL) == 0.25);
  CHECK(nccl_data_fraction(NcclProtocol::LL128) == Approx(120.0 / 128.0));
}

TEST_CASE("NCCL latency: base plus a per-step latency, the configured one where it is longer", "[network]") {
  // 1 byte over 2 ranks, Simple forced: 8.4 us base + 2 steps x 6.6 us on the network.
  const double t = nccl_ring_seconds(NcclOp::AllReduce, 2, 1, 50e9, 1e-6, NcclLink::ScaleOut, NcclProtocol::Simple);
  CHECK(t == Approx(8.4e-6 + 2 * 6.6e-6 + 1.0 / (50e9 * kNcclScaleOutEfficiency)));
  // Across regions (30 ms per step) the wide-area latency replaces NCCL's per-step figure.
  const double w = nccl_ring_seconds(NcclOp::AllReduce, 2, 1, 50e9, 30e-3, NcclLink::ScaleOut, NcclProtocol::Simple);
  CHECK(w == Approx(8.4e-6 + 2 * 30e-3).epsilon(1e-6));
  CHECK(nccl_ring_cost(NcclOp::AllReduce, 1, 1e9, 50e9, 1e-6, NcclLink::ScaleOut).seconds == 0);
  CHECK(nccl_ring_cost(NcclOp::SendRecv, 1, 1e9, 50e9, 1e-6, NcclLink::ScaleOut).seconds > 0);
}

TEST_CASE("NCCL bus efficiency: one per transport, NVLink's below the network cards'", "[network]") {
  // Issue 20 item 6: with one efficiency for both (NVLink's 0.822), three independent inter-node
  // measurements (0.92-0.96 of the cards' line rate) all missed by 15-22%.
  CHECK(nccl_bus_efficiency(NcclLink::ScaleUp) == Approx(370.0 / 450.0));
  CHECK(nccl_bus_efficiency(NcclLink::ScaleOut) > nccl_bus_efficiency(NcclLink::ScaleUp));
  // The scale-out calibration point, by hand: NVIDIA/nccl issue #812, 192 GB/s all-reduce bus
  // bandwidth across DGX A100 hosts with 8 x 200 Gb/s HDR (200 GB/s per host): 16 ranks over 1 GiB.
  const double bytes = 1073741824.0;
  const double t = nccl_ring_cost(NcclOp::AllReduce, 16, bytes, 200e9, 1e-6, NcclLink::ScaleOut).seconds;
  CHECK(nccl_allreduce_bus_bandwidth(16, bytes, t) == Approx(192e9).epsilon(0.005));
  // Judged (not fitted): nccl-tests #290, 46-48 GB/s per 400 Gb/s NDR card on 2 H100 hosts of 8 cards.
  const double ndr = nccl_ring_cost(NcclOp::AllReduce, 16, bytes, 400e9, 1e-6, NcclLink::ScaleOut).seconds;
  const double per_nic = nccl_allreduce_bus_bandwidth(16, bytes, ndr) / 8;
  CHECK(per_nic >= 46e9);
  CHECK(per_nic <= 48e9);
  // Inside NVLink the same message runs at NVLink's efficiency, whatever the network's.
  const double nv = nccl_ring_cost(NcclOp::AllReduce, 8, 4.3e9, 450e9, 1e-6, NcclLink::ScaleUp).seconds;
  CHECK(nccl_allreduce_bus_bandwidth(8, 4.3e9, nv) == Approx(370e9).epsilon(0.01));
}
