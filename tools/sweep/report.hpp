// SPDX-License-Identifier: Apache-2.0
// A sweep's tables: runs.csv (one row per run: parameters, status, metrics), cells.csv (per cell and
// metric: n, mean, standard deviation, 95% confidence interval) and sweep.json (the plan, each run's
// status, and the cells' statistics, for `fleetsim compare` and scripts). Formats: docs/sweeps.md.
//
//   SweepReport r = make_report(spec.plan, outcomes, metric_selectors);
//   write_report(spec, r);   // runs.csv, cells.csv, then sweep.json last
#pragma once

#include "tools/sweep/metrics.hpp"
#include "tools/sweep/runner.hpp"
#include "tools/sweep/stats.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace fleetsim::sweep {

struct SweepReport {
  std::vector<std::string> metric_names;  ///< columns of runs.csv, in order of first appearance
  std::string runs_csv;
  std::string cells_csv;
  nlohmann::json sweep_json;
  size_t ok = 0, failed = 0, not_run = 0;  ///< interrupted runs count as not run
  /// One line per --metric that selected nothing in any finished run, with a did-you-mean.
  std::vector<std::string> warnings;
};

/// `outcomes` holds one outcome per run of the plan, in any order.
SweepReport make_report(const SweepSpec& spec, std::vector<RunOutcome> outcomes,
                        const std::vector<std::string>& metric_selectors);

/// Writes runs.csv, cells.csv and sweep.json (last, so its presence marks a finished sweep) atomically
/// into spec.directory. Throws OutputError.
void write_report(const SweepSpec& spec, const SweepReport& report);

}  // namespace fleetsim::sweep
