// SPDX-License-Identifier: Apache-2.0
// Re-routed requests on the WAN: what failover and spill-over send between regions, averaged over each
// sample interval and published to the WanFabric (wan_fabric.hpp), which loads the WAN links with it.
#include "models/inference/service.hpp"

#include <algorithm>

namespace fleetsim {

/// A request served away from home: its prompt goes out and its output comes back.
void InferenceModel::Service::add_wan_bytes(uint32_t from, uint32_t to, double prompt_tokens, double output_tokens) {
  if (m.options_.wan_fabric == nullptr || from == to) return;
  const size_t n = regions.size();
  if (wan_bytes_since_sample.size() != n * n) wan_bytes_since_sample.assign(n * n, 0.0);
  const double out = prompt_tokens * kWanBytesPerToken, back = output_tokens * kWanBytesPerToken;
  wan_bytes_since_sample[from * n + to] += out;
  wan_bytes_since_sample[to * n + from] += back;
  stats.wan_bytes += out + back;
}

/// The interval's bytes per region pair go onto the WAN as average rates. Nothing re-routed, now or
/// in the last interval: nothing to publish (the ledger is not touched, so no job is re-costed).
void InferenceModel::Service::publish_wan_traffic(double interval_s) {
  WanFabric* wan = m.options_.wan_fabric;
  if (wan == nullptr || interval_s <= 0) return;
  std::vector<WanFlow> flows;
  const size_t n = regions.size();
  double total = 0;
  for (size_t i = 0; i < wan_bytes_since_sample.size(); ++i) {
    const double b = wan_bytes_since_sample[i];
    if (b <= 0) continue;
    flows.push_back({static_cast<uint32_t>(i / n), static_cast<uint32_t>(i % n), b / interval_s});
    total += b / interval_s;
  }
  std::fill(wan_bytes_since_sample.begin(), wan_bytes_since_sample.end(), 0.0);
  stats.wan_peak_bytes_per_s = std::max(stats.wan_peak_bytes_per_s, total);
  if (flows.empty() && !wan_published) return;
  wan->publish(index, flows);
  wan_published = !flows.empty();
}

}  // namespace fleetsim
