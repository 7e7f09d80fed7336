// SPDX-License-Identifier: Apache-2.0
// Internal to models/training: TrainingModel's state, one Job record per training job. Its member
// functions are defined by concern in
//   training_model.cpp    set-up, start, the public class's forwarding
//   placement.cpp         submission to the gang scheduler, start and preemption, the placement's shape
//                         and communication groups
//   pace.cpp              the step on the current placement (network, stragglers, shared fabric) and
//                         pace changes (re-anchoring at the next step boundary)
//   run.cpp               a run from resume to stop or completion, step mode's step events
//   checkpoints.cpp       the checkpoint interval (fixed, Young/Daly), step mode's checkpoints, the
//                         latest durable checkpoint, checkpoint figures as of now
//   interruptions.cpp     failures and repairs reaching jobs, network partitions
//   recovery.cpp          how a stopped job gets a whole gang again: move, spares, free hosts, shrink
//   outages.cpp           dark time: down time with the gang's hosts under a full outage
//   training_output.cpp   the sample rows, the summary JSON, ETTR and tokens as of now
// and the closed-form schedule is pure functions in schedule.hpp. Not part of the installed API
// (cmake/FleetsimPackage.cmake leaves it out): only training_model.hpp's sources include it.
#pragma once

#include "models/training/checkpoint.hpp"
#include "models/training/schedule.hpp"
#include "models/training/training_model.hpp"
#include "models/training/training_records.hpp"
#include "sim/error.hpp"

#include <boost/container/flat_map.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleetsim {

struct TrainingModel::Impl {
  struct Job {
    TrainingJobSpec spec;
    size_t index = 0;
    JobState state = JobState::Pending;
    AllocationId allocation = kNoAllocation;
    JobStats stats;
    StepBreakdown nominal;  ///< full DP, no slowdown, on the first placement
    bool has_nominal = false;
    MemoryBreakdown memory;
    uint32_t replica_nodes = 1;  ///< hosts of one model replica (TP x PP x CP GPUs)
    uint32_t dp_active = 0;
    std::vector<char> replica_active;  ///< per DP replica: in the gang (elastic shrink drops replicas)
    // ---- pace
    StepBreakdown step;          ///< at the current layout, without slowdown
    double slowdown = 1;         ///< the slowest GPU's factor
    double network_factor = 1;   ///< the degraded network's bandwidth share
    PlacementShape shape;
    PlacementCounts counts;
    bool shape_dirty = true;
    Duration checkpoint_interval;
    // ---- the run (segment mode: the anchor; step mode: the anchor's pace and the counters below)
    RunAnchor anchor;
    std::optional<RunAnchor> superseded;  ///< the anchor before a pending re-anchor (t <= anchor.start)
    CheckpointMark committed;             ///< the checkpoint a restart resumes from
    std::vector<CheckpointMark> carried;  ///< checkpoints started under superseded anchors
    SimTime run_start;
    int64_t stall_total_ns = 0;  ///< stall up to the current anchor (segment mode) or now (step mode)
    // ---- step mode
    uint64_t steps = 0;
    double tokens = 0;
    uint64_t steps_since_checkpoint = 0;
    bool in_stall = false;
    SimTime stall_start;
    std::optional<CheckpointMark> checkpoint_in_flight;
    EventHandle run_event;     ///< the next step or stall end (step mode), the completion (segment mode)
    EventHandle resume_event;
    // ---- recovery
    SimTime down_since;
    std::string cause;
    bool planned = false;      ///< the current stop is planned (launch, preemption, regrow): no failure
    SimTime wait_since;
    double dark_share = 0;     ///< share of the gang's hosts under a full outage (dark_fraction), as of dark_accrued_to
    SimTime dark_accrued_to;   ///< dark time is accrued up to here
    bool shrunk = false;
    bool partitioned = false;  ///< the probe found the placement split: no restart until it is whole
    /// node -> faults not yet repaired. A flat map (sorted, contiguous): recovery asks it about every
    /// hot spare of a job for every fault, and at the flagship's scale most spares are faulty hosts
    /// swapped out earlier, so a lookup must not chase a tree's pointers.
    boost::container::flat_map<uint32_t, uint32_t> open_faults;
    /// Where the next search for a healthy hot spare starts (a node id; the spares list is sorted):
    /// just after the last spare taken, so the failed hosts swapped into the list behind it are looked
    /// at again only after every other spare (most are repaired by then).
    uint32_t next_spare = 0;
    uint64_t failures_seen = 0;
    std::vector<size_t> followers;  ///< jobs submitted when this one completes
  };

  /// A network cost model asked on behalf of one job, with that job's alpha-beta model as the answer
  /// for groups the network cannot cost (each job's own NIC rate, not the first job's).
  struct OwnFallback final : CommCost {
    explicit OwnFallback(const CommCost* own) : own_(own) {}
    const CommCost* net = nullptr;
    double seconds(Collective c, double bytes, const CommGroup& g) const override {
      CommGroup h = g;
      h.fallback = own_;
      return net->seconds(c, bytes, h);
    }
    const CommCost* own_;
  };

  /// The event kinds the model registers (their names are in the fingerprint).
  struct Kinds {
    EventKind submit{}, step{}, stall_end{}, done{}, resume{}, sample{};
  };

  Impl(const TrainingSpec& s, Fleet& f, Engine& e, Recorder& r, GangScheduler& sch, FailureModel* fm,
       const FailureSpec* fs, const CommCost* c);

