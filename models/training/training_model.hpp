// SPDX-License-Identifier: Apache-2.0
// TrainingModel: LLM training jobs on the fleet: placement through the gang scheduler, step time from
// the step model, checkpoints, failures and recovery, goodput. One entity per job, one engine event
// per state change in segment mode, one per step in step mode.
//
//   GangScheduler sched(fleet, engine, &failures);
//   TrainingModel training(spec, fleet, engine, recorder, sched, &failures, &failure_spec);
//   training.start();                 // submits jobs at their time (or after the job they follow)
//   engine.run(horizon);
//   training.write_summary();         // recorder.summary()["training"]
//
// Life of a job: Pending (not yet submitted) -> Queued (waiting for nodes) -> Recovering (launch or
// restart: detection, restart overhead, restore) -> Running -> ... -> Done. A failure of a node in
// the gang (any class that takes a GPU, node, rack or domain down, and link or switch failures on its
// rails, which stop NCCL) interrupts a Running or Recovering job, and so does a network partition that
// splits its placement (with a PlacementProbe: cause "network partition"): work since the last durable
// checkpoint is lost, and the job restarts after detection + restart + restore once it has a whole
// gang again: a hot spare, a free node (Spares), the repair (WaitRepair), or fewer DP replicas
// (ElasticShrink, regrowing when the repair comes). A full outage of a domain under the job pauses it
// or moves it (RecoveryPolicy::outage; a job pinned to a region stays in it). A job already waiting is
// not running, so nothing interrupts it again: a fault on its hosts joins what it waits for, and its
// down time stays with the cause that stopped it. Stragglers and network degradations change the pace
// at the next step boundary: a synchronous job runs at the speed of its slowest GPU.
//
// Running, in both fidelities: steps of T = step time x slowdown; every K steps a checkpoint stalls
// the job C (blocking: the write time; async: the snapshot) and becomes durable W after it starts.
// K = round(interval / T), the interval fixed or Young/Daly's for the placement's MTBF (expected from
// the failure spec, or updated by the failures observed), recomputed at every (re)start.
// Step mode schedules every step and checkpoint; segment mode evaluates the same schedule in closed
// form from the last state change (docs/training.md). Ties: an event at the instant of a step end,
// a stall end or a durability runs before it (Phase::Failure precedes Phase::Completion), so both
// modes count exactly the same steps.
//
// Outputs, each declared once in models/training/training_records.hpp: the table `training`
// (TrainingSample), a row per job every sample interval; events.jsonl "training_submit",
// "training_start", "training_interrupt", "training_resume", "training_shrink", "training_regrow",
// "training_move", "training_preempt", "training_done" (and "training_checkpoint" in step mode);
// summary "training" (TrainingSummary).
#pragma once

#include "models/failures/failure_model.hpp"
#include "models/failures/failure_spec.hpp"
#include "models/hardware/fleet.hpp"
#include "models/scheduler/gang_scheduler.hpp"
#include "models/training/placement_probe.hpp"
#include "models/training/step_model.hpp"
#include "models/training/training_spec.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace fleetsim {

enum class JobState : uint8_t { Pending, Queued, Recovering, Waiting, Running, Done };
std::string_view job_state_name(JobState s);  ///< "pending", "queued", "recovering", "waiting", "running", "done"

/// Time and work lost to one cause.
struct LossByCause {
  uint64_t interruptions = 0;
  double lost_s = 0;       ///< training time rolled back
  double lost_tokens = 0;
  double down_s = 0;       ///< detection + restart + restore + waiting
  /// The part of down_s during which the gang's hosts sat in a domain under a full outage, weighted by
  /// the share of hosts there: GPUs paid for but unusable, which the cost model already counts as the
  /// outage's paid_failed capacity (docs/cost.md), so not lost work on top.
  double dark_s = 0;
  bool outage = false;     ///< the cause is a scheduled outage (FailureSpec::outages), not a failure
};

struct JobStats {
  SimTime submitted, first_start, finished;
  bool started = false, done = false;
  uint64_t interruptions = 0, checkpoints = 0, shrinks = 0, regrows = 0, moves = 0, preemptions = 0;
  double running_s = 0;        ///< wall time in Running (closed segments)
  double stall_s = 0;          ///< checkpoint stalls (closed segments)
  double lost_s = 0;
  double lost_tokens = 0;
  double down_s = 0;
  double waiting_s = 0;        ///< part of down_s spent waiting for repair or an outage's end
  double dark_s = 0;           ///< part of down_s with the gang under a full outage (LossByCause::dark_s)
  double queued_s = 0;
  std::map<std::string, LossByCause, std::less<>> by_cause;
};

