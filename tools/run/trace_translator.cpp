// SPDX-License-Identifier: Apache-2.0
#include "tools/run/trace_translator.hpp"

#include "models/cost/cost_records.hpp"
#include "models/failures/failure_records.hpp"
#include "models/hardware/capacity_records.hpp"
#include "models/inference/inference_records.hpp"
#include "models/training/training_records.hpp"
#include "sim/jsonl_writer.hpp"

#include <cmath>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace fleetsim {

std::optional<TraceLevel> parse_trace_level(std::string_view text) {
  if (text == "none") return TraceLevel::None;
  if (text == "summary") return TraceLevel::Summary;
  if (text == "jobs") return TraceLevel::Jobs;
  if (text == "all") return TraceLevel::All;
  return std::nullopt;
}

std::string_view trace_level_name(TraceLevel level) {
  switch (level) {
    case TraceLevel::None: return "none";
    case TraceLevel::Summary: return "summary";
    case TraceLevel::Jobs: return "jobs";
    case TraceLevel::All: return "all";
  }
  return "none";
}

namespace {

std::string_view region_of(std::string_view path) { return path.substr(0, path.find('/')); }

// One argument of a slice: the record's field as events.jsonl has it (the same cell conversion).
void put_arg(JsonObjectWriter& obj, std::string_view key, const CellView& v) {
  switch (v.type()) {
    case CellView::Type::Null: obj.field_null(key); break;
    case CellView::Type::Bool: obj.field(key, v.as_bool()); break;
    case CellView::Type::Int: obj.field(key, v.as_int()); break;
    case CellView::Type::Double: obj.field(key, v.as_double()); break;
    case CellView::Type::String: obj.field(key, v.as_string()); break;
  }
}

double number(const CellView& c) {
  if (c.type() == CellView::Type::Int) return static_cast<double>(c.as_int());
  if (c.type() == CellView::Type::Double) return c.as_double();
  return std::nan("");
}
template <class T>
double number(const T& v) {
  return number(record_detail::cell(v));
}

}  // namespace

// What the models publish reaches the translator as their records (sim/record.hpp): each handler
// reads the struct, and a slice's arguments are fields named by the record's own description.
struct TraceTranslator::Impl {
  struct Lane {
    TrackId track;
    std::string holder;  // outage or straggler name occupying the lane; empty when free
  };
  struct Region {
    uint32_t pid = 0;
    std::vector<Lane> outages, stragglers;
    TrackId failures, fleet;
    std::unordered_map<std::string, TrackId> services;
    std::unordered_map<std::string, CounterId> counters;  // by "<what>\0<name>"
  };

  Recorder& rec;
  TraceWriter& w;
  TraceLevel level;
  std::vector<std::function<void()>> disconnects;
  uint32_t training_pid = 0;
  uint32_t fleet_pid = 0;
  CounterId fleet_spend;
  std::unordered_map<std::string, TrackId> jobs;
  std::unordered_map<std::string, Region> regions;
  std::string args, key, name, episode;  // reused buffers
  int next_sort = 10;

  Impl(Recorder& r, TraceLevel l) : rec(r), w(*r.trace()), level(l) {
    on_event<OutageStart>(&Impl::outage_start);
    on_event<OutageEnd>(&Impl::outage_end);
    on_event<ComponentFailure>(&Impl::failure);
    on_event<ComponentRepair>(&Impl::repair);
    on_event<StragglerStart>(&Impl::straggler_start<StragglerStart>);
    on_event<ProcessStragglerStart>(&Impl::straggler_start<ProcessStragglerStart>);
    on_event<StragglerEnd>(&Impl::straggler_end<StragglerEnd>);
    on_event<ProcessStragglerEnd>(&Impl::straggler_end<ProcessStragglerEnd>);
    on_event<CapacityInstall>(&Impl::capacity<CapacityInstall>);
    on_event<CapacityRetire>(&Impl::capacity<CapacityRetire>);
    on_event<InferenceScaleUp>(&Impl::scale<InferenceScaleUp>);
    on_event<InferenceScaleDown>(&Impl::scale<InferenceScaleDown>);
    on_event<TrainingSubmit>(&Impl::training_submit);
    on_event<TrainingStart>(&Impl::training_start);
    on_event<TrainingResume>(&Impl::training_resume);
    on_event<TrainingInterrupt>(&Impl::training_interrupt);
    on_event<TrainingPreempt>(&Impl::training_preempt);
    on_event<TrainingDone>(&Impl::training_done);
    on_event<TrainingShrink>(&Impl::training_dp<TrainingShrink>);
    on_event<TrainingRegrow>(&Impl::training_dp<TrainingRegrow>);
    on_event<TrainingMove>(&Impl::training_move);
    on_event<TrainingCheckpoint>(&Impl::training_checkpoint);
    on_row<FleetStateSample>(&Impl::fleet_state_row);
    on_row<InferenceSample>(&Impl::inference_row);
    on_row<CostSample>(&Impl::cost_row);
  }
  ~Impl() {
    for (auto& d : disconnects) d();
  }