  const TrainingSpec spec;
  Fleet& fleet;
  Engine& engine;
  Recorder& recorder;
  GangScheduler& scheduler;
  FailureModel* failures;
  const FailureSpec* failure_spec;
  const CommCost* comm;  ///< the network's collective costs given at construction (nullptr: alpha-beta)
  std::vector<std::unique_ptr<AlphaBetaCommCost>> alphabeta;  ///< per job
  std::vector<std::unique_ptr<OwnFallback>> own_fallback;    ///< per job
  std::vector<Job> jobs;
  std::vector<int32_t> job_of_allocation;  ///< allocation id -> job index (-1: not a training job)
  TableOf<TrainingSample> table;
  Kinds kinds;
  EventHandle sample_event;
  uint64_t events_scheduled = 0;
  bool started = false;
  PlacementProbe* probe = nullptr;
  std::vector<NodeId> probe_nodes;  ///< scratch: the active nodes of a shrunk gang
  FabricTraffic* traffic = nullptr;
  std::vector<std::pair<size_t, NodeId>> reached;  ///< scratch: (job, node) pairs a fault reaches

  SimTime now() const { return engine.now(); }
  bool step_mode(const Job& j) const { return j.spec.fidelity == Fidelity::Step; }
  EventHandle schedule(SimTime t, Phase phase, EventFn fn, EventKind kind);
  /// An event for job `j` running `handler` on it; an exception from the handler names the job.
  using JobHandler = void (Impl::*)(Job&);
  EventHandle schedule_job(const Job& j, SimTime t, Phase phase, JobHandler handler, EventKind kind);
  const GangScheduler::Allocation& allocation_of(const Job& j) const { return scheduler.allocation(j.allocation); }
  bool has_hosts(const Job& j) const {
    return j.state != JobState::Done && j.state != JobState::Pending && j.state != JobState::Queued;
  }
  void start();

  // placement.cpp
  void submit(Job& j);
  void on_started(size_t i);
  void on_preempt(size_t i);
  bool node_active(const Job& j, NodeId n) const;
  void update_shape(Job& j);
  void layout_groups(Job& j, const std::vector<NodeId>& nodes, size_t stage_nodes);

  // pace.cpp
  const CommCost& comm_of(const Job& j) const;
  void report_traffic(const Job& j);
  double placement_network_factor(const Job& j) const;
  double slowest(const Job& j) const;
  StepBreakdown compute_step(Job& j);
  Duration paced_step(const Job& j) const;
  void repace(Job& j, bool recost = false);
  void repace_at(Job& j, bool recost);

  // run.cpp
  void schedule_resume(Job& j);
  void resume(Job& j);
  RunAnchor plan_run(Job& j, Duration step, double remaining_tokens);
  void step_end(Job& j);
  RunPosition position(const Job& j, SimTime t) const;
  bool reanchor_pending(const Job& j, SimTime t) const { return j.superseded && t <= j.anchor.start; }
  void stop(Job& j, std::string_view cause, bool planned, bool outage = false);
  void close_run(Job& j, std::string_view cause, bool planned);
  void finish(Job& j);

  // checkpoints.cpp
  Duration checkpoint_interval(Job& j, Duration stall);
  double failure_rate_per_s(const Job& j, const CheckpointPolicy& policy) const;
  void start_checkpoint(Job& j);
  void stall_end(Job& j);
  CheckpointMark best_committed(const Job& j, SimTime t, const RunPosition& p) const;
  void carry_checkpoints(Job& j, const RunPosition& p, SimTime t);
  uint64_t checkpoints_now(const Job& j) const;
  double stall_s_now(const Job& j) const;

  // interruptions.cpp
  void on_failure(const FailureEvent& e);
  void on_fault(const FailureEvent& e);
  void interrupt_hit_jobs(const FailureEvent& e);
  void clear_faults();
  void record_interrupt(const Job& j, std::string_view cause, std::string_view cls, std::string_view path);
  void affected(ComponentRef c, std::vector<std::pair<size_t, NodeId>>& out) const;
  bool placement_connected(const Job& j);
  void check_split(const FailureEvent& e);
  void check_split(std::string_view cls, std::string_view path);
  void check_whole();

  // recovery.cpp
  void recover(Job& j, bool move = false, std::optional<RegionId> away = std::nullopt);
  bool move_away(Job& j, std::optional<RegionId> away);
  void replace_faulty_nodes(Job& j, std::vector<NodeId>& faulty);
  bool shrink_to_healthy_replicas(Job& j, const std::vector<NodeId>& faulty);
  void regrow(Job& j);
  void use_full_dp(Job& j);
  std::vector<NodeId> gang_faults(const Job& j) const;
  bool new_datacenter(const Job& j, NodeId n) const;
  bool healthy_spare(const Job& j, NodeId s) const;

  // outages.cpp
  double dark_fraction(const Job& j) const;
  void accrue_dark(Job& j);
  void refresh_dark(Job& j);
  void update_dark(const std::vector<std::pair<size_t, NodeId>>& where);

  // training_output.cpp
  double ettr(const Job& j) const;
  double tokens_now(const Job& j) const;
  double committed_now(const Job& j) const;
  void sample();
  void write_summary();
  TrainingJobSummary job_summary(const Job& j, double elapsed, double ettr_now, double tokens) const;
};

}  // namespace fleetsim
