// SPDX-License-Identifier: Apache-2.0
// What the training model publishes, each record declared once (sim/record.hpp): the events of
// events.jsonl, the `training` table's row and summary.json's "training" object. The writers make
// the files from these descriptions; the trace, the event levels and the report read these names.
//
//   recorder.publish(now, TrainingDone{.job = j.spec.name, .tokens = t, .interruptions = n, .ettr = e});
//   rec.events_of<TrainingDone>().connect([](SimTime t, const TrainingDone& e) { ... e.job ... });
#pragma once

#include "sim/record.hpp"
#include "sim/time.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace fleetsim {

// ---- events (events.jsonl), in the order a job meets them

/// A job enters the gang scheduler's queue.
struct TrainingSubmit {
  static constexpr std::string_view kind = "training_submit";
  std::string_view job;
  uint64_t gpus = 0;
  std::string_view layout;  ///< "TP8 PP4 DP16" style (layout_name)
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingSubmit::job), field("gpus", &TrainingSubmit::gpus),
                      field("layout", &TrainingSubmit::layout)};
  }
};

/// A job is placed for the first time.
struct TrainingStart {
  static constexpr std::string_view kind = "training_start";
  std::string_view job;
  uint64_t gpus = 0;
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingStart::job), field("gpus", &TrainingStart::gpus)};
  }
};

/// A job runs again (first start, restart, move, shrink, regrow) at a pace.
struct TrainingResume {
  static constexpr std::string_view kind = "training_resume";
  std::string_view job;
  uint32_t dp = 0;
  double step_s = 0;
  uint64_t checkpoint_every_steps = 0;
  double tokens = 0;  ///< committed tokens it resumes from
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingResume::job), field("dp", &TrainingResume::dp),
                      field("step_s", &TrainingResume::step_s),
                      field("checkpoint_every_steps", &TrainingResume::checkpoint_every_steps),
                      field("tokens", &TrainingResume::tokens)};
  }
};

/// A failure, partition or outage stops a job.
struct TrainingInterrupt {
  static constexpr std::string_view kind = "training_interrupt";
  std::string_view job;
  std::string_view cause;
  std::string_view component_class;  ///< the failed component's class ("gpu", "node", ...)
  std::string_view path;
  std::string_view state;            ///< the job's state after the interruption
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingInterrupt::job), field("cause", &TrainingInterrupt::cause),
                      field("class", &TrainingInterrupt::component_class), field("path", &TrainingInterrupt::path),
                      field("state", &TrainingInterrupt::state)};
  }
};

/// Inference takes a job's capacity (GangScheduler preemption).
struct TrainingPreempt {
  static constexpr std::string_view kind = "training_preempt";
  std::string_view job;
  double tokens = 0;  ///< committed tokens kept
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingPreempt::job), field("tokens", &TrainingPreempt::tokens)};
  }
};

/// A checkpoint becomes durable (step mode).
struct TrainingCheckpoint {
  static constexpr std::string_view kind = "training_checkpoint";
  std::string_view job;
  double tokens = 0;
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingCheckpoint::job), field("tokens", &TrainingCheckpoint::tokens)};
  }
};

/// A job moves its gang to another region.
struct TrainingMove {
  static constexpr std::string_view kind = "training_move";
  std::string_view job;
  std::string_view region;
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingMove::job), field("region", &TrainingMove::region)};
  }
};

/// A job drops DP replicas to run on what is left (elastic recovery).
struct TrainingShrink {
  static constexpr std::string_view kind = "training_shrink";
  std::string_view job;
  uint32_t dp = 0;
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingShrink::job), field("dp", &TrainingShrink::dp)};
  }
};

/// A shrunk job gets its full DP back.
struct TrainingRegrow {
  static constexpr std::string_view kind = "training_regrow";
  std::string_view job;
  uint32_t dp = 0;
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingRegrow::job), field("dp", &TrainingRegrow::dp)};
  }
};

/// A job reaches its total tokens.
struct TrainingDone {
  static constexpr std::string_view kind = "training_done";
  std::string_view job;
  double tokens = 0;
  uint64_t interruptions = 0;
  double ettr = 0;
  static constexpr auto fields() {
    return std::tuple{field("job", &TrainingDone::job), field("tokens", &TrainingDone::tokens),
                      field("interruptions", &TrainingDone::interruptions), field("ettr", &TrainingDone::ettr)};
  }
};

// ---- the `training` table (training.csv): a row per job every sample interval

struct TrainingSample {
  static constexpr std::string_view table = "training";
  SimTime time;
  std::string_view job;
  std::string_view state;
  double tokens = 0;
  double tokens_committed = 0;
  int64_t dp = 0;
  double step_time_s = 0;  ///< 0 unless running
  double ettr = 0;
  static constexpr auto fields() {
    return std::tuple{field("time_ns", &TrainingSample::time),
                      field("job", &TrainingSample::job),
                      field("state", &TrainingSample::state),
                      field("tokens", &TrainingSample::tokens),
                      field("tokens_committed", &TrainingSample::tokens_committed),
                      field("dp", &TrainingSample::dp),
                      field("step_time_s", &TrainingSample::step_time_s),
                      field("ettr", &TrainingSample::ettr)};
  }
};

// ---- summary.json "training"

/// Full communication times of one step, by parallelism dimension.
struct TrainingCommSeconds {
  double tp = 0, pp = 0, dp = 0, ep = 0, cp = 0;
  static constexpr auto fields() {
    return std::tuple{field("tp", &TrainingCommSeconds::tp), field("pp", &TrainingCommSeconds::pp),
                      field("dp", &TrainingCommSeconds::dp), field("ep", &TrainingCommSeconds::ep),
                      field("cp", &TrainingCommSeconds::cp)};
  }
};