  template <class R>
  void on_event(void (Impl::*handler)(SimTime, const R&)) {
    auto& sig = rec.events_of<R>();
    const Connection c = sig.connect([this, handler](SimTime t, const R& e) { (this->*handler)(t, e); });
    disconnects.emplace_back([&sig, c] { sig.disconnect(c); });
  }
  template <class R>
  void on_row(void (Impl::*handler)(const R&)) {
    auto& sig = rec.rows_of<R>();
    const Connection c = sig.connect([this, handler](const R& r) { (this->*handler)(r); });
    disconnects.emplace_back([&sig, c] { sig.disconnect(c); });
  }

  // A slice's args: the named members of the record, under their field names, in this order.
  template <auto... Members, class R>
  const std::string& args_of(const R& r) {
    args.clear();
    JsonObjectWriter obj(args);
    (put_arg(obj, member_name<Members>(), record_detail::cell(r.*Members)), ...);
    obj.close();
    return args;
  }

  bool at_least(TraceLevel l) const { return level >= l; }

  Region& region(std::string_view rname) {
    key.assign(rname);
    auto it = regions.find(key);
    if (it != regions.end()) return it->second;
    Region& r = regions[key];
    r.pid = w.process("region " + key, next_sort++);
    return r;
  }

  TrackId job_track(std::string_view job) {
    key.assign(job);
    auto it = jobs.find(key);
    if (it != jobs.end()) return it->second;
    if (training_pid == 0) training_pid = w.process("training jobs", 1);
    const TrackId t = w.track(training_pid, job);
    jobs.emplace(key, t);
    return t;
  }

  TrackId service_track(Region& r, std::string_view service) {
    key.assign(service);
    auto it = r.services.find(key);
    if (it != r.services.end()) return it->second;
    const TrackId t = w.track(r.pid, "service " + key);
    r.services.emplace(key, t);
    return t;
  }

  TrackId failures_track(Region& r) {
    if (!r.failures.valid()) r.failures = w.track(r.pid, "failures");
    return r.failures;
  }

  CounterId counter(Region& r, std::string_view what, std::string_view label) {
    key.assign(what);
    key += '\0';
    key += label;
    auto it = r.counters.find(key);
    if (it != r.counters.end()) return it->second;
    std::string display(label);
    display += ' ';
    display += what;
    const CounterId c = w.counter_track(r.pid, display);
    r.counters.emplace(key, c);
    return c;
  }

  // A free lane of a lane set (outages, stragglers), creating "<label>", "<label> 2" ... as needed.
  Lane& take_lane(Region& r, std::vector<Lane>& lanes, std::string_view label, std::string_view holder) {
    for (auto& l : lanes) {
      if (l.holder.empty()) {
        l.holder.assign(holder);
        return l;
      }
    }
    std::string track_name(label);
    if (!lanes.empty()) track_name += " " + std::to_string(lanes.size() + 1);
    lanes.push_back(Lane{w.track(r.pid, track_name), std::string(holder)});
    return lanes.back();
  }

  Lane* find_lane(std::vector<Lane>& lanes, std::string_view holder) {
    for (auto& l : lanes)
      if (!holder.empty() && l.holder == holder) return &l;
    return nullptr;
  }

  // ---- failures, outages, stragglers, capacity

  void outage_start(SimTime t, const OutageStart& e) {
    if (!at_least(TraceLevel::Summary)) return;
    Region& r = region(region_of(e.path));
    Lane& lane = take_lane(r, r.outages, "outages", e.outage);
    name = "outage ";
    name += e.outage_kind;
    using S = OutageStart;
    w.begin(lane.track, t, name, "outage",
            args_of<&S::outage, &S::path, &S::cause, &S::outage_kind, &S::network_factor, &S::duration>(e));
  }

  void outage_end(SimTime t, const OutageEnd& e) {
    if (!at_least(TraceLevel::Summary)) return;
    Region& r = region(region_of(e.path));
    if (Lane* lane = find_lane(r.outages, e.outage)) {
      w.end(lane->track, t);
      lane->holder.clear();
    }
  }

