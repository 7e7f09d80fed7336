// SPDX-License-Identifier: Apache-2.0
// Evaluating a plan's candidates: one candidate (a value for every decision variable) runs every
// variant the plan names over replications with common random numbers (replication r of every
// candidate uses the same seed, as a sweep does), in memory and in parallel; the figures over seeds
// decide feasibility and the objective.
//
//   Evaluator ev(spec, "scenarios/s.json", load_options, /*base_seed=*/42, /*jobs=*/2, &interrupt);
//   ev.on_run = [&](const RunRecord& r) { candidates_csv.append(r); };
//   Assessment a = ev.evaluate({json(12), json("H100")});   // a.feasible, a.objective, a.constraints
//
// Seeds are spent where they decide: a candidate first runs seeds_min replications; while a
// constraint's 95% interval still contains its bound, the count doubles up to seeds_max. A candidate
// clearly inside or outside every bound stops early.
#pragma once

#include "models/scenario/load_scenario.hpp"
#include "tools/planner/plan_spec.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace fleetsim::planner {

using Values = std::vector<nlohmann::json>;  ///< one per decision variable, in the plan's order

/// The cache key of a candidate: each value's compact JSON, tab-separated.
std::string candidate_key(const Values& values);

/// One simulation run of one candidate, variant and replication: a row of candidates.csv.
struct RunRecord {
  std::string key;
  Values values;
  size_t variant = 0;
  size_t replication = 0;
  uint64_t seed = 0;
  bool ok = false;
  std::string error;            ///< why the run failed (load error, simulation error)
  std::vector<double> metrics;  ///< PlanSpec::metrics() order; NaN where the summary has no number
};

struct Figure {
  double value = 0;             ///< the constraint's or objective's statistic over seeds
  double half_width = 0;        ///< of the 95% interval of the mean over seeds (NaN with one seed)
  size_t variant = 0;           ///< for a constraint over several variants: the one closest to failing
  bool satisfied = true;        ///< constraints only
  bool clear = false;           ///< the interval lies entirely on one side of the bound
};

struct Assessment {
  bool ran = false;             ///< every run succeeded
  bool feasible = false;        ///< ran, and every constraint holds
  bool certain = false;         ///< every constraint is clear (or no more seeds may be spent)
  size_t seeds = 0;
  std::string error;            ///< the first failed run's error
  Figure objective;
  Figure second;
  std::vector<Figure> constraints;
};

/// Thrown out of a search when SIGINT (or --max-evaluations) stops it; the runs done so far stay in
/// candidates.csv.
struct SearchStopped : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One step of the search's path: a candidate and what was known of it when it was evaluated.
struct PathEntry {
  size_t index = 0;             ///< evaluation number (0, 1, ...)
  Values values;
  Assessment assessment;
  std::string phase;            ///< "bisect replicas", "nlopt", "halving", "final", "grid"
};

/// What a search asks of its evaluator: a candidate's assessment, and the path so far. Evaluator runs
/// simulations; the search's tests give a known function instead (tests/planner/test_frontier.cpp).
class Candidates {
 public:
  virtual ~Candidates() = default;
  virtual Assessment evaluate(const Values& values, const std::string& phase, size_t at_least_seeds) = 0;
  virtual const std::vector<PathEntry>& path() const = 0;
  /// Runs the first round of several candidates at once (the search's parallel probes), so that the
  /// evaluate() calls that follow find them done. Without it, each is run when evaluated.
  virtual void prefetch(const std::vector<Values>& candidates) { (void)candidates; }
};

class Evaluator : public Candidates {
 public:
  Evaluator(const PlanSpec& spec, std::string scenario_path, LoadOptions base, uint64_t base_seed, size_t jobs,
            const std::atomic<bool>* interrupt);

  /// Adaptive evaluation (see the header comment); the result is appended to path(). Counts against
  /// max_evaluations the first time a candidate is seen; throws SearchStopped when the budget is spent
  /// or the run is interrupted.
  /// `at_least_seeds` raises the first round's replications (successive halving, the final check).
  Assessment evaluate(const Values& values, const std::string& phase, size_t at_least_seeds = 0) override;
  /// The first round (seeds_min replications of every variant a figure needs) of each candidate, in
  /// one batch over the threads and ranks.
  void prefetch(const std::vector<Values>& candidates) override;
  /// The candidate over exactly `seeds` replications (running only what is missing).
  Assessment assess(const Values& values, size_t seeds);

  /// Spreads every batch of runs over processes (the ranks of `mpirun -np K fleetsim plan`): this one
  /// runs every `ranks`-th run of a batch from `rank` on, and `allgather` (every process's text in
  /// rank order, on every process) shares the results, so every process goes on with the same search
  /// and the same candidates; on_run then sees every run of the batch, in the batch's order.
  void distribute(int rank, int ranks, std::function<std::vector<std::string>(const std::string&)> allgather);

  /// Makes an earlier run known without running it (--resume).
  void preload(RunRecord record);
  /// Called after each new run, one call at a time (candidates.csv appends a row).
  std::function<void(const RunRecord&)> on_run;

  const std::vector<PathEntry>& path() const override { return path_; }
  size_t candidates() const { return candidates_; }
  size_t runs() const { return runs_; }
  /// Runs this process simulated itself (with distribute(): its share of runs()).
  size_t runs_here() const { return runs_here_; }
  size_t reused() const { return reused_; }
  uint64_t seed_of(size_t replication) const;
  /// The --set overrides that make a candidate (variables in order).
  std::vector<Override> overrides(const Values& values) const;

 private:
  void run_missing(const Values& values, const std::vector<std::pair<size_t, size_t>>& wanted);
  void run_batch(const std::vector<std::pair<Values, std::vector<std::pair<size_t, size_t>>>>& batch);
  /// Exchanges a batch's results between ranks (records at `mine` were run here); returns whether any
  /// rank was interrupted, so that every rank stops together.
  bool share(std::vector<RunRecord>& batch, const std::vector<size_t>& mine, bool stopped) const;
  int rank_ = 0, ranks_ = 1;
  std::function<std::vector<std::string>(const std::string&)> allgather_;
  Figure figure(const std::vector<double>& per_seed, const OverSeeds& over) const;
  std::vector<double> metric_over_seeds(const std::string& key, size_t metric, size_t variant, size_t seeds) const;

  const PlanSpec& spec_;
  std::string scenario_path_;
  LoadOptions base_;
  uint64_t base_seed_;
  size_t jobs_;
  const std::atomic<bool>* interrupt_;
  std::vector<std::string> metrics_;
  std::vector<size_t> needed_variants_;
  std::map<std::string, std::map<std::pair<size_t, size_t>, RunRecord>> cache_;  // key -> (variant, rep)
  std::vector<PathEntry> path_;
  size_t candidates_ = 0, runs_ = 0, reused_ = 0, runs_here_ = 0;
  std::map<std::string, bool> seen_;
};

}  // namespace fleetsim::planner
