// SPDX-License-Identifier: Apache-2.0
// FailureCounts: failures per time bucket, region and class, counted while the run publishes them and
// written as failure_counts.csv at the end (docs/outputs.md). report.html draws its failure bars from
// this small table, so it needs neither every failure in events.jsonl (left out below --events all)
// nor a second pass over that file (issue 21: re-reading the 38B run's events.jsonl was 39% of it).
//
//   FailureCounts counts(recorder, horizon);   // before the World publishes anything
//   ... run ...
//   counts.write();                            // declares and fills the table; before recorder.finish
#pragma once

#include "sim/record.hpp"
#include "sim/recorder.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

namespace fleetsim {

/// A row of failure_counts.csv: failures of a class in a region during one bucket.
struct FailureCountRow {
  static constexpr std::string_view table = "failure_counts";
  int64_t time_ns = 0;  ///< the bucket's start
  std::string_view region;
  std::string_view component_class;  ///< "other" when the failure named none
  int64_t failures = 0;
  static constexpr auto fields() {
    return std::tuple{field("time_ns", &FailureCountRow::time_ns), field("region", &FailureCountRow::region),
                      field("class", &FailureCountRow::component_class),
                      field("failures", &FailureCountRow::failures)};
  }
};

class FailureCounts {
 public:
  /// Buckets of horizon / kBuckets (at least 1 ns); the report regroups them into its own.
  static constexpr int64_t kBuckets = 400;
  FailureCounts(Recorder& recorder, SimTime horizon);
  ~FailureCounts();
  FailureCounts(const FailureCounts&) = delete;
  FailureCounts& operator=(const FailureCounts&) = delete;

  /// Writes failure_counts.csv (time_ns of the bucket's start, region, class, failures), one row per
  /// non-empty (bucket, region, class) in that order; nothing when the run had no failures.
  void write();
  int64_t bucket_ns() const { return width_; }

 private:
  Recorder& rec_;
  int64_t width_;
  Connection connection_;
  std::map<std::tuple<int64_t, std::string, std::string>, int64_t> counts_;
  std::string region_, cls_;  // reused keys
};

}  // namespace fleetsim
