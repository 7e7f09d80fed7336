// SPDX-License-Identifier: Apache-2.0
#include "tools/run/failure_counts.hpp"

#include <algorithm>

namespace fleetsim {

FailureCounts::FailureCounts(Recorder& recorder, SimTime horizon)
    : rec_(recorder), width_(std::max<int64_t>(1, horizon.ticks() / kBuckets)) {
  connection_ = rec_.on_event.connect([this](const PublishedEvent& e) {
    if (e.kind != "failure") return;
    const std::string_view path = e.text("path");
    region_.assign(path.substr(0, path.find('/')));
    cls_.assign(e.text("class"));
    if (cls_.empty()) cls_ = "other";
    // A map keyed by strings: failures are a small share of events, and buckets x regions x classes
    // stay in the thousands.
    ++counts_[{e.time.ticks() / width_, region_, cls_}];
  });
}

FailureCounts::~FailureCounts() { rec_.on_event.disconnect(connection_); }

void FailureCounts::write() {
  if (counts_.empty()) return;
  const TableId t = rec_.table("failure_counts", {"time_ns", "region", "class", "failures"});
  for (const auto& [key, n] : counts_) {
    const auto& [bucket, region, cls] = key;
    rec_.row(t, bucket * width_, region, cls, n);
  }
}

}  // namespace fleetsim