  // Level all only: a 7-year fleet run has ~10^5-10^6 component failures; at level jobs the ones
  // that matter show as the "interrupted: <cause>" slices of the jobs they hit.
  void failure(SimTime t, const ComponentFailure& e) {
    if (!at_least(TraceLevel::All)) return;
    Region& r = region(region_of(e.path));
    name.assign(e.component_class);
    name += ": ";
    name += e.cause;
    using S = ComponentFailure;
    w.instant(failures_track(r), t, name, "failure",
              args_of<&S::path, &S::component_class, &S::cause, &S::process, &S::duration>(e));
  }

  void repair(SimTime t, const ComponentRepair& e) {
    if (!at_least(TraceLevel::All)) return;
    Region& r = region(region_of(e.path));
    name = "repair ";
    name += e.component_class;
    using S = ComponentRepair;
    w.instant(failures_track(r), t, name, "repair", args_of<&S::path, &S::component_class, &S::cause, &S::duration>(e));
  }

  // A scheduled straggler holds its lane by name until its end; an episode of a straggler process
  // holds it by process and component (one component is slow at most once at a time per process),
  // so its end closes the slice it opened and frees the lane for the next episode.
  std::string& episode_key(std::string_view process, std::string_view path) {
    episode.assign(process);
    episode += '\x1f';
    episode += path;
    return episode;
  }

  template <class R>
  void straggler_start(SimTime t, const R& e) {
    if (!at_least(TraceLevel::All)) return;
    Region& r = region(region_of(e.path));
    if constexpr (std::is_same_v<R, StragglerStart>) {
      Lane& lane = take_lane(r, r.stragglers, "stragglers", e.straggler);
      w.begin(lane.track, t, "straggler", "straggler", args_of<&R::path, &R::cause, &R::slowdown, &R::duration>(e));
    } else {
      Lane& lane = take_lane(r, r.stragglers, "stragglers", episode_key(e.process, e.path));
      w.begin(lane.track, t, "straggler", "straggler", args_of<&R::path, &R::cause, &R::duration>(e));
    }
  }

  template <class R>
  void straggler_end(SimTime t, const R& e) {
    if (!at_least(TraceLevel::All)) return;
    Region& r = region(region_of(e.path));  // the region's process appears even when nothing closes
    if constexpr (std::is_same_v<R, StragglerEnd>) {
      if (Lane* lane = find_lane(r.stragglers, e.straggler)) {
        w.end(lane->track, t);
        lane->holder.clear();
      }
    } else if (Lane* lane = find_lane(r.stragglers, episode_key(e.process, e.path))) {
      w.end(lane->track, t);
      lane->holder.clear();
    }
  }

  template <class R>
  void capacity(SimTime t, const R& e) {
    if (!at_least(TraceLevel::All)) return;
    Region& r = region(region_of(e.path));
    if (!r.fleet.valid()) r.fleet = w.track(r.pid, "fleet changes");
    w.instant(r.fleet, t, R::kind, "capacity", args_of<&R::path, &R::component_class, &R::gpus>(e));
  }

  // ---- inference

  template <class R>
  void scale(SimTime t, const R& e) {
    if (!at_least(TraceLevel::Jobs)) return;
    Region& r = region(e.region);
    // "scale_up" / "scale_down": the kind without the model's prefix.
    const std::string_view slice = R::kind.substr(std::string_view("inference_").size());
    if constexpr (std::is_same_v<R, InferenceScaleUp>) {
      w.instant(service_track(r, e.service), t, slice, "inference", args_of<&R::replicas, &R::gpus, &R::ready_in_ns>(e));
    } else {
      w.instant(service_track(r, e.service), t, slice, "inference", args_of<&R::replicas>(e));
    }
  }

  // ---- training: a job's track shows one state at a time

