// SPDX-License-Identifier: Apache-2.0
#include "models/failures/failure_model.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <stdexcept>
#include <string>

namespace fleetsim {

namespace {

// Instants beyond this many seconds after the epoch (~158 years) are "never": no horizon reaches
// them, and SimTime (int64 ns, ~292 years) could not hold much more.
constexpr double kNeverS = 5.0e9;

double draw_repair_s(const RepairSpec& r, Rng& rng) {
  switch (r.kind) {
    case RepairSpec::Kind::Fixed: return r.value_s;
    case RepairSpec::Kind::Exponential: return rng.exponential(1.0 / r.value_s);
    case RepairSpec::Kind::Lognormal: return rng.lognormal(std::log(r.value_s), r.sigma);
  }
  return r.value_s;
}

// base + s, or SimTime::max() ("never") when that lies beyond kNeverS.
SimTime after(SimTime base, double s) {
  if (!(base.seconds() + s < kNeverS)) return SimTime::max();
  return base + Duration::from_seconds(std::max(0.0, s));
}

}  // namespace

// One superposed process: a ProcessSpec restricted to one region.
struct FailureModel::Instance {
  struct Cohort {
    SimTime birth;
    uint64_t pos_begin = 0, pos_end = 0;  // positions in the population (install order)
    uint64_t remaining = 0;               // members that have not failed since birth
    SimTime next = SimTime::max();        // drawn time of the cohort's next failure
    bool materialized = false;
    std::vector<uint32_t> members;        // positions left, once materialized
  };
  using Renewal = std::pair<int64_t, uint32_t>;  // (time ns, component index)

  uint32_t id = 0;
  uint32_t process = 0;
  uint32_t region = 0;
  const ProcessSpec* spec = nullptr;
  Level level = Level::Gpu;
  bool weibull = false;
  bool straggler = false;
  double lambda_per_s = 0;  // exponential
  double shape = 1, scale_s = 0;

  std::vector<IndexRange> ranges;  // population: component index ranges, in install order
  std::vector<uint64_t> prefix;    // prefix[i]: positions before ranges[i]
  uint64_t total = 0;

  Rng rng;
  Rng repair_rng;
  EventHandle handle;
  SimTime next = SimTime::max();

  std::vector<Cohort> cohorts;
  std::vector<uint64_t> departed;  // bit per position: left its cohort
  std::priority_queue<Renewal, std::vector<Renewal>, std::greater<>> renewals;

  Instance(Rng r, Rng rr) : rng(r), repair_rng(rr) {}

  uint32_t index_at(uint64_t pos) const {
    const auto it = std::upper_bound(prefix.begin(), prefix.end(), pos);
    const size_t i = static_cast<size_t>(it - prefix.begin()) - 1;
    return ranges[i].begin + static_cast<uint32_t>(pos - prefix[i]);
  }
  bool is_departed(uint64_t pos) const { return (departed[pos >> 6] >> (pos & 63)) & 1u; }
  void set_departed(uint64_t pos) { departed[pos >> 6] |= uint64_t{1} << (pos & 63); }

  // A uniform member of cohort c that has not departed; marks it departed.
  uint64_t cohort_pick(Cohort& c) {
    const uint64_t size = c.pos_end - c.pos_begin;
    if (!c.materialized && c.remaining * 4 < size) {
      // Few survivors left: list them, so picks stay O(1) instead of rejecting most draws.
      for (uint64_t p = c.pos_begin; p < c.pos_end; ++p)
        if (!is_departed(p)) c.members.push_back(static_cast<uint32_t>(p));
      c.materialized = true;
    }
    uint64_t pos = 0;
    if (c.materialized) {
      const uint64_t j = rng.uniform_int(c.members.size());
      pos = c.members[j];
      c.members[j] = c.members.back();
      c.members.pop_back();
    } else {
      do {
        pos = c.pos_begin + rng.uniform_int(size);
      } while (is_departed(pos));  // at least a quarter survive: expected < 4 tries
    }
    set_departed(pos);
    c.remaining -= 1;
    return pos;
  }