/// What one cause of interruptions cost a job.
struct TrainingLossSummary {
  uint64_t interruptions = 0;
  double lost_s = 0;
  double lost_tokens = 0;
  double down_s = 0;
  double dark_s = 0;
  bool outage = false;
  static constexpr auto fields() {
    return std::tuple{field("interruptions", &TrainingLossSummary::interruptions),
                      field("lost_s", &TrainingLossSummary::lost_s),
                      field("lost_tokens", &TrainingLossSummary::lost_tokens),
                      field("down_s", &TrainingLossSummary::down_s), field("dark_s", &TrainingLossSummary::dark_s),
                      field("outage", &TrainingLossSummary::outage)};
  }
};

/// One job's entry, as of the end of the run. The nominal step's figures are there once the job
/// ran on a whole gang; started_s and finished_s are null until they happen, so the keys are there
/// from the first event on (`fleetsim plan` checks a metric against a one-event probe run).
struct TrainingJobSummary {
  std::string_view state;
  uint64_t gpus = 0;
  std::string layout;
  std::string_view accelerator;
  double memory_per_gpu_bytes = 0;
  double tokens_target = 0;
  double tokens_trained = 0;
  bool complete = false;
  Nullable<double> step_time_s, tokens_per_s, mfu, pipeline_bubble_fraction, compute_s, exposed_comm_s;
  Nullable<TrainingCommSeconds> comm_s;
  Nullable<double> dp_bus_bandwidth_bytes_per_s, mfu_effective, goodput;
  Nullable<double> step_time_current_s;  ///< on a shared fabric, the pace now (running jobs)
  double elapsed_s = 0;
  double queued_s = 0;
  Nullable<double> started_s, finished_s;
  double ettr = 0;
  uint64_t interruptions = 0;
  uint64_t checkpoints = 0;
  Nullable<double> checkpoint_interval_s;
  double lost_s = 0, lost_tokens = 0, down_s = 0, waiting_s = 0, dark_s = 0, checkpoint_stall_s = 0;
  uint64_t shrinks = 0, regrows = 0, moves = 0, preemptions = 0;
  Keyed<TrainingLossSummary> by_cause;
  static constexpr auto fields() {
    using S = TrainingJobSummary;
    return std::tuple{field("state", &S::state),
                      field("gpus", &S::gpus),
                      field("layout", &S::layout),
                      field("accelerator", &S::accelerator),
                      field("memory_per_gpu_bytes", &S::memory_per_gpu_bytes),
                      field("tokens_target", &S::tokens_target),
                      field("tokens_trained", &S::tokens_trained),
                      field("complete", &S::complete),
                      field_if("step_time_s", &S::step_time_s),
                      field_if("tokens_per_s", &S::tokens_per_s),
                      field_if("mfu", &S::mfu),
                      field_if("pipeline_bubble_fraction", &S::pipeline_bubble_fraction),
                      field_if("compute_s", &S::compute_s),
                      field_if("exposed_comm_s", &S::exposed_comm_s),
                      field_if("comm_s", &S::comm_s),
                      field_if("dp_bus_bandwidth_bytes_per_s", &S::dp_bus_bandwidth_bytes_per_s),
                      field_if("mfu_effective", &S::mfu_effective),
                      field_if("goodput", &S::goodput),
                      field_if("step_time_current_s", &S::step_time_current_s),
                      field("elapsed_s", &S::elapsed_s),
                      field("queued_s", &S::queued_s),
                      field("started_s", &S::started_s),
                      field("finished_s", &S::finished_s),
                      field("ettr", &S::ettr),
                      field("interruptions", &S::interruptions),
                      field("checkpoints", &S::checkpoints),
                      field_if("checkpoint_interval_s", &S::checkpoint_interval_s),
                      field("lost_s", &S::lost_s),
                      field("lost_tokens", &S::lost_tokens),
                      field("down_s", &S::down_s),
                      field("waiting_s", &S::waiting_s),
                      field("dark_s", &S::dark_s),
                      field("checkpoint_stall_s", &S::checkpoint_stall_s),
                      field("shrinks", &S::shrinks),
                      field("regrows", &S::regrows),
                      field("moves", &S::moves),
                      field("preemptions", &S::preemptions),
                      field("by_cause", &S::by_cause)};
  }
};

struct TrainingSchedulerSummary {
  uint64_t preemptions = 0;
  uint64_t backfilled = 0;
  uint64_t queued = 0;
  static constexpr auto fields() {
    return std::tuple{field("preemptions", &TrainingSchedulerSummary::preemptions),
                      field("backfilled", &TrainingSchedulerSummary::backfilled),
                      field("queued", &TrainingSchedulerSummary::queued)};
  }
};

struct TrainingSummary {
  static constexpr std::string_view key = "training";
  Keyed<TrainingJobSummary> jobs;
  double tokens_trained = 0;
  uint64_t interruptions = 0;
  double lost_s = 0;
  double down_s = 0;
  double ettr = 0;
  TrainingSchedulerSummary scheduler;
  static constexpr auto fields() {
    return std::tuple{field("jobs", &TrainingSummary::jobs), field("tokens_trained", &TrainingSummary::tokens_trained),
                      field("interruptions", &TrainingSummary::interruptions), field("lost_s", &TrainingSummary::lost_s),
                      field("down_s", &TrainingSummary::down_s), field("ettr", &TrainingSummary::ettr),
                      field("scheduler", &TrainingSummary::scheduler)};
  }
};

}  // namespace fleetsim