  // The job's track (made on its first event at level jobs), or nothing below that level.
  std::optional<TrackId> training_track(std::string_view job) {
    if (!at_least(TraceLevel::Jobs) || job.empty()) return std::nullopt;
    return job_track(job);
  }
  void training_submit(SimTime t, const TrainingSubmit& e) {
    if (auto tr = training_track(e.job))
      w.set_state(*tr, t, "queued", "training", args_of<&TrainingSubmit::gpus, &TrainingSubmit::layout>(e));
  }
  void training_start(SimTime t, const TrainingStart& e) {
    if (auto tr = training_track(e.job)) w.set_state(*tr, t, "starting", "training", args_of<&TrainingStart::gpus>(e));
  }
  void training_resume(SimTime t, const TrainingResume& e) {
    using S = TrainingResume;
    if (auto tr = training_track(e.job)) w.set_state(*tr, t, "running", "training", args_of<&S::dp, &S::step_s, &S::tokens>(e));
  }
  void training_interrupt(SimTime t, const TrainingInterrupt& e) {
    using S = TrainingInterrupt;
    if (auto tr = training_track(e.job)) {
      name = "interrupted: ";
      name += e.cause;
      w.set_state(*tr, t, name, "failure", args_of<&S::cause, &S::component_class, &S::path, &S::state>(e));
    }
  }
  void training_preempt(SimTime t, const TrainingPreempt& e) {
    if (auto tr = training_track(e.job)) w.set_state(*tr, t, "preempted", "training", args_of<&TrainingPreempt::tokens>(e));
  }
  void training_done(SimTime t, const TrainingDone& e) {
    if (auto tr = training_track(e.job)) {
      w.end_all(*tr, t);
      w.instant(*tr, t, "done", "training", args_of<&TrainingDone::tokens>(e));
    }
  }
  // "shrink" / "regrow" / "move": the kind without the model's prefix.
  static constexpr std::string_view training_slice(std::string_view kind) {
    return kind.substr(std::string_view("training_").size());
  }
  template <class R>
  void training_dp(SimTime t, const R& e) {
    if (auto tr = training_track(e.job)) w.instant(*tr, t, training_slice(R::kind), "training", args_of<&R::dp>(e));
  }
  void training_move(SimTime t, const TrainingMove& e) {
    if (auto tr = training_track(e.job))
      w.instant(*tr, t, training_slice(TrainingMove::kind), "training", args_of<&TrainingMove::region>(e));
  }
  void training_checkpoint(SimTime t, const TrainingCheckpoint& e) {
    if (auto tr = training_track(e.job); tr && at_least(TraceLevel::All))
      w.instant(*tr, t, "checkpoint", "training", args_of<&TrainingCheckpoint::tokens>(e));
  }

  // ---- rows: counters

  void fleet_state_row(const FleetStateSample& s) {
    if (!at_least(TraceLevel::Summary)) return;
    Region& r = region(s.region);
    w.counter(counter(r, "GPUs", s.accelerator), s.time,
              {{"usable", number(s.gpus_usable)}, {"failed", number(s.gpus_failed)}, {"repairing", number(s.gpus_repairing)}});
  }

  void inference_row(const InferenceSample& s) {
    if (!at_least(TraceLevel::Jobs)) return;
    Region& r = region(s.region);
    const double up = number(s.replicas_up);
    const double bad = s.late + s.failed;
    const std::string_view state = up <= 0 ? "down" : bad > 0 ? "degraded" : "serving";
    const TrackId tr = service_track(r, s.service);
    if (w.open_slice_name(tr) != state) {
      args.clear();
      JsonObjectWriter(args).field(member_name<&InferenceSample::replicas_up>(), up).close();
      w.set_state(tr, s.time, state, "inference", args);
    }
    w.counter(counter(r, "replicas", s.service), s.time, {{"up", up}, {"extra", number(s.replicas_extra)}});
    if (at_least(TraceLevel::All)) {
      w.counter(counter(r, "latency p99 s", s.service), s.time, {{"ttft", s.ttft_p99_s}, {"e2e", s.e2e_p99_s}});
      w.counter(counter(r, "requests", s.service), s.time,
                {{"arrived", s.arrived}, {"completed", s.completed}, {"late", s.late}, {"failed", s.failed}});
    }
  }

  void cost_row(const CostSample& s) {
    if (!at_least(TraceLevel::Summary)) return;
    Region& r = region(s.region);
    w.counter(counter(r, "power kW", s.accelerator), s.time, {{"power_kw", s.power_kw}});
    w.counter(counter(r, "cumulative USD", s.accelerator), s.time, {{"cumulative_usd", s.cumulative_usd}});
    w.counter(counter(r, "GPUs paid", s.accelerator), s.time,
              {{"busy", number(s.gpus_busy)}, {"idle", number(s.gpus_idle)}, {"failed", number(s.gpus_failed)}});
    // Fleet-wide spend against the commitment's plan: the same in every row of an instant, so the
    // counter's repeat check writes it once per instant.
    if (fleet_pid == 0) fleet_pid = w.process("fleet", 2);
    if (!fleet_spend.valid()) fleet_spend = w.counter_track(fleet_pid, "spend vs commitment USD");
    const double plan = number(s.commitment_plan_usd);
    if (std::isnan(plan)) w.counter(fleet_spend, s.time, {{"spent", s.fleet_cumulative_usd}});
    else w.counter(fleet_spend, s.time, {{"spent", s.fleet_cumulative_usd}, {"plan", plan}});
  }
};

TraceTranslator::TraceTranslator(Recorder& recorder, TraceLevel level) {
  if (level == TraceLevel::None) return;
  if (!recorder.trace()) throw std::logic_error("TraceTranslator: the recorder writes no trace");
  impl_ = std::make_unique<Impl>(recorder, level);
}

TraceTranslator::~TraceTranslator() = default;

}  // namespace fleetsim