  // Next failure among the `remaining` equal-aged survivors: P(min age > x | > a) =
  // exp(-m ((x/eta)^k - (a/eta)^k)), inverted with one exponential draw.
  SimTime draw_cohort_next(const Cohort& c, SimTime now) {
    if (c.remaining == 0) return SimTime::max();
    const double a = (now - c.birth).seconds();
    const double e = rng.exponential(1.0);
    const double base = std::pow(a / scale_s, shape) + e / static_cast<double>(c.remaining);
    const double x = scale_s * std::pow(base, 1.0 / shape);
    const SimTime t = after(c.birth, x);
    return t == SimTime::max() ? t : std::max(t, now);
  }
};

struct FailureModel::Fixed {
  bool outage = true;
  ComponentRef target;
  SimTime from;
  Duration duration;
  OutageKind kind = OutageKind::Full;
  double factor = 1.0;
  std::string name, cause, path;
};

FailureModel::FailureModel(const FailureSpec& spec, Fleet& fleet, Engine& engine, const RngStreams& streams,
                           Recorder& recorder, FleetLifecycle* lifecycle)
    : spec_(spec),
      fleet_(fleet),
      engine_(engine),
      streams_(streams),
      recorder_(recorder),
      links_down_(fleet.regions() * std::max<size_t>(1, fleet.accelerators().size()), 0),
      switches_down_(links_down_.size(), 0),
      by_process_(spec.processes.size(), 0),
      kind_fail_(engine.register_kind("failure")),
      kind_repair_(engine.register_kind("repair")),
      kind_outage_(engine.register_kind("outage")),
      kind_straggler_(engine.register_kind("straggler")),
      kind_sample_(engine.register_kind("sample")) {
  const auto& accs = fleet.accelerators();
  for (uint32_t p = 0; p < spec_.processes.size(); ++p) {
    const ProcessSpec& ps = spec_.processes[p];
    if (!(ps.lifetime.mean_s > 0)) throw std::invalid_argument("failures: process \"" + ps.name + "\" has no positive MTBF");
    if (ps.lifetime.kind == LifetimeSpec::Kind::Weibull && !(ps.lifetime.shape > 0))
      throw std::invalid_argument("failures: process \"" + ps.name + "\" has a Weibull shape <= 0");
    for (const auto& r : ps.regions)
      if (!fleet.find_region(r)) throw std::invalid_argument("failures: process \"" + ps.name + "\" names unknown region \"" + r + "\"");
    const Level level = population_level(ps.cls);
    for (uint32_t r = 0; r < fleet.regions(); ++r) {
      const std::string& rname = fleet.region_name(RegionId{r});
      if (!ps.regions.empty() && std::find(ps.regions.begin(), ps.regions.end(), rname) == ps.regions.end()) continue;
      const std::string stream = "failures/" + ps.name + "/" + rname;
      auto in = std::make_unique<Instance>(streams.stream(stream), streams.stream(stream + "/repair"));
      in->id = static_cast<uint32_t>(instances_.size());
      in->process = p;
      in->region = r;
      in->spec = &spec_.processes[p];
      in->level = level;
      in->weibull = ps.lifetime.kind == LifetimeSpec::Kind::Weibull && ps.lifetime.shape != 1.0;
      in->straggler = ps.slowdown > 1.0;
      in->lambda_per_s = 1.0 / ps.lifetime.mean_s;
      in->shape = ps.lifetime.shape;
      in->scale_s = ps.lifetime.scale_s();
      const RegionId rid{r};
      if (level == Level::Region) {
        add_range(*in, {r, r + 1});
      } else if (level == Level::Zone) {
        add_range(*in, fleet.range(rid, Level::Zone));
      } else {
        const IndexRange dcs = fleet.range(rid, Level::Datacenter);
        for (uint32_t d = dcs.begin; d < dcs.end; ++d) {
          const ComponentRef dc{Level::Datacenter, d};
          if (!ps.accelerators.empty() &&
              std::find(ps.accelerators.begin(), ps.accelerators.end(), accs[fleet.accelerator_of(dc)]) == ps.accelerators.end())
            continue;
          if (fleet.active(dc)) add_range(*in, fleet.range(dc, level));
        }
      }
      instances_.push_back(std::move(in));
    }
  }
  for (const OutageSpec& o : spec_.outages) {
    const auto target = fleet.find(o.target);
    if (!target || (target->level != Level::Region && target->level != Level::Zone && target->level != Level::Datacenter))
      throw std::invalid_argument("failures: outage \"" + o.name + "\" targets \"" + o.target + "\", not a region, zone or datacenter");
    Fixed f;
    f.outage = true;
    f.target = *target;
    f.from = o.from;
    f.duration = o.duration;
    f.kind = o.kind;
    f.factor = o.network_factor;
    f.name = o.name;
    f.cause = o.cause.empty() ? std::string("outage") : o.cause;
    f.path = o.target;
    fixed_.push_back(std::move(f));
  }
  for (const StragglerSpec& s : spec_.stragglers) {
    const auto target = fleet.find(s.target);
    if (!target || (target->level != Level::Gpu && target->level != Level::Node))
      throw std::invalid_argument("failures: straggler \"" + s.name + "\" targets \"" + s.target + "\", not a GPU or node");
    Fixed f;
    f.outage = false;
    f.target = *target;
    f.from = s.at;
    f.duration = s.duration;
    f.factor = s.slowdown;
    f.name = s.name;
    f.cause = s.cause.empty() ? std::string("straggler") : s.cause;
    f.path = s.target;
    fixed_.push_back(std::move(f));
  }
  if (lifecycle != nullptr) lifecycle->on_change.connect([this](const CapacityChange& c) { on_capacity(c); });
  if (spec_.sample_interval > Duration::zero()) {
    table_ = recorder_.table<FleetStateSample>(spec_.table);
    // Every (region, accelerator) that has a datacenter of that accelerator, installed or not.
    for (uint32_t r = 0; r < fleet.regions(); ++r) {
      const IndexRange dcs = fleet.range(RegionId{r}, Level::Datacenter);
      for (uint32_t a = 0; a < accs.size(); ++a) {
        bool any = false;
        for (uint32_t d = dcs.begin; d < dcs.end && !any; ++d) any = fleet.accelerator_of({Level::Datacenter, d}) == a;
        if (any) sample_groups_.emplace_back(r, a);
      }
    }
  }
}

FailureModel::~FailureModel() = default;

void FailureModel::add_range(Instance& in, IndexRange r) {
  if (r.size() == 0) return;
  in.ranges.push_back(r);
  in.prefix.push_back(in.total);
  if (in.weibull) {
    Instance::Cohort c;
    c.birth = engine_.now();
    c.pos_begin = in.total;
    c.pos_end = in.total + r.size();
    c.remaining = r.size();
    in.departed.resize((c.pos_end + 63) / 64, 0);
    c.next = in.draw_cohort_next(c, engine_.now());
    in.cohorts.push_back(std::move(c));
  }
  in.total += r.size();
}

void FailureModel::on_capacity(const CapacityChange& c) {
  // New datacenters join the populations of the processes that cover them. Retired capacity stays in
  // the populations: draws that land on it are rejected (exponential) or dropped (Weibull).
  if (c.kind != CapacityChange::Kind::Install || c.what.level != Level::Datacenter) return;
  const uint32_t region = fleet_.region_of(c.what).value();
  const std::string& acc = fleet_.accelerators()[fleet_.accelerator_of(c.what)];
  for (auto& in : instances_) {
    if (in->region != region) continue;
    if (in->level == Level::Region || in->level == Level::Zone) continue;
    const auto& accs = in->spec->accelerators;
    if (!accs.empty() && std::find(accs.begin(), accs.end(), acc) == accs.end()) continue;
    add_range(*in, fleet_.range(c.what, in->level));
    if (started_) schedule_next(*in);
  }
}

void FailureModel::schedule_next(Instance& in) {
  engine_.cancel(in.handle);
  in.handle = EventHandle{};
  in.next = SimTime::max();
  SimTime t = SimTime::max();
  if (!in.weibull) {
    if (in.total == 0) return;
    t = after(engine_.now(), in.rng.exponential(in.lambda_per_s * static_cast<double>(in.total)));
    if (t == SimTime::max()) return;
  } else {
    for (const auto& c : in.cohorts) t = std::min(t, c.next);
    if (!in.renewals.empty()) t = std::min(t, SimTime::from_ticks(in.renewals.top().first));
    if (t == SimTime::max()) return;
  }
  in.next = t;
  const uint32_t id = in.id;
  in.handle = engine_.schedule_at(t, Phase::Failure, [this, id] { fire(id); }, kind_fail_);
}

ComponentRef FailureModel::component_of(const Instance& in, uint32_t index) const { return {in.level, index}; }

bool FailureModel::accept(const Instance& in, uint32_t index) const {
  const ComponentRef c = component_of(in, index);
  if (!fleet_.active(c)) return false;
  switch (in.spec->cls) {
    case ComponentClass::Link: return failed_links_.count(index) == 0;
    case ComponentClass::Switch: return failed_switches_.count(index) == 0;
    default: break;
  }
  if (in.straggler) return fleet_.own_health(c) == Health::Healthy;
  return is_up(fleet_.own_health(c));
}

void FailureModel::fire(uint32_t id) {
  Instance& in = *instances_[id];
  in.handle = EventHandle{};
  const SimTime now = engine_.now();
  if (!in.weibull) {
    const uint32_t victim = in.index_at(in.rng.uniform_int(in.total));
    if (accept(in, victim)) {
      fail(in, victim);
    } else {
      ++stats_.rejected;
    }
  } else {
    // The source that is due: the earliest cohort, else the renewal heap (ties: cohorts first).
    int64_t best = -1;
    for (size_t i = 0; i < in.cohorts.size(); ++i)
      if (in.cohorts[i].next == now) {
        best = static_cast<int64_t>(i);
        break;
      }
    uint32_t victim = 0;
    if (best >= 0) {
      auto& c = in.cohorts[static_cast<size_t>(best)];
      victim = in.index_at(in.cohort_pick(c));
      c.next = in.draw_cohort_next(c, now);
    } else {
      victim = in.renewals.top().second;
      in.renewals.pop();
    }
    if (!fleet_.active(component_of(in, victim))) {
      // retired: leaves the population for good
    } else if (accept(in, victim)) {
      fail(in, victim);
    } else {
      ++stats_.masked;
      const SimTime t = after(now, in.rng.weibull(in.shape, in.scale_s));
      if (t != SimTime::max()) in.renewals.emplace(t.ticks(), victim);
    }
  }
  schedule_next(in);
}

void FailureModel::fail(Instance& in, uint32_t index) {
  const ComponentRef c = component_of(in, index);
  const ProcessSpec& ps = *in.spec;
  const SimTime now = engine_.now();
  const std::string path = element_path(ps.cls, index);
  const std::string_view cause = ps.cause.empty() ? class_name(ps.cls) : std::string_view(ps.cause);
  const uint32_t id = in.id;
  if (in.straggler) {
    const SimTime end = after(now, draw_repair_s(ps.repair, in.repair_rng));
    const Duration dur = end == SimTime::max() ? Duration::max() : end - now;
    fleet_.set_slowdown(c, ps.slowdown);
    ++stats_.stragglers;
    FailureEvent e{FailureEvent::Kind::StragglerStart, now, ps.cls, c, cause, dur, OutageKind::Full, ps.slowdown, in.process};
    publish<ProcessStragglerStart>(e, path, ps.name);
    if (dur != Duration::max())
      engine_.schedule_at(now + dur, Phase::Repair, [this, id, index] { straggler_end(id, index); }, kind_straggler_);
    return;
  }
  const SimTime end = after(now, ps.repair.detect.seconds() + draw_repair_s(ps.repair, in.repair_rng));
  const Duration downtime = end == SimTime::max() ? Duration::max() : end - now;
  if (takes_capacity_down(ps.cls)) {
    fleet_.set_health(c, ps.repair.detect > Duration::zero() ? Health::Failed : Health::Repairing);
  } else {
    const RegionId r = fleet_.region_of(c);
    const uint32_t g = r.value() * static_cast<uint32_t>(std::max<size_t>(1, fleet_.accelerators().size())) + fleet_.accelerator_of(c);
    if (ps.cls == ComponentClass::Link) {
      failed_links_.insert(index);
      ++links_down_[g];
    } else {
      failed_switches_.insert(index);
      ++switches_down_[g];
    }
  }
  ++stats_.failures;
  ++stats_.failures_by_class[static_cast<size_t>(ps.cls)];
  ++by_process_[in.process];
  FailureEvent e{FailureEvent::Kind::Failure, now, ps.cls, c, cause, downtime, OutageKind::Full, 1.0, in.process};
  publish<ComponentFailure>(e, path, ps.name);
  if (downtime == Duration::max()) return;  // never repaired within any horizon
  const int64_t down_ns = downtime.ticks();
  if (ps.repair.detect > Duration::zero() && takes_capacity_down(ps.cls))
    engine_.schedule_at(now + ps.repair.detect, Phase::Repair, [this, id, index, down_ns] { repair_start(id, index, down_ns); },
                        kind_repair_);
  engine_.schedule_at(now + downtime, Phase::Repair, [this, id, index, down_ns] { repair_done(id, index, down_ns); },
                      kind_repair_);
}

void FailureModel::repair_start(uint32_t id, uint32_t index, int64_t downtime_ns) {
  Instance& in = *instances_[id];
  const ComponentRef c = component_of(in, index);
  if (fleet_.own_health(c) == Health::Failed) fleet_.set_health(c, Health::Repairing);
  const std::string_view cause = in.spec->cause.empty() ? class_name(in.spec->cls) : std::string_view(in.spec->cause);
  FailureEvent e{FailureEvent::Kind::RepairStart, engine_.now(), in.spec->cls, c, cause,
                 Duration::ns(downtime_ns) - in.spec->repair.detect, OutageKind::Full, 1.0, in.process};
  on_event.emit(e);  // listeners only: events.jsonl already has the failure with its downtime
}

void FailureModel::repair_done(uint32_t id, uint32_t index, int64_t downtime_ns) {
  Instance& in = *instances_[id];
  const ProcessSpec& ps = *in.spec;
  const ComponentRef c = component_of(in, index);
  const SimTime now = engine_.now();
  if (takes_capacity_down(ps.cls)) {
    fleet_.set_health(c, Health::Healthy);  // a retired component stays retired (Fleet ignores it)
  } else {
    const RegionId r = fleet_.region_of(c);
    const uint32_t g = r.value() * static_cast<uint32_t>(std::max<size_t>(1, fleet_.accelerators().size())) + fleet_.accelerator_of(c);
    if (ps.cls == ComponentClass::Link) {
      failed_links_.erase(index);
      --links_down_[g];
    } else {
      failed_switches_.erase(index);
      --switches_down_[g];
    }
  }
  ++stats_.repairs;
  stats_.downtime_s_by_class[static_cast<size_t>(ps.cls)] += Duration::ns(downtime_ns).seconds();
  const std::string_view cause = ps.cause.empty() ? class_name(ps.cls) : std::string_view(ps.cause);
  FailureEvent e{FailureEvent::Kind::Repair, now, ps.cls, c, cause, Duration::ns(downtime_ns), OutageKind::Full, 1.0, in.process};
  publish<ComponentRepair>(e, element_path(ps.cls, index), ps.name);
  if (in.weibull && fleet_.active(c)) {
    // Renewed: a new lifetime from age 0.
    const SimTime t = after(now, in.rng.weibull(in.shape, in.scale_s));
    if (t != SimTime::max()) {
      in.renewals.emplace(t.ticks(), index);
      if (t < in.next) schedule_next(in);
    }
  }
}

void FailureModel::straggler_end(uint32_t id, uint32_t index) {
  Instance& in = *instances_[id];
  const ComponentRef c = component_of(in, index);
  fleet_.set_slowdown(c, 1.0);
  const std::string_view cause = in.spec->cause.empty() ? class_name(in.spec->cls) : std::string_view(in.spec->cause);
  FailureEvent e{FailureEvent::Kind::StragglerEnd, engine_.now(), in.spec->cls, c, cause, Duration::zero(), OutageKind::Full,
                 in.spec->slowdown, in.process};
  publish<ProcessStragglerEnd>(e, element_path(in.spec->cls, index), in.spec->name);
  if (in.weibull && fleet_.active(c)) {
    const SimTime t = after(engine_.now(), in.rng.weibull(in.shape, in.scale_s));
    if (t != SimTime::max()) {
      in.renewals.emplace(t.ticks(), index);
      if (t < in.next) schedule_next(in);
    }
  }
}

std::string FailureModel::element_path(ComponentClass cls, uint32_t index) const {
  switch (cls) {
    case ComponentClass::Gpu: return fleet_.path(ref(GpuId{index}));
    case ComponentClass::Hbm: return fleet_.path(ref(GpuId{index})) + "/hbm";
    case ComponentClass::Link: {
      const NodeId n = fleet_.node_of(GpuId{index});
      return fleet_.path(ref(n)) + "/rail" + std::to_string(index - fleet_.range(ref(n), Level::Gpu).begin);
    }
    case ComponentClass::Node:
    case ComponentClass::Software: return fleet_.path(ref(NodeId{index}));
    case ComponentClass::Nic: return fleet_.path(ref(NodeId{index})) + "/nic";
    case ComponentClass::Switch: return fleet_.path(ref(RackId{index})) + "/tor";
    case ComponentClass::RackPower: return fleet_.path(ref(RackId{index}));
    case ComponentClass::Datacenter: return fleet_.path(ref(DatacenterId{index}));
    case ComponentClass::Az: return fleet_.path(ref(ZoneId{index}));
    case ComponentClass::Region: return fleet_.path(ref(RegionId{index}));
  }
  return {};
}

template <class R>
void FailureModel::publish(const FailureEvent& e, std::string_view path, std::string_view process_name) {
  recorder_.publish(e.time, R{.path = path,
                              .component_class = class_name(e.cls),
                              .cause = e.cause,
                              .process = process_name,
                              .duration = e.duration == Duration::max() ? Nullable<Duration>{} : Nullable<Duration>::of(e.duration)});
  on_event.emit(e);
}

void FailureModel::start() {
  if (started_) throw std::logic_error("failures: start() called twice");
  started_ = true;
  for (auto& in : instances_) schedule_next(*in);
  const SimTime now = engine_.now();
  for (size_t i = 0; i < fixed_.size(); ++i) {
    const Fixed* f = &fixed_[i];
    if (f->from < now) continue;
    const bool open_ended = f->duration == Duration::max();
    engine_.schedule_at(
        f->from, Phase::Failure,
        [this, f] {
          if (f->outage) {
            switch (f->kind) {
              case OutageKind::Full: fleet_.begin_outage(f->target); break;
              case OutageKind::Launch: fleet_.add_launch_block(f->target, +1); break;
              case OutageKind::Network: fleet_.push_network_factor(f->target, f->factor); break;
            }
            ++stats_.outages;
            FailureEvent e{FailureEvent::Kind::OutageStart, engine_.now(), ComponentClass::Region, f->target, f->cause,
                           f->duration, f->kind, f->factor, UINT32_MAX};
            e.cls = f->target.level == Level::Region ? ComponentClass::Region
                    : f->target.level == Level::Zone ? ComponentClass::Az
                                                     : ComponentClass::Datacenter;
            recorder_.publish(e.time, OutageStart{.path = f->path,
                                                  .component_class = class_name(e.cls),
                                                  .cause = f->cause,
                                                  .outage = f->name,
                                                  .outage_kind = outage_kind_name(f->kind),
                                                  .network_factor = f->factor,
                                                  .duration = f->duration});
            on_event.emit(e);
          } else {
            fleet_.set_slowdown(f->target, f->factor);
            ++stats_.stragglers;
            const ComponentClass cls = f->target.level == Level::Gpu ? ComponentClass::Gpu : ComponentClass::Node;
            FailureEvent e{FailureEvent::Kind::StragglerStart, engine_.now(), cls, f->target, f->cause, f->duration,
                           OutageKind::Full, f->factor, UINT32_MAX};
            recorder_.publish(e.time, StragglerStart{.path = f->path,
                                                     .component_class = class_name(cls),
                                                     .cause = f->cause,
                                                     .straggler = f->name,
                                                     .slowdown = f->factor,
                                                     .duration = f->duration});
            on_event.emit(e);
          }
        },
        f->outage ? kind_outage_ : kind_straggler_);
    if (open_ended) continue;
    engine_.schedule_at(
        f->from + f->duration, Phase::Repair,
        [this, f] {
          FailureEvent e{FailureEvent::Kind::OutageEnd, engine_.now(), ComponentClass::Region, f->target, f->cause,
                         f->duration, f->kind, f->factor, UINT32_MAX};
          if (f->outage) {
            switch (f->kind) {
              case OutageKind::Full: fleet_.end_outage(f->target); break;
              case OutageKind::Launch: fleet_.add_launch_block(f->target, -1); break;
              case OutageKind::Network: fleet_.pop_network_factor(f->target, f->factor); break;
            }
            e.cls = f->target.level == Level::Region ? ComponentClass::Region
                    : f->target.level == Level::Zone ? ComponentClass::Az
                                                     : ComponentClass::Datacenter;
          } else {
            fleet_.set_slowdown(f->target, 1.0);
            e.kind = FailureEvent::Kind::StragglerEnd;
            e.cls = f->target.level == Level::Gpu ? ComponentClass::Gpu : ComponentClass::Node;
          }
          if (f->outage) {
            recorder_.publish(e.time, OutageEnd{.path = f->path,
                                                .component_class = class_name(e.cls),
                                                .cause = f->cause,
                                                .outage = f->name,
                                                .duration = f->duration});
          } else {
            recorder_.publish(e.time, StragglerEnd{.path = f->path,
                                                   .component_class = class_name(e.cls),
                                                   .cause = f->cause,
                                                   .straggler = f->name,
                                                   .duration = f->duration});
          }
          on_event.emit(e);
        },
        f->outage ? kind_outage_ : kind_straggler_);
  }
  if (spec_.sample_interval > Duration::zero()) {
    engine_.schedule_at(now, Phase::Sample, [this] { sample(); }, kind_sample_);
  }
}

void FailureModel::sample() {
  ++stats_.samples;
  const SimTime now = engine_.now();
  const auto& accs = fleet_.accelerators();
  const uint32_t naccs = static_cast<uint32_t>(std::max<size_t>(1, accs.size()));
  for (const auto& [r, a] : sample_groups_) {
    const RegionId rid{r};
    // acc, not a: clang before 16 cannot capture a structured binding (P1091), and the fuzz preset is clang 14.
    const auto cnt = [this, rid, acc = a](Level l, Health h) {
      return static_cast<int64_t>(fleet_.count(rid, acc, l, h));
    };
    const auto installed = static_cast<int64_t>(fleet_.installed_gpus(rid, a));
    const auto usable = static_cast<int64_t>(fleet_.usable_gpus(rid, a));
    const int64_t failed = cnt(Level::Gpu, Health::Failed);
    const int64_t repairing = cnt(Level::Gpu, Health::Repairing);
    recorder_.row(table_, FleetStateSample{.time = now,
                                           .region = fleet_.region_name(rid),
                                           .accelerator = accs[a],
                                           .gpus_installed = installed,
                                           .gpus_usable = usable,
                                           .gpus_healthy = cnt(Level::Gpu, Health::Healthy),
                                           .gpus_degraded = cnt(Level::Gpu, Health::Degraded),
                                           .gpus_failed = failed,
                                           .gpus_repairing = repairing,
                                           .gpus_offline = installed - usable - failed - repairing,
                                           .nodes_healthy = cnt(Level::Node, Health::Healthy),
                                           .nodes_degraded = cnt(Level::Node, Health::Degraded),
                                           .nodes_failed = cnt(Level::Node, Health::Failed),
                                           .nodes_repairing = cnt(Level::Node, Health::Repairing),
                                           .racks_failed = cnt(Level::Rack, Health::Failed),
                                           .racks_repairing = cnt(Level::Rack, Health::Repairing),
                                           .links_down = static_cast<int64_t>(links_down_[r * naccs + a]),
                                           .switches_down = static_cast<int64_t>(switches_down_[r * naccs + a]),
                                           .launch_allowed = fleet_.launch_allowed(ref(rid)),
                                           .network_factor = fleet_.network_factor(ref(rid))});
  }
  engine_.schedule_at(now + spec_.sample_interval, Phase::Sample, [this] { sample(); }, kind_sample_);
}

uint64_t FailureModel::links_down(RegionId r) const {
  const size_t n = std::max<size_t>(1, fleet_.accelerators().size());
  uint64_t s = 0;
  for (size_t a = 0; a < n; ++a) s += links_down_[r.value() * n + a];
  return s;
}

uint64_t FailureModel::switches_down(RegionId r) const {
  const size_t n = std::max<size_t>(1, fleet_.accelerators().size());
  uint64_t s = 0;
  for (size_t a = 0; a < n; ++a) s += switches_down_[r.value() * n + a];
  return s;
}

size_t FailureModel::pending_process_events() const {
  size_t n = 0;
  for (const auto& in : instances_) n += engine_.pending(in->handle) ? 1 : 0;
  return n;
}

void FailureModel::write_summary() {
  FailureSummary s{.failures = stats_.failures,
                   .repairs = stats_.repairs,
                   .outages = stats_.outages,
                   .stragglers = stats_.stragglers,
                   .rejected_draws = stats_.rejected,
                   .masked_draws = stats_.masked,
                   .by_class = {},
                   .repaired_downtime_hours_by_class = {}};
  for (int c = 0; c < kComponentClasses; ++c) {
    if (stats_.failures_by_class[static_cast<size_t>(c)] == 0) continue;
    const std::string name(class_name(static_cast<ComponentClass>(c)));
    s.by_class[name] = stats_.failures_by_class[static_cast<size_t>(c)];
    s.repaired_downtime_hours_by_class[name] = stats_.downtime_s_by_class[static_cast<size_t>(c)] / 3600.0;
  }
  recorder_.summarize(s);
}

}  // namespace fleetsim
