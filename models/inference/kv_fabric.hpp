// SPDX-License-Identifier: Apache-2.0
// KvFabric: the network under a service's prefill -> decode KV-cache transfers (issue 14, "one fabric
// carries all traffic"). In a scenario with a network and the shared costing, the world implements it
// over the shared-fabric ledger (models/network/fabric_load.hpp): each transfer gets the rate the loaded
// fabric leaves one flow on its path, and the service's KV traffic loads the links, so the training jobs
// that cross them are re-costed.
//
//   KvFabric* kv = options.kv_fabric;                          // none: the spec's kv_transfer_bandwidth
//   const double bw = std::min(spec_bw, kv->bandwidth(service, src_gpu, dst_gpu));   // 0: not on the fabric
//   kv->publish(service, flows);                               // every sample_interval: average bytes/s
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace fleetsim {

/// Average KV traffic from one prefill replica's first GPU to one decode replica's first GPU.
struct KvFlow {
  uint32_t src_gpu = 0;
  uint32_t dst_gpu = 0;
  double bytes_per_s = 0;
};

class KvFabric {
 public:
  virtual ~KvFabric() = default;
  /// Bytes/s one transfer from GPU `src_gpu` to GPU `dst_gpu` gets on the fabric now, given everyone
  /// else's load; 0 when the fabric does not map both GPUs or has no route (the spec's bandwidth applies).
  virtual double bandwidth(size_t service, uint32_t src_gpu, uint32_t dst_gpu) = 0;
  /// Replaces the service's KV traffic on the fabric (averages over the last sample interval).
  virtual void publish(size_t service, std::span<const KvFlow> flows) = 0;
};

}  // namespace fleetsim
