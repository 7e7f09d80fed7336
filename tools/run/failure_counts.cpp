// SPDX-License-Identifier: Apache-2.0
#include "tools/run/failure_counts.hpp"

#include "models/failures/failure_records.hpp"

#include <algorithm>

namespace fleetsim {

FailureCounts::FailureCounts(Recorder& recorder, SimTime horizon)
    : rec_(recorder), width_(std::max<int64_t>(1, horizon.ticks() / kBuckets)) {
  connection_ = rec_.events_of<ComponentFailure>().connect([this](SimTime t, const ComponentFailure& e) {
    region_.assign(e.path.substr(0, e.path.find('/')));
    cls_.assign(e.component_class);
    if (cls_.empty()) cls_ = "other";
    // A map keyed by strings: failures are a small share of events, and buckets x regions x classes
    // stay in the thousands.
    ++counts_[{t.ticks() / width_, region_, cls_}];
  });
}

FailureCounts::~FailureCounts() { rec_.events_of<ComponentFailure>().disconnect(connection_); }

void FailureCounts::write() {
  if (counts_.empty()) return;
  const auto t = rec_.table<FailureCountRow>();
  for (const auto& [key, n] : counts_) {
    const auto& [bucket, region, cls] = key;
    rec_.row(t, FailureCountRow{.time_ns = bucket * width_, .region = region, .component_class = cls, .failures = n});
  }
}

}  // namespace fleetsim
