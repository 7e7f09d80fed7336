// SPDX-License-Identifier: Apache-2.0
#include "tools/run/trace_translator.hpp"

#include "sim/jsonl_writer.hpp"

#include <cmath>
#include <initializer_list>
#include <stdexcept>
#include <limits>
#include <string>
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

constexpr size_t kNoColumn = std::numeric_limits<size_t>::max();

double number_at(std::span<const CellView> cells, size_t i) {
  if (i >= cells.size()) return std::nan("");
  const CellView& c = cells[i];
  if (c.type() == CellView::Type::Int) return static_cast<double>(c.as_int());
  if (c.type() == CellView::Type::Double) return c.as_double();
  return std::nan("");
}

std::string_view text_at(std::span<const CellView> cells, size_t i) {
  if (i >= cells.size() || cells[i].type() != CellView::Type::String) return {};
  return cells[i].as_string();
}

SimTime time_at(std::span<const CellView> cells, size_t i) {
  if (i >= cells.size() || cells[i].type() != CellView::Type::Int) return SimTime::zero();
  return SimTime::from_ticks(cells[i].as_int());
}

std::string_view region_of(std::string_view path) { return path.substr(0, path.find('/')); }

// How the translator reads one table: which columns, found by name once, on the table's first row.
struct TableMap {
  enum class Kind { Unknown, Ignore, Utilization, Inference, Cost } kind = Kind::Unknown;
  std::vector<size_t> col;  // indices in the order of the kind's column list below
};

const std::vector<std::string_view> kUtilizationColumns = {"time_ns", "region", "accelerator", "gpus_usable",
                                                           "gpus_failed", "gpus_repairing"};
const std::vector<std::string_view> kInferenceColumns = {
    "time_ns", "service", "region", "replicas_up", "replicas_extra", "late", "failed", "ttft_p99_s", "e2e_p99_s",
    "arrived", "completed"};
