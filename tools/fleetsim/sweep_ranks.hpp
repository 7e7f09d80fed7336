// SPDX-License-Identifier: Apache-2.0
// The processes of a sweep: one, or the ranks of an MPI job when fleetsim is built with
// -DFLEETSIM_MPI=ON and started by mpirun (or srun). Rank r runs the runs i with i % ranks == r, each
// into the shared sweep directory; rank 0 gathers every run's outcome and writes the tables.
//
//   Ranks ranks;                                   // MPI_Init only when launched by an MPI launcher
//   auto mine = runs_of_rank(plan, ranks.rank(), ranks.size());
//   auto all = ranks.gather(run_parallel(mine, jobs, ...));   // every outcome on rank 0, empty elsewhere
//
// A binary built with MPI and started without a launcher is a plain single process: no MPI_Init, so
// `fleetsim run` and a local `fleetsim sweep` behave exactly as without MPI.
#pragma once

#include "tools/sweep/runner.hpp"

#include <string>
#include <vector>

namespace fleetsim::cli {

class Ranks {
 public:
  Ranks();
  ~Ranks();
  Ranks(const Ranks&) = delete;
  Ranks& operator=(const Ranks&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }

  /// Rank 0's value, on every rank.
  int broadcast(int value) const;
  /// Every rank's text, in rank order, on every rank (a planner's batch of results: each rank runs its
  /// share and all go on with the same search).
  std::vector<std::string> allgather(const std::string& local) const;
  /// On rank 0: every rank's outcomes, sorted by run index. On other ranks: empty.
  std::vector<sweep::RunOutcome> gather(std::vector<sweep::RunOutcome> local) const;

  /// True when built with MPI support (for --help and `fleetsim version`).
  static bool built_with_mpi();
  /// Started by mpirun with more than one process, but built without MPI: every process would run the
  /// whole sweep into the same directory, so the sweep refuses to start.
  bool launched_without_support() const { return launched_without_support_; }

 private:
  int rank_ = 0;
  int size_ = 1;
  bool initialized_ = false;
  bool launched_without_support_ = false;
};

}  // namespace fleetsim::cli
