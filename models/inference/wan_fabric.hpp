// SPDX-License-Identifier: Apache-2.0
// WanFabric: the WAN under a service's requests that fail over or spill over to another region (issue
// 14, "one fabric carries all traffic"). In a scenario with a network whose sites are the service's
// regions and the shared costing, the world implements it over the shared-fabric ledger (models/network/
// fabric_load.hpp): each region pair's traffic is a stream between the two sites' WAN routers, so the
// WAN links it crosses carry it beside everyone else's load.
//
//   WanFabric* wan = options.wan_fabric;    // none: re-routed requests only add the spec's round trip
//   wan->publish(service, flows);           // every sample_interval: average bytes/s per region pair
//
// What a re-routed request carries: its prompt to the serving region and its output back, as text at
// kWanBytesPerToken (docs/inference.md). The KV cache does not travel: the serving region prefills.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace fleetsim {

/// Bytes of text per token on the wire: about four characters of English per token, one byte each in
/// UTF-8 [A] (a tokenizer rule of thumb; docs/inference.md). Headers and TLS framing are not counted.
inline constexpr double kWanBytesPerToken = 4.0;

/// Average traffic from one of the service's regions to another (indexes into the service's regions).
struct WanFlow {
  uint32_t from_region = 0;
  uint32_t to_region = 0;
  double bytes_per_s = 0;
};

class WanFabric {
 public:
  virtual ~WanFabric() = default;
  /// Replaces the service's cross-region traffic on the WAN (averages over the last sample interval);
  /// an empty span takes it off.
  virtual void publish(size_t service, std::span<const WanFlow> flows) = 0;
};

}  // namespace fleetsim