/// What a running job does on the fabric besides its collectives' bytes (for a FabricTraffic).
struct JobTraffic {
  double step_s = 0;              ///< the step at its current pace (slowdown included)
  double checkpoint_bytes = 0;    ///< written per checkpoint (0: none)
  double checkpoint_write_s = 0;  ///< how long one write lasts
  double checkpoint_cycle_s = 0;  ///< between checkpoint starts
  bool checkpoint_async = false;  ///< the writes go on while the job trains (else it stalls for them)
};

/// A network model that keeps every running job's traffic on one shared fabric (models/training/
/// shared_fabric_cost.hpp): it gives each job its CommCost and hears when the job runs, at which pace,
/// and when it stops. The training model re-costs the jobs the fabric names (TrainingModel::recost).
class FabricTraffic {
 public:
  virtual ~FabricTraffic() = default;
  virtual const CommCost& comm(size_t job) = 0;
  /// The job runs (or changed pace) on its current placement; called right after its step was costed.
  virtual void running(size_t job, const JobTraffic& traffic) = 0;
  /// The job stopped running (interrupted, preempted): its traffic leaves the fabric.
  virtual void stopped(size_t job) = 0;
  /// The job is done (or was ended while not running): it will not run again. Default: as stopped()
  /// when it was running.
  virtual void finished(size_t job, bool was_running) {
    if (was_running) stopped(job);
  }
};

class TrainingModel {
 public:
  /// `failures` (optional): the signal to hear failures on. `failure_spec` (optional): for the expected
  /// MTBF of a placement (Young/Daly); without it and without observed failures or a given MTBF, the
  /// interval falls back to the fixed one. `comm` (optional): a network model's collective costs;
  /// default alpha-beta. Throws std::invalid_argument if a job fails validate_job (message with the
  /// job name and the numbers).
  TrainingModel(const TrainingSpec& spec, Fleet& fleet, Engine& engine, Recorder& recorder, GangScheduler& scheduler,
                FailureModel* failures = nullptr, const FailureSpec* failure_spec = nullptr, const CommCost* comm = nullptr);
  ~TrainingModel();
  TrainingModel(const TrainingModel&) = delete;
  TrainingModel& operator=(const TrainingModel&) = delete;

  /// The network's answer to "is this placement still connected?" (optional; not owned, must outlive
  /// the model). With a probe, a link or switch failure re-checks every running job: a split one is
  /// interrupted with cause "network partition" and waits until the probe reports it connected again
  /// (re-checked at link and switch repairs, and when recovery gives it another placement). A job
  /// about to (re)start on a split placement waits too.
  void set_placement_probe(PlacementProbe* probe);

  /// The fabric changed outside the fleet's components (fabric links failed or came back, models/
  /// network/fabric_failures.hpp), after the router has seen it: with a probe, running jobs whose
  /// placement is split are interrupted ("network partition") and split jobs that are whole again
  /// resume; running jobs re-cost their step (the CommCost sees the new fabric) from the next step on.
  /// `recost_all` false: only the partition checks; the jobs whose links changed are re-costed through
  /// recost() by a FabricTraffic that knows which they are.
  void on_fabric_change(bool recost_all = true);

  /// Costs every job's collectives through `traffic` (not owned, must outlive the model) instead of the
  /// CommCost given at construction, and reports to it when jobs run and stop.
  void set_fabric_traffic(FabricTraffic* traffic);
  /// Re-costs the step of these running jobs (their links' load changed) from the next step on.
  void recost(std::span<const size_t> jobs);

  void start();
  /// Writes recorder.summary()["training"] as of engine.now().
  void write_summary();

  size_t jobs() const;
  JobState state(size_t job) const;
  /// Tokens of the model's current state (rolled back on failure) as of now.
  double tokens_trained(size_t job) const;
  /// Tokens of the last durable checkpoint as of now.
  double tokens_committed(size_t job) const;
  /// Counters of closed runs; in segment mode `checkpoints` leaves out the run still open (see
  /// checkpoints() for the figure as of now).
  const JobStats& stats(size_t job) const;
  /// Checkpoints started and checkpoint stall time as of now, the same in both fidelities: segment
  /// mode adds the run still open, evaluated in closed form.
  uint64_t checkpoints(size_t job) const;
  double checkpoint_stall_s(size_t job) const;
  /// Time spent waiting (JobStats::waiting_s) as of now, a wait still open included.
  double waiting_s(size_t job) const;
  /// Effective training time ratio as of now: (training time - lost) / (now - first start).
  double ettr(size_t job) const;
  /// The nominal step (full DP, no slowdown) on the first placement; zero-initialized before a start.
  const StepBreakdown& nominal_step(size_t job) const;
  /// Steps per checkpoint and the checkpoint interval of the current run.
  uint64_t steps_per_checkpoint(size_t job) const;
  Duration step_duration(size_t job) const;
  uint32_t active_dp(size_t job) const;
  /// The job's allocation in the scheduler (kNoAllocation before its first submission): which nodes
  /// it holds, for the cost model.
  AllocationId allocation(size_t job) const;
  uint64_t events_scheduled() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fleetsim
