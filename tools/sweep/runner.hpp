// SPDX-License-Identifier: Apache-2.0
// Running a sweep's runs: checking every cell loads before anything runs, one run from its plan entry
// to its directory, and a pool of threads over a list of runs.
//
//   SweepSpec spec{.scenario_path = "s.json", .plan = make_plan(params, 3, seed), .directory = "out/s"};
//   auto outcomes = run_parallel(all_runs(spec.plan), /*jobs=*/2,
//                                [&](size_t i) { return run_one(spec, spec.plan.runs[i], nullptr); });
//
// Threads share nothing but the plan (read only) and the outcome slots (one per run): simulate() builds
// its own Engine, RngStreams, Recorder and World, and the models keep no mutable global state (only
// function-local `static const` tables, whose initialisation C++ makes thread-safe). A run's outputs
// are a function of its scenario and seed alone, so they are byte-identical whatever -j or the MPI
// rank that ran it.
#pragma once

#include "models/scenario/load_scenario.hpp"
#include "tools/sweep/plan.hpp"

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace fleetsim::sweep {

struct SweepSpec {
  std::string scenario_path;
  LoadOptions base;                  ///< --set, --seed, --until: applied to every run before its cell
  Plan plan;
  std::filesystem::path directory;   ///< the sweep directory; run i writes runs/<run_directory_name(i)>
  std::string command_line;          ///< for each run's manifest.json
  /// Each run writes what the sweep aggregates (summary.json, resolved.json, manifest.json) and no
  /// tables or events.jsonl, unless this is set (`fleetsim sweep --keep-outputs`): a sweep of the 38B
  /// flagship would otherwise write hundreds of MB per run.
  bool keep_outputs = false;
};

enum class RunStatus { Ok, Failed, Interrupted, NotRun };
std::string_view to_string(RunStatus s);

struct RunOutcome {
  size_t index = 0;
  RunStatus status = RunStatus::NotRun;
  int exit_code = 0;           ///< what `fleetsim run` would have returned for this run
  std::string error;           ///< the message, for failed runs
  std::string summary_text;    ///< summary.json as written, for ok runs
};

/// Loads the scenario with each --param value and with each cell, and checks every pointer names a
/// value the scenario has (after defaults are filled in). Returns every problem, each naming the
/// --param, the pointer and the value; empty when the sweep can run. Throws InputError when the
/// scenario file cannot be read and ScenarioError when it is invalid without any parameter.
/// `base_seed` receives the scenario's seed after --seed and --set, and `cell_seeds` (when given and
/// there are no problems) each cell's seed, which differs from it only when /seed is a --param.
std::vector<std::string> check_sweep(const std::string& scenario_path, const LoadOptions& base,
                                     const std::vector<Param>& params, uint64_t& base_seed,
                                     std::vector<uint64_t>* cell_seeds = nullptr);

/// Loads and simulates one run into its directory. Never throws: a failure becomes an outcome with
/// the exit code `fleetsim run` documents (65, 66, 70, 73, 74; 130 when interrupted).
RunOutcome run_one(const SweepSpec& spec, const PlannedRun& run, const std::atomic<bool>* interrupt);

std::filesystem::path run_directory(const SweepSpec& spec, size_t index);

/// Every run index of the plan, and the ones rank `rank` of `ranks` takes (i % ranks == rank).
std::vector<size_t> all_runs(const Plan& plan);
std::vector<size_t> runs_of_rank(const Plan& plan, int rank, int ranks);

/// Runs fn(i) for each index on `jobs` threads (jobs >= 1; 1 runs on the calling thread), each index
/// once. A run that throws is recorded as failed (exit 70) and the others go on. When `interrupt`
/// becomes true, runs not yet started are left NotRun. `on_done` is called for each finished run, one
/// call at a time. Outcomes come back in the order of `indices`.
std::vector<RunOutcome> run_parallel(const std::vector<size_t>& indices, size_t jobs,
                                     const std::function<RunOutcome(size_t)>& fn,
                                     const std::atomic<bool>* interrupt = nullptr,
                                     const std::function<void(const RunOutcome&)>& on_done = {});

}  // namespace fleetsim::sweep
