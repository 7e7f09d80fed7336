// SPDX-License-Identifier: Apache-2.0
// Small fabrics for the network tests.
#pragma once

#include "models/network/collectives.hpp"
#include "models/network/flow_model.hpp"
#include "models/network/topology.hpp"

#include <memory>

namespace fleetsim::test {

constexpr double kPort = 50e9;  // 400 Gb/s

/// One cluster of `gpus` single-GPU hosts, ToR attached, no scale-up.
inline ClusterSpec tor_cluster(uint32_t gpus, uint32_t radix, uint32_t tiers, double leaf_over = 1,
                               double spine_over = 1, Duration latency = Duration::ns(500)) {
  ClusterSpec c;
  c.name = "c";
  c.gpus = gpus;
  c.gpus_per_host = 1;
  c.scale_up.gpus_per_domain = 1;
  c.scale_out.attach = Attach::Tor;
  c.scale_out.tiers = tiers;
  c.scale_out.radix = radix;
  c.scale_out.port_bytes_per_s = kPort;
  c.scale_out.leaf_oversubscription = leaf_over;
  c.scale_out.spine_oversubscription = spine_over;
  c.scale_out.link_latency = latency;
  return c;
}

/// Everything one flow-level run needs.
struct Fabric {
  Topology topo;
  Router router;
  Engine engine;
  FlowModel flows;
  explicit Fabric(const NetworkSpec& spec) : topo(build_topology(spec)), router(topo), flows(topo, router, engine) {}
  explicit Fabric(const ClusterSpec& c) : Fabric(NetworkSpec{{c}, {}, {}}) {}
  VertexId gpu(uint32_t i) const { return topo.endpoint(0, i); }
  std::vector<double> capacities() const {
    std::vector<double> cap(topo.directed_edges());
    for (EdgeIndex e = 0; e < cap.size(); ++e) cap[e] = flows.capacity(e);
    return cap;
  }
  void run() { engine.run(SimTime::max()); }
};

}  // namespace fleetsim::test
