// SPDX-License-Identifier: Apache-2.0
// A sweep's plan: the Cartesian product of --param values (cells) times --repeat replications (runs),
// numbered in a fixed order, each run with its own seed.
//
//   std::vector<Param> params = {parse_param("/fleet/regions/0/zones/0/datacenters/0/racks=4,8")};
//   Plan plan = make_plan(params, /*repeat=*/3, /*base_seed=*/42);
//   // plan.runs.size() == 6; plan.runs[4] is cell 1 (racks=8), replication 1
//
// Numbering: cells in the order of nested loops over the parameters, the first --param outermost
// (OMNeT++'s order); replications innermost. Run i is cell i / repeat, replication i % repeat.
//
// Seeds: replication 0 runs with the cell's scenario seed (after --seed, --set and the cell's values),
// so a one-replication sweep reproduces `fleetsim run`; replication r >= 1 runs with
// replication_seed(seed, r), a SplitMix64 hash of the pair. Every cell uses the same seed for the same
// replication (common random numbers: a difference between cells is the parameters', not the dice's),
// unless /seed is itself a parameter, which gives each cell its own seeds.
#pragma once

#include "models/scenario/load_scenario.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim::sweep {

/// One --param POINTER=V1,V2,...: values are split at commas outside brackets, braces and quotes, so
/// JSON arrays and objects can be values (--param '/failures/presets=["a"],["a","b"]').
struct Param {
  std::string pointer;
  std::vector<std::string> values;
};

/// Throws std::invalid_argument with a usage message for text that is not POINTER=V1[,V2...].
Param parse_param(std::string_view text);

struct PlannedRun {
  size_t index = 0;
  size_t cell = 0;
  size_t replication = 0;
  uint64_t seed = 0;
};

struct Plan {
  std::vector<Param> params;
  size_t repeat = 1;
  uint64_t base_seed = 0;              ///< the scenario's seed without any --param
  std::vector<uint64_t> cell_seeds;    ///< each cell's scenario seed (differs only if /seed is a --param)
  size_t cells = 1;
  std::vector<PlannedRun> runs;

  /// Value index of parameter p in cell c.
  size_t value_index(size_t cell, size_t p) const;
  /// The overrides that make cell c: one per parameter.
  std::vector<Override> cell_overrides(size_t cell) const;
  /// "/a=1 /b=x" (empty for a sweep without parameters): names a cell in tables and messages.
  std::string cell_label(size_t cell) const;
};

/// The seed of replication r of a sweep whose scenario seed is `base` (see the header comment).
/// Always below 2^63: scenario seeds are JSON integers read as int64.
uint64_t replication_seed(uint64_t base, size_t replication);

/// `cell_seeds`: each cell's scenario seed (check_sweep finds them); empty: base_seed for every cell.
Plan make_plan(std::vector<Param> params, size_t repeat, uint64_t base_seed,
               std::vector<uint64_t> cell_seeds = {});

/// "run 3: cell 1 (/a=2), replication 0, seed 42" lines for --list.
std::string format_plan(const Plan& plan);

/// Run directories are runs/000, runs/001, ...: at least three digits, more when there are more runs,
/// so names sort in run order.
std::string run_directory_name(size_t index, size_t run_count);

}  // namespace fleetsim::sweep