const std::vector<std::string_view> kCostColumns = {"time_ns",     "region",     "accelerator", "power_kw",
                                                    "cumulative_usd", "gpus_busy", "gpus_idle", "gpus_failed",
                                                    "fleet_cumulative_usd", "commitment_plan_usd"};

}  // namespace

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
  Connection on_event, on_row;
  uint32_t training_pid = 0;
  uint32_t fleet_pid = 0;
  CounterId fleet_spend;
  std::unordered_map<std::string, TrackId> jobs;
  std::unordered_map<std::string, Region> regions;
  std::vector<TableMap> tables;  // by TableId
  std::string args, key, name;   // reused buffers
  int next_sort = 10;

  Impl(Recorder& r, TraceLevel l) : rec(r), w(*r.trace()), level(l) {
    on_event = rec.on_event.connect([this](const PublishedEvent& e) { handle_event(e); });
    on_row = rec.on_row.connect([this](TableId id, std::span<const CellView> cells) { handle_row(id, cells); });
  }
  ~Impl() {
    rec.on_event.disconnect(on_event);
    rec.on_row.disconnect(on_row);
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

  // Args: copies the named fields of the event (those it has) into a JSON object text.
  const std::string& event_args(const PublishedEvent& e, std::initializer_list<std::string_view> keys) {
    args.clear();
    JsonObjectWriter obj(args);
    for (auto k : keys) {
      const Cell* c = e.find(k);
      if (!c) continue;
      if (const auto* s = std::get_if<std::string>(c)) obj.field(k, *s);
      else if (const auto* i = std::get_if<int64_t>(c)) obj.field(k, *i);
      else if (const auto* d = std::get_if<double>(c)) obj.field(k, *d);
      else if (const auto* b = std::get_if<bool>(c)) obj.field(k, *b);
      else obj.field_null(k);
    }
    obj.close();
    return args;
  }

  void handle_event(const PublishedEvent& e) {
    const std::string_view kind = e.kind;
    if (kind.starts_with("training_")) return training_event(e);
    if (kind == "outage_start" && at_least(TraceLevel::Summary)) {
      Region& r = region(region_of(e.text("path")));
      Lane& lane = take_lane(r, r.outages, "outages", e.text("outage"));
      name = "outage ";
      name += e.text("outage_kind");
      w.begin(lane.track, e.time, name, "outage",
              event_args(e, {"outage", "path", "cause", "outage_kind", "network_factor", "duration_ns"}));
    } else if (kind == "outage_end" && at_least(TraceLevel::Summary)) {
      Region& r = region(region_of(e.text("path")));
      if (Lane* lane = find_lane(r.outages, e.text("outage"))) {
        w.end(lane->track, e.time);
        lane->holder.clear();
      }
    } else if (kind == "failure" && at_least(TraceLevel::All)) {
      // Level all only: a 7-year fleet run has ~10^5-10^6 component failures; at level jobs the ones
      // that matter show as the "interrupted: <cause>" slices of the jobs they hit.
      Region& r = region(region_of(e.text("path")));
      name.assign(e.text("class"));
      name += ": ";
      name += e.text("cause");
      w.instant(failures_track(r), e.time, name, "failure",
                event_args(e, {"path", "class", "cause", "process", "duration_ns"}));
    } else if (kind == "repair" && at_least(TraceLevel::All)) {
      Region& r = region(region_of(e.text("path")));
      name = "repair ";
      name += e.text("class");
      w.instant(failures_track(r), e.time, name, "repair", event_args(e, {"path", "class", "cause", "duration_ns"}));
    } else if (kind == "straggler_start" && at_least(TraceLevel::All)) {
      Region& r = region(region_of(e.text("path")));
      Lane& lane = take_lane(r, r.stragglers, "stragglers", e.text("straggler"));
      w.begin(lane.track, e.time, "straggler", "straggler", event_args(e, {"path", "cause", "slowdown", "duration_ns"}));
    } else if (kind == "straggler_end" && at_least(TraceLevel::All)) {
      Region& r = region(region_of(e.text("path")));
      if (Lane* lane = find_lane(r.stragglers, e.text("straggler"))) {
        w.end(lane->track, e.time);
        lane->holder.clear();
      }
    } else if ((kind == "capacity_install" || kind == "capacity_retire") && at_least(TraceLevel::All)) {
      Region& r = region(region_of(e.text("path")));
      if (!r.fleet.valid()) r.fleet = w.track(r.pid, "fleet changes");
      w.instant(r.fleet, e.time, kind, "capacity", event_args(e, {"path", "class", "gpus"}));
    } else if ((kind == "inference_scale_up" || kind == "inference_scale_down") && at_least(TraceLevel::Jobs)) {
      Region& r = region(e.text("region"));
      w.instant(service_track(r, e.text("service")), e.time, kind.substr(10), "inference",
                event_args(e, {"replicas", "gpus", "ready_in_ns"}));
    }
  }

  void training_event(const PublishedEvent& e) {
    if (!at_least(TraceLevel::Jobs)) return;
    const std::string_view kind = e.kind.substr(9);  // after "training_"
    const std::string_view job = e.text("job");
    if (job.empty()) return;
    const TrackId t = job_track(job);
    if (kind == "submit") {
      w.set_state(t, e.time, "queued", "training", event_args(e, {"gpus", "layout"}));
    } else if (kind == "start") {
      w.set_state(t, e.time, "starting", "training", event_args(e, {"gpus"}));
    } else if (kind == "resume") {
      w.set_state(t, e.time, "running", "training", event_args(e, {"dp", "step_s", "tokens"}));
    } else if (kind == "interrupt") {
      name = "interrupted: ";
      name += e.text("cause");
      w.set_state(t, e.time, name, "failure", event_args(e, {"cause", "class", "path", "state"}));
    } else if (kind == "preempt") {
      w.set_state(t, e.time, "preempted", "training", event_args(e, {"tokens"}));
    } else if (kind == "done") {
      w.end_all(t, e.time);
      w.instant(t, e.time, "done", "training", event_args(e, {"tokens"}));
    } else if (kind == "shrink" || kind == "regrow" || kind == "move") {
      w.instant(t, e.time, kind, "training", event_args(e, {"dp", "region"}));
    } else if (kind == "checkpoint" && at_least(TraceLevel::All)) {
      w.instant(t, e.time, "checkpoint", "training", event_args(e, {"tokens"}));
    }
  }

  TableMap& table_map(TableId id) {
    if (id.index >= tables.size()) tables.resize(id.index + 1);
    TableMap& m = tables[id.index];
    if (m.kind != TableMap::Kind::Unknown) return m;
    m.kind = TableMap::Kind::Ignore;
    const std::string& tname = rec.table_name(id);
    const std::vector<std::string_view>* wanted = nullptr;
    TableMap::Kind kind = TableMap::Kind::Ignore;
    if (tname == "utilization") wanted = &kUtilizationColumns, kind = TableMap::Kind::Utilization;
    else if (tname == "inference") wanted = &kInferenceColumns, kind = TableMap::Kind::Inference;
    else if (tname == "cost") wanted = &kCostColumns, kind = TableMap::Kind::Cost;
    if (!wanted) return m;
    const auto& cols = rec.columns(id);
    for (auto c : *wanted) {
      size_t index = kNoColumn;
      for (size_t i = 0; i < cols.size(); ++i)
        if (cols[i] == c) index = i;
      m.col.push_back(index);
    }
    m.kind = kind;
    return m;
  }

  void handle_row(TableId id, std::span<const CellView> cells) {
    if (!at_least(TraceLevel::Summary)) return;
    const TableMap& m = table_map(id);
    const auto& c = m.col;
    switch (m.kind) {
      case TableMap::Kind::Utilization: {
        Region& r = region(text_at(cells, c[1]));
        w.counter(counter(r, "GPUs", text_at(cells, c[2])), time_at(cells, c[0]),
                  {{"usable", number_at(cells, c[3])},
                   {"failed", number_at(cells, c[4])},
                   {"repairing", number_at(cells, c[5])}});
        break;
      }
      case TableMap::Kind::Inference: {
        if (!at_least(TraceLevel::Jobs)) return;
        Region& r = region(text_at(cells, c[2]));
        const std::string_view service = text_at(cells, c[1]);
        const SimTime t = time_at(cells, c[0]);
        const double up = number_at(cells, c[3]);
        const double bad = number_at(cells, c[5]) + number_at(cells, c[6]);
        const std::string_view state = up <= 0 ? "down" : bad > 0 ? "degraded" : "serving";
        const TrackId tr = service_track(r, service);
        if (w.open_slice_name(tr) != state) {
          args.clear();
          JsonObjectWriter(args).field("replicas_up", up).close();
          w.set_state(tr, t, state, "inference", args);
        }
        w.counter(counter(r, "replicas", service), t,
                  {{"up", up}, {"extra", number_at(cells, c[4])}});
        if (at_least(TraceLevel::All)) {
          w.counter(counter(r, "latency p99 s", service), t,
                    {{"ttft", number_at(cells, c[7])}, {"e2e", number_at(cells, c[8])}});
          w.counter(counter(r, "requests", service), t,
                    {{"arrived", number_at(cells, c[9])},
                     {"completed", number_at(cells, c[10])},
                     {"late", number_at(cells, c[5])},
                     {"failed", number_at(cells, c[6])}});
        }
        break;
      }
      case TableMap::Kind::Cost: {
        Region& r = region(text_at(cells, c[1]));
        const std::string_view acc = text_at(cells, c[2]);
        const SimTime t = time_at(cells, c[0]);
        if (c[3] != kNoColumn) w.counter(counter(r, "power kW", acc), t, {{"power_kw", number_at(cells, c[3])}});
        if (c[4] != kNoColumn)
          w.counter(counter(r, "cumulative USD", acc), t, {{"cumulative_usd", number_at(cells, c[4])}});
        if (c[5] != kNoColumn && c[6] != kNoColumn)
          w.counter(counter(r, "GPUs paid", acc), t,
                    {{"busy", number_at(cells, c[5])}, {"idle", number_at(cells, c[6])},
                     {"failed", number_at(cells, c[7])}});
        // Fleet-wide spend against the commitment's plan: the same in every row of an instant, so the
        // counter's repeat check writes it once per instant.
        if (c[8] != kNoColumn) {
          if (fleet_pid == 0) fleet_pid = w.process("fleet", 2);
          if (!fleet_spend.valid()) fleet_spend = w.counter_track(fleet_pid, "spend vs commitment USD");
          const double plan = c[9] != kNoColumn ? number_at(cells, c[9]) : std::nan("");
          if (std::isnan(plan)) w.counter(fleet_spend, t, {{"spent", number_at(cells, c[8])}});
          else w.counter(fleet_spend, t, {{"spent", number_at(cells, c[8])}, {"plan", plan}});
        }
        break;
      }
      default: break;
    }
  }
};

TraceTranslator::TraceTranslator(Recorder& recorder, TraceLevel level) {
  if (level == TraceLevel::None) return;
  if (!recorder.trace()) throw std::logic_error("TraceTranslator: the recorder writes no trace");
  impl_ = std::make_unique<Impl>(recorder, level);
}

TraceTranslator::~TraceTranslator() = default;

}  // namespace fleetsim
