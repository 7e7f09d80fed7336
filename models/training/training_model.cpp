// SPDX-License-Identifier: Apache-2.0
// The public TrainingModel: sets the jobs up, starts them and forwards to its state (training_impl.hpp,
// which lists the files of each concern).
#include "models/training/training_model.hpp"

#include "models/training/training_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace fleetsim {

std::string_view job_state_name(JobState s) {
  switch (s) {
    case JobState::Pending: return "pending";
    case JobState::Queued: return "queued";
    case JobState::Recovering: return "recovering";
    case JobState::Waiting: return "waiting";
    case JobState::Running: return "running";
    case JobState::Done: return "done";
  }
  return "?";
}

TrainingModel::Impl::Impl(const TrainingSpec& s, Fleet& f, Engine& e, Recorder& r, GangScheduler& sch,
                          FailureModel* fm, const FailureSpec* fs, const CommCost* c)
    : spec(s), fleet(f), engine(e), recorder(r), scheduler(sch), failures(fm), failure_spec(fs), comm(c) {
  kinds.submit = engine.register_kind("training-submit");
  kinds.step = engine.register_kind("training-step");
  kinds.stall_end = engine.register_kind("training-ckpt-end");
  kinds.done = engine.register_kind("training-done");
  kinds.resume = engine.register_kind("training-resume");
  kinds.sample = engine.register_kind("training-sample");
  for (size_t i = 0; i < spec.jobs.size(); ++i) {
    const std::string err = validate_job(spec.jobs[i]);
    if (!err.empty()) throw std::invalid_argument(fmt::format("training job \"{}\": {}", spec.jobs[i].name, err));
    Job j;
    j.spec = spec.jobs[i];
    j.index = i;
    j.memory = memory_per_gpu(j.spec);
    const uint64_t gpus_per_node = std::max<uint32_t>(1, j.spec.hardware.gpus_per_node);
    const uint64_t replica_gpus = uint64_t{j.spec.parallel.tp} * j.spec.parallel.pp * j.spec.parallel.cp;
    j.replica_nodes = static_cast<uint32_t>(std::max<uint64_t>(1, (replica_gpus + gpus_per_node - 1) / gpus_per_node));
    jobs.push_back(std::move(j));
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i].spec.after.empty()) continue;
    bool found = false;
    for (size_t k = 0; k < jobs.size(); ++k)
      if (k != i && jobs[k].spec.name == jobs[i].spec.after) {
        jobs[k].followers.push_back(i);
        found = true;
      }
    if (!found)
      throw std::invalid_argument(fmt::format("training job \"{}\": follows unknown job \"{}\"", jobs[i].spec.name, jobs[i].spec.after));
  }
  // Without a network model, each job's collectives are costed by its own hardware's alpha-beta model.
  for (const Job& j : jobs) {
    alphabeta.push_back(std::make_unique<AlphaBetaCommCost>(j.spec.hardware));
    own_fallback.push_back(std::make_unique<OwnFallback>(alphabeta.back().get()));
  }
}

EventHandle TrainingModel::Impl::schedule(SimTime t, Phase phase, EventFn fn, EventKind kind) {
  ++events_scheduled;
  return engine.schedule_at(t, phase, std::move(fn), kind);
}

EventHandle TrainingModel::Impl::schedule_job(const Job& j, SimTime t, Phase phase, JobHandler handler, EventKind kind) {
  const size_t i = j.index;
  return schedule(t, phase, [this, i, handler] {
    Job& job = jobs[i];
    // An error in the handler names the job (sim/error.hpp); free unless something throws.
    with_entity([&] { (this->*handler)(job); }, [&] { return "job " + job.spec.name; });
  }, kind);
}

void TrainingModel::Impl::start() {
  if (started) throw std::logic_error("TrainingModel::start called twice");
  started = true;
  table = recorder.table<TrainingSample>(spec.table);
  if (failures != nullptr) failures->on_event.connect([this](const FailureEvent& e) { on_failure(e); });
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (!jobs[i].spec.after.empty()) continue;
    const SimTime t = std::max(now(), jobs[i].spec.submit);
    schedule_job(jobs[i], t, Phase::Arrival, &Impl::submit, kinds.submit);
  }
  if (spec.sample_interval > Duration::zero() && !jobs.empty())
    sample_event = schedule(now() + spec.sample_interval, Phase::Sample, [this] { sample(); }, kinds.sample);
}

// ------------------------------------------------------------------ TrainingModel

TrainingModel::TrainingModel(const TrainingSpec& spec, Fleet& fleet, Engine& engine, Recorder& recorder,
                             GangScheduler& scheduler, FailureModel* failures, const FailureSpec* failure_spec,
                             const CommCost* comm)
    : impl_(std::make_unique<Impl>(spec, fleet, engine, recorder, scheduler, failures, failure_spec, comm)) {}
TrainingModel::~TrainingModel() = default;
void TrainingModel::set_placement_probe(PlacementProbe* probe) { impl_->probe = probe; }

void TrainingModel::on_fabric_change(bool recost_all) {
  Impl& m = *impl_;
  if (m.probe != nullptr) {
    m.check_split("fabric", "network");
    m.check_whole();
  }
  if (recost_all)
    for (auto& j : m.jobs) m.repace(j, true);
}
void TrainingModel::set_fabric_traffic(FabricTraffic* traffic) { impl_->traffic = traffic; }
void TrainingModel::recost(std::span<const size_t> jobs) {
  for (size_t j : jobs) impl_->repace(impl_->jobs.at(j), true);
}
void TrainingModel::start() { impl_->start(); }
void TrainingModel::write_summary() { impl_->write_summary(); }
size_t TrainingModel::jobs() const { return impl_->jobs.size(); }
JobState TrainingModel::state(size_t job) const { return impl_->jobs.at(job).state; }
double TrainingModel::tokens_trained(size_t job) const { return impl_->tokens_now(impl_->jobs.at(job)); }
double TrainingModel::tokens_committed(size_t job) const { return impl_->committed_now(impl_->jobs.at(job)); }
const JobStats& TrainingModel::stats(size_t job) const { return impl_->jobs.at(job).stats; }
uint64_t TrainingModel::checkpoints(size_t job) const { return impl_->checkpoints_now(impl_->jobs.at(job)); }
double TrainingModel::checkpoint_stall_s(size_t job) const { return impl_->stall_s_now(impl_->jobs.at(job)); }
double TrainingModel::waiting_s(size_t job) const {
  const auto& j = impl_->jobs.at(job);
  return j.stats.waiting_s + (j.state == JobState::Waiting ? (impl_->now() - j.wait_since).seconds() : 0.0);
}
double TrainingModel::ettr(size_t job) const { return impl_->ettr(impl_->jobs.at(job)); }
const StepBreakdown& TrainingModel::nominal_step(size_t job) const { return impl_->jobs.at(job).nominal; }
uint64_t TrainingModel::steps_per_checkpoint(size_t job) const { return impl_->jobs.at(job).anchor.steps_per_checkpoint; }
Duration TrainingModel::step_duration(size_t job) const { return Duration::ns(impl_->jobs.at(job).anchor.step_ns); }
uint32_t TrainingModel::active_dp(size_t job) const { return impl_->jobs.at(job).dp_active; }
AllocationId TrainingModel::allocation(size_t job) const { return impl_->jobs.at(job).allocation; }
uint64_t TrainingModel::events_scheduled() const { return impl_->events_scheduled; }

}  // namespace fleetsim
