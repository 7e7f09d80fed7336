// SPDX-License-Identifier: Apache-2.0
#include "models/network/flow_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fleetsim {

namespace {
constexpr uint32_t kFlowBit = 0x80000000u;
// Min-heap order for std::push_heap/pop_heap (which build max-heaps): smallest share on top, ties by id.
struct HeapGreater {
  template <class E>
  bool operator()(const E& a, const E& b) const {
    return a.share > b.share || (a.share == b.share && a.id > b.id);
  }
};
}  // namespace

FlowModel::FlowModel(const Topology& topology, Router& router, Engine& engine, Recorder* recorder,
                     FlowModelOptions options)
    : topo_(topology), router_(router), engine_(engine), recorder_(recorder), opt_(std::move(options)) {
  const EdgeIndex edges = topology.directed_edges();
  capacity_.resize(edges);
  kind_of_.resize(edges);
  for (EdgeIndex e = 0; e < edges; ++e) {
    const auto& r = topology.edge(e);
    capacity_[e] = r.bytes_per_s;
    kind_of_[e] = static_cast<uint8_t>(r.kind);
    kind_capacity_[kind_of_[e]] += capacity_[e];
    kind_links_[kind_of_[e]] += 1;
  }
  kind_drain_ = engine_.register_kind("net-drain");
  kind_deliver_ = engine_.register_kind("net-deliver");
  kind_solve_ = engine_.register_kind("net-solve");
  kind_sample_ = engine_.register_kind("net-sample");
  integrated_to_ = last_sample_ = engine_.now();
  if (recorder_ != nullptr && opt_.sample_interval > Duration::zero()) {
    table_ = recorder_->table<NetworkClassSample>(opt_.table);
    sample_ev_ = engine_.schedule_in(opt_.sample_interval, Phase::Sample, [this] { sample(); }, kind_sample_);
    if (!opt_.links_table.empty()) {
      link_sampling_ = true;
      links_table_ = recorder_->table<LinkLoadSample>(opt_.links_table);
    }
  }
}

void FlowModel::ensure_links() {
  if (links_.empty()) links_.resize(capacity_.size());
}

FlowModel::~FlowModel() {
  // Events capture `this`: none may run after the model is gone.
  for (auto& f : flows_)
    if (f.state != State::Free) engine_.cancel(f.ev);
  engine_.cancel(solve_ev_);
  engine_.cancel(sample_ev_);
}

FlowModel::Flow* FlowModel::get(FlowId id) {
  const uint64_t v = id.value();
  const uint32_t slot = static_cast<uint32_t>(v & 0xffffffffu);
  if (!id.valid() || slot >= flows_.size()) return nullptr;
  Flow& f = flows_[slot];
  if (f.state == State::Free || f.gen != static_cast<uint32_t>(v >> 32)) return nullptr;
  return &f;
}
const FlowModel::Flow* FlowModel::get(FlowId id) const { return const_cast<FlowModel*>(this)->get(id); }

uint32_t FlowModel::alloc_slot() {
  if (!free_.empty()) {
    const uint32_t s = free_.back();
    free_.pop_back();
    return s;
  }
  flows_.emplace_back();
  return static_cast<uint32_t>(flows_.size() - 1);
}

FlowId FlowModel::start(VertexId src, VertexId dst, double bytes, EventFn on_done, uint64_t key,
                        double max_bytes_per_s) {
  if (!(bytes >= 0) || !std::isfinite(bytes)) throw std::invalid_argument("FlowModel::start: bytes must be finite and >= 0");
  if (!(max_bytes_per_s > 0)) throw std::invalid_argument("FlowModel::start: rate cap must be positive");
  const uint32_t slot = alloc_slot();
  Flow& f = flows_[slot];
  const FlowId id = id_of(slot);
  f.state = State::Pending;
  f.src = src;
  f.dst = dst;
  f.key = key != 0 ? key : id.value();
  f.bytes = f.remaining = bytes;
  f.rate = 0;
  f.cap = max_bytes_per_s;
  f.last = engine_.now();
  f.done = std::move(on_done);
  f.latency = Duration::zero();
  ++stats_.flows_started;
  if (!route_flow(f, f.path, f.frac, f.latency)) {
    fail_later(slot);
    return id;
  }
  if (f.path.empty() || bytes == 0) {
    // Nothing to share: only the latency.
    f.state = State::Draining;
    f.ev = engine_.schedule_in(f.latency, Phase::Completion, [this, slot] { deliver(slot, false); }, kind_deliver_);
    return id;
  }
  attach(slot);
  ++active_count_;
  request_solve();
  return id;
}

bool FlowModel::abort(FlowId id) {
  Flow* f = get(id);
  if (f == nullptr) return false;
  const uint32_t slot = static_cast<uint32_t>(id.value() & 0xffffffffu);
  engine_.cancel(f->ev);
  if (f->state == State::Pending || f->state == State::Active) {
    detach(slot);
    --active_count_;
    request_solve();
  }
  f->done.reset();
  f->state = State::Free;
  ++f->gen;
  f->path.clear();
  free_.push_back(slot);
  return true;
}

bool FlowModel::active(FlowId id) const {
  const Flow* f = get(id);
  return f != nullptr && (f->state == State::Pending || f->state == State::Active);
}
double FlowModel::rate(FlowId id) const {
  const Flow* f = get(id);
  return f == nullptr ? 0.0 : f->rate;
}
double FlowModel::remaining_bytes(FlowId id) const {
  const Flow* f = get(id);
  if (f == nullptr) return 0.0;
  if (f->state != State::Active) return f->state == State::Pending ? f->remaining : 0.0;
  return std::max(0.0, f->remaining - f->rate * (engine_.now() - f->last).seconds());
}
bool FlowModel::route_flow(const Flow& f, std::vector<EdgeIndex>& out, std::vector<double>& frac, Duration& latency) {
  frac.clear();
  latency = Duration::zero();
  bool ok = false;
  switch (router_.policy(f.src)) {
    case RoutingPolicy::Spray: {
      if (!router_.spray(f.src, f.dst, out, frac, &latency)) return false;
      // One path: fraction 1 everywhere, the unweighted case.
      bool all_one = true;
      for (double x : frac) all_one = all_one && x == 1.0;
      if (all_one) frac.clear();
      return true;
    }
    case RoutingPolicy::Adaptive:
      ok = router_.route_least_loaded(
          f.src, f.dst, f.key,
          [this](EdgeIndex e) { return capacity_[e] / static_cast<double>(flows_on(e) + 1); }, out);
      break;
    case RoutingPolicy::Ecmp:
    case RoutingPolicy::Pinned:
      ok = router_.route(f.src, f.dst, f.key, out);
      break;
  }
  if (ok)
    for (EdgeIndex e : out) latency += topo_.edge(e).latency;
  return ok;
}

const std::vector<double>& FlowModel::fractions(FlowId id) const {
  static const std::vector<double> none;
  const Flow* f = get(id);
  return f == nullptr ? none : f->frac;
}

const std::vector<EdgeIndex>& FlowModel::path(FlowId id) const {
  static const std::vector<EdgeIndex> none;
  const Flow* f = get(id);
  return f == nullptr ? none : f->path;
}

double FlowModel::load(EdgeIndex e) const {
  double s = 0;
  if (links_.empty()) return s;
  const Link& l = links_[e];
  for (size_t i = 0; i < l.flows.size(); ++i) s += flows_[l.flows[i]].rate * l.weight[i];
  return s;
}

void FlowModel::mark_dirty(EdgeIndex e) {
  if (links_.empty()) return;  // no flow has started: nothing to solve
  if (links_[e].dirty == dirty_epoch_) return;
  links_[e].dirty = dirty_epoch_;
  dirty_.push_back(e);
}

void FlowModel::attach(uint32_t slot) {
  Flow& f = flows_[slot];
  departures_only_ = false;
  ensure_links();
  f.pos.resize(f.path.size());
  for (size_t i = 0; i < f.path.size(); ++i) {
    auto& list = links_[f.path[i]].flows;
    f.pos[i] = static_cast<uint32_t>(list.size());
    list.push_back(slot);
    links_[f.path[i]].weight.push_back(weight(f, i));
    mark_dirty(f.path[i]);
  }
}

void FlowModel::detach(uint32_t slot) {
  Flow& f = flows_[slot];
  if (f.rate != 0) set_rate(f, 0);
  for (size_t i = 0; i < f.path.size(); ++i) {
    const EdgeIndex e = f.path[i];
    auto& list = links_[e].flows;
    auto& w = links_[e].weight;
    const uint32_t p = f.pos[i];
    const uint32_t moved = list.back();
    list[p] = moved;
    list.pop_back();
    w[p] = w.back();
    w.pop_back();
    if (moved != slot) {
      Flow& g = flows_[moved];
      for (size_t j = 0; j < g.path.size(); ++j)
        if (g.path[j] == e) {
          g.pos[j] = p;
          break;
        }
    }
    mark_dirty(e);
  }
}

void FlowModel::request_solve() {
  if (solve_pending_) return;
  solve_pending_ = true;
  solve_ev_ = engine_.schedule_at(engine_.now(), Phase::Completion,
                                  [this] {
                                    solve_pending_ = false;
                                    solve();
                                  },
                                  kind_solve_);
}

void FlowModel::flush() {
  if (!solve_pending_) return;
  engine_.cancel(solve_ev_);
  solve_pending_ = false;
  solve();
}

void FlowModel::integrate() {
  const SimTime now = engine_.now();
  if (now <= integrated_to_) return;
  const double dt = (now - integrated_to_).seconds();
  for (int k = 0; k < kLinkKinds; ++k) kind_integral_[k] += kind_load_[k] * dt;
  integrated_to_ = now;
}

void FlowModel::set_rate(Flow& f, double r) {
  integrate();
  const double delta = r - f.rate;
  for (size_t i = 0; i < f.path.size(); ++i) kind_load_[kind_of_[f.path[i]]] += delta * weight(f, i);
  if (link_sampling_)
    for (size_t i = 0; i < f.path.size(); ++i) link_load_changed(f.path[i], delta * weight(f, i));
  f.rate = r;
}

void FlowModel::link_load_changed(EdgeIndex e, double delta) {
  const SimTime now = engine_.now();
  if (link_sample_.empty()) {
    // At the first load, not at construction: a run whose fabric never carries load (aggregate
    // costing) keeps no per-link arrays, however large the fabric.
    link_sample_.assign(capacity_.size(), LinkSample{0.0, 0.0, now, 0, 0, 0});
  }
  LinkSample& x = link_sample_[e];  // one record per link: one cache line touched per change
  if (x.since < last_sample_) {
    // Unchanged through the last sample (not integrated there): its integral starts at that sample,
    // as if it had been.
    x.integral = 0;
    x.since = last_sample_;
  }
  x.integral += x.load * (now - x.since).seconds();
  x.since = now;
  x.load += delta;
  if (x.listed == 0) {
    x.listed = 1;
    changed_links_.push_back(e);
  }
}

size_t FlowModel::bucket_of(double key) {
  if (!(key > 0)) return 0;
  int exponent = 0;
  const double mantissa = std::frexp(key, &exponent);  // key = mantissa x 2^exponent, mantissa in [0.5, 1)
  const int octave = exponent - 1 - kLowestOctave;
  if (octave < 0) return 0;
  if (octave >= kOctaves) return size_t{kOctaves} * kBucketsPerOctave - 1;
  const int within = std::min(kBucketsPerOctave - 1, static_cast<int>((mantissa - 0.5) * 2 * kBucketsPerOctave));
  return static_cast<size_t>(octave) * kBucketsPerOctave + static_cast<size_t>(within);
}

void FlowModel::file_loaded(EdgeIndex e) {
  LinkSample& x = link_sample_[e];
  if (x.in_bucket == 0) ++in_bucket_;
  x.in_bucket = 1;
  const double key = capacity_[e] > 0 ? x.load / capacity_[e] : 0.0;
  if (by_load_.empty()) by_load_.resize(size_t{kOctaves} * kBucketsPerOctave);
  const size_t b = bucket_of(key);
  by_load_[b].push_back({e, x.version});
  top_bucket_ = std::max(top_bucket_, b);
  ++filed_;
}

// Drops the stale entries (links whose load changed since they were filed): O(entries).
void FlowModel::drop_stale() {
  filed_ = 0;
  top_bucket_ = 0;
  for (size_t b = 0; b < by_load_.size(); ++b) {
    std::erase_if(by_load_[b], [&](const LoadKey& k) { return k.version != link_sample_[k.e].version; });
    filed_ += by_load_[b].size();
    if (!by_load_[b].empty()) top_bucket_ = b;
  }
}

void FlowModel::add_external_load(EdgeIndex e, double delta_bytes_per_s) {
  if (delta_bytes_per_s == 0) return;
  integrate();
  kind_load_[kind_of_[e]] += delta_bytes_per_s;
  if (link_sampling_) link_load_changed(e, delta_bytes_per_s);
}

void FlowModel::add_external_kind_load(LinkKind k, double delta_bytes_per_s) {
  if (delta_bytes_per_s == 0) return;
  integrate();
  kind_load_[static_cast<int>(k)] += delta_bytes_per_s;
}

bool FlowModel::departures_keep_allocation() const {
  if (!departures_only_ || !opt_.skip_unchanged) return false;
  // The bottleneck test on current loads. Cheap here because a touched link of a large fabric carries
  // few flows; a failed test sends the batch to the full solve, which is always right.
  const auto bottleneck = [this](EdgeIndex e, double rate) {
    const Link& l = links_[e];
    double sum = 0, top = 0;
    for (uint32_t s : l.flows) {
      sum += flows_[s].rate;
      top = std::max(top, flows_[s].rate);
    }
    return sum >= capacity_[e] * (1 - 1e-10) && rate >= top * (1 - 1e-9);
  };
  for (EdgeIndex e : dirty_)
    for (uint32_t slot : links_[e].flows) {
      const Flow& g = flows_[slot];
      if (g.state != State::Active || !g.frac.empty()) return false;
      if (g.rate >= g.cap) continue;
      bool held = false;
      for (EdgeIndex p : g.path)
        if (bottleneck(p, g.rate)) {
          held = true;
          break;
        }
      if (!held) return false;
    }
  return true;
}

void FlowModel::solve() {
  if (dirty_.empty()) return;
  const bool skip = departures_keep_allocation();
  departures_only_ = true;
  if (skip) {
    // Counted when some flow was left to keep its rate (else there was nothing to solve anyway).
    if (std::any_of(dirty_.begin(), dirty_.end(), [this](EdgeIndex e) { return !links_[e].flows.empty(); }))
      ++stats_.solves_skipped;
    dirty_.clear();
    ++dirty_epoch_;
    return;
  }
  ++epoch_;
  comp_links_.clear();
  comp_flows_.clear();
  for (EdgeIndex e : dirty_) {
    if (links_[e].stamp == epoch_) continue;
    links_[e].stamp = epoch_;
    comp_links_.push_back(e);
  }
  dirty_.clear();
  ++dirty_epoch_;
  // The component: every flow on a touched link, every link of those flows, and so on.
  for (size_t i = 0; i < comp_links_.size(); ++i) {
    for (uint32_t slot : links_[comp_links_[i]].flows) {
      Flow& f = flows_[slot];
      if (f.stamp == epoch_) continue;
      f.stamp = epoch_;
      comp_flows_.push_back(slot);
      for (EdgeIndex e : f.path) {
        if (links_[e].stamp == epoch_) continue;
        links_[e].stamp = epoch_;
        comp_links_.push_back(e);
      }
    }
  }
  if (comp_flows_.empty()) return;
  ++stats_.solves;
  stats_.solved_flows += comp_flows_.size();
  stats_.solved_links += comp_links_.size();
  stats_.max_component = std::max<uint64_t>(stats_.max_component, comp_flows_.size());

  const SimTime now = engine_.now();
  heap_.clear();
  for (EdgeIndex e : comp_links_) {
    Link& l = links_[e];
    l.residual = capacity_[e];
    l.unfrozen = static_cast<uint32_t>(l.flows.size());
    // Sum of fractions (ECMP: 1 per flow, so this is the flow count exactly and the shares below are
    // the unweighted ones to the bit).
    l.unfrozen_weight = 0;
    for (double w : l.weight) l.unfrozen_weight += w;
    // A link crossed by one flow only constrains that flow: it becomes part of the flow's cap below
    // instead of a heap entry. In a large fabric most links carry one flow (every access link of a
    // host with one flow), so this keeps the heap to the links that are actually shared.
    if (l.unfrozen > 1) heap_.push_back({l.residual / l.unfrozen_weight, e});
  }
  for (uint32_t slot : comp_flows_) {
    Flow& f = flows_[slot];
    f.frozen = false;
    double cap = f.cap;
    for (size_t i = 0; i < f.path.size(); ++i)
      if (links_[f.path[i]].unfrozen == 1) cap = std::min(cap, capacity_[f.path[i]] / weight(f, i));
    if (std::isfinite(cap)) heap_.push_back({cap, slot | kFlowBit});
  }
  std::make_heap(heap_.begin(), heap_.end(), HeapGreater{});

  // Progressive filling. Every key in the heap is a lower bound of its link's current fair share
  // (shares only rise as flows freeze at the minimum share), so the popped entry is the bottleneck
  // once its share is re-evaluated and found not to have risen.
  size_t frozen = 0;
  auto freeze = [&](Flow& f, double r) {
    f.frozen = true;
    f.next = r;
    ++frozen;
    for (size_t i = 0; i < f.path.size(); ++i) {
      Link& l = links_[f.path[i]];
      const double w = weight(f, i);
      l.residual -= r * w;
      l.unfrozen_weight -= w;
      --l.unfrozen;
    }
  };
  while (!heap_.empty() && frozen < comp_flows_.size()) {
    std::pop_heap(heap_.begin(), heap_.end(), HeapGreater{});
    const HeapEntry top = heap_.back();
    heap_.pop_back();
    if ((top.id & kFlowBit) != 0) {
      Flow& f = flows_[top.id & ~kFlowBit];
      if (!f.frozen) freeze(f, top.share);
      continue;
    }
    Link& l = links_[top.id];
    if (l.unfrozen == 0) continue;
    // The last unfrozen flows' weights, not a running difference that may have drifted by rounding.
    if (router_.any_policy() && (l.unfrozen == 1 || l.unfrozen_weight <= 0)) {
      l.unfrozen_weight = 0;
      for (size_t i = 0; i < l.flows.size(); ++i)
        if (!flows_[l.flows[i]].frozen) l.unfrozen_weight += l.weight[i];
    }
    const double share = std::max(0.0, l.residual) / l.unfrozen_weight;
    if (share > top.share * (1 + 1e-12)) {
      heap_.push_back({share, top.id});
      std::push_heap(heap_.begin(), heap_.end(), HeapGreater{});
      continue;
    }
    for (uint32_t slot : l.flows) {
      Flow& f = flows_[slot];
      if (!f.frozen) freeze(f, share);
    }
  }

  for (uint32_t slot : comp_flows_) {
    Flow& f = flows_[slot];
    const double r = f.next;
    if (f.state == State::Pending) {
      set_rate(f, r);
      f.state = State::Active;
      f.last = now;
      ++stats_.rate_changes;
      schedule_drain(slot);
    } else if (std::abs(r - f.rate) > opt_.rate_tolerance * f.rate) {
      // Progress is settled only here, where the rate changes, not at every solve of the component:
      // then a flow's drain time depends on its rate history alone, not on how often its component
      // happened to be solved, and a skipped solve (departures_keep_allocation) changes nothing.
      f.remaining = std::max(0.0, f.remaining - f.rate * (now - f.last).seconds());
      f.last = now;
      set_rate(f, r);
      engine_.cancel(f.ev);
      ++stats_.rate_changes;
      schedule_drain(slot);
    }
  }
}

void FlowModel::schedule_drain(uint32_t slot) {
  Flow& f = flows_[slot];
  const double secs = f.remaining / f.rate;
  // Round up: the drain is never before the last byte is sent. Clamp far futures (a rate of a few
  // bytes per second) to something the clock can hold.
  const double ns = std::min(std::ceil(secs * 1e9), 4.0e18);
  const uint32_t gen = f.gen;
  f.ev = engine_.schedule_at(engine_.now() + Duration::ns(static_cast<int64_t>(ns)), Phase::Completion,
                             [this, slot, gen] {
                               if (flows_[slot].gen == gen) on_drain(slot);
                             },
                             kind_drain_);
}

void FlowModel::on_drain(uint32_t slot) {
  Flow& f = flows_[slot];
  f.remaining = 0;
  detach(slot);
  --active_count_;
  request_solve();
  f.last = engine_.now();
  if (f.latency > Duration::zero()) {
    f.state = State::Draining;
    f.ev = engine_.schedule_in(f.latency, Phase::Completion, [this, slot] { deliver(slot, false); }, kind_deliver_);
  } else {
    deliver(slot, false);
  }
}

void FlowModel::deliver(uint32_t slot, bool failed) {
  EventFn cb;
  {
    Flow& f = flows_[slot];
    cb = std::move(f.done);
    finishing_ = id_of(slot);
    finishing_failed_ = failed;
    if (!failed) ++stats_.flows_done;
    f.state = State::Free;
    ++f.gen;
    f.path.clear();
    f.ev = EventHandle{};
    free_.push_back(slot);
  }
  if (cb) cb();  // may start flows (and grow flows_): no reference to the slot is held here
  finishing_ = FlowId::none();
  finishing_failed_ = false;
}

void FlowModel::fail_later(uint32_t slot) {
  Flow& f = flows_[slot];
  f.state = State::Failing;
  ++stats_.flows_failed;
  f.ev = engine_.schedule_at(engine_.now(), Phase::Completion, [this, slot] { deliver(slot, true); }, kind_deliver_);
}

void FlowModel::reroute(uint32_t slot) {
  Flow& f = flows_[slot];
  const SimTime now = engine_.now();
  if (f.state == State::Active) {
    f.remaining = std::max(0.0, f.remaining - f.rate * (now - f.last).seconds());
    f.last = now;
  }
  engine_.cancel(f.ev);
  detach(slot);
  ++stats_.flows_rerouted;
  request_solve();
  if (!route_flow(f, f.path, f.frac, f.latency)) {
    --active_count_;
    fail_later(slot);
    return;
  }
  f.state = State::Pending;
  attach(slot);
}

void FlowModel::reroute_all() {
  for (uint32_t slot = 0; slot < flows_.size(); ++slot) {
    Flow& f = flows_[slot];
    if (f.state != State::Pending && f.state != State::Active) continue;
    if (router_.policy(f.src) == RoutingPolicy::Adaptive) continue;  // chose at start; still up
    Duration lat;
    const bool ok = route_flow(f, scratch_path_, scratch_frac_, lat);
    if (ok && scratch_path_ == f.path && scratch_frac_ == f.frac) continue;
    reroute(slot);
  }
}

void FlowModel::recount_capacity() {
  kind_capacity_.fill(0);
  kind_links_.fill(0);
  for (EdgeIndex e = 0; e < capacity_.size(); ++e) {
    if (!router_.usable(e)) continue;
    kind_capacity_[kind_of_[e]] += capacity_[e];
    kind_links_[kind_of_[e]] += 1;
  }
}

void FlowModel::set_link_up(uint32_t link, bool up) {
  if (!router_.set_link_up(link, up)) return;
  integrate();
  // Only this link's two directions change usability (when both their ends are up): O(1), not a
  // recount of every link, so failing 1% of a 16,384-GPU fabric's links costs what those links cost.
  for (EdgeIndex e : {link * 2, link * 2 + 1}) {
    const Topology::EdgeRec& r = topo_.edge(e);
    if (!router_.vertex_up(r.source) || !router_.vertex_up(r.target)) continue;
    const int k = kind_of_[e];
    kind_capacity_[k] += up ? capacity_[e] : -capacity_[e];
    kind_links_[k] += up ? 1u : uint32_t(-1);
  }
  if (links_.empty()) return;  // no flow to move
  if (!up) {
    for (EdgeIndex e : {link * 2, link * 2 + 1})
      while (!links_[e].flows.empty()) reroute(links_[e].flows.back());
  } else {
    reroute_all();
  }
}

void FlowModel::set_switch_up(VertexId v, bool up) {
  if (!router_.set_vertex_up(v, up)) return;
  integrate();
  recount_capacity();
  if (links_.empty()) return;  // no flow to move
  if (!up) {
    for (const Router::Out& o : router_.out(v))
      for (EdgeIndex e : {o.e, o.e ^ 1})
        while (!links_[e].flows.empty()) reroute(links_[e].flows.back());
  } else {
    reroute_all();
  }
}

void FlowModel::set_link_capacity(uint32_t link, double fraction) {
  if (!(fraction > 0 && fraction <= 1))
    throw std::invalid_argument("FlowModel::set_link_capacity: fraction must be in (0, 1]");
  integrate();
  departures_only_ = false;
  for (EdgeIndex e : {link * 2, link * 2 + 1}) {
    capacity_[e] = topo_.edge(e).bytes_per_s * fraction;
    mark_dirty(e);
    // Its utilization moves with its capacity: integrated at the next sample as a changed link (the
    // unchanged links are filed by load / capacity).
    if (link_sampling_ && !link_sample_.empty()) link_load_changed(e, 0.0);
  }
  recount_capacity();
  request_solve();
}

double FlowModel::load_integral_bytes(LinkKind k) const {
  const double dt = (engine_.now() - integrated_to_).seconds();
  return kind_integral_[static_cast<int>(k)] + kind_load_[static_cast<int>(k)] * dt;
}

double FlowModel::mean_utilization(LinkKind k) const {
  const double span = (engine_.now() - last_sample_).seconds();
  const double cap = kind_capacity_[static_cast<int>(k)];
  if (span <= 0 || cap <= 0) return 0;
  return (load_integral_bytes(k) - sample_integral_[static_cast<int>(k)]) / (span * cap);
}

void FlowModel::sample() {
  integrate();
  const SimTime now = engine_.now();
  const double span = (now - last_sample_).seconds();
  if (link_sampling_) sample_links(span);  // before the class integrals move on
  for (int k = 0; k < kLinkKinds; ++k) {
    if (topo_.report().links_per_kind[k] == 0) continue;
    const double mean_load = span > 0 ? (kind_integral_[k] - sample_integral_[k]) / span : 0.0;
    const double cap = kind_capacity_[k];
    recorder_->row(table_, NetworkClassSample{.time = now,
                                              .link_class = link_kind_name(static_cast<LinkKind>(k)),
                                              .links_up = static_cast<int64_t>(kind_links_[k]),
                                              .capacity_bytes_per_s = cap,
                                              .mean_load_bytes_per_s = mean_load,
                                              .utilization_fraction = cap > 0 ? mean_load / cap : 0.0});
    sample_integral_[k] = kind_integral_[k];
  }
  last_sample_ = now;
  sample_ev_ = engine_.schedule_in(opt_.sample_interval, Phase::Sample, [this] { sample(); }, kind_sample_);
}

// The links table: every class present (mean over its usable links, as network_utilization), then
// the hottest links of the interval by mean utilization (ties: lower edge index first, so reruns
// write the same rows).
void FlowModel::sample_links(double span) {
  const SimTime now = engine_.now();
  for (int k = 0; k < kLinkKinds; ++k) {
    if (topo_.report().links_per_kind[k] == 0) continue;
    const double mean_load = span > 0 ? (kind_integral_[k] - sample_integral_[k]) / span : 0.0;
    const double cap = kind_capacity_[k];
    const std::string_view name = link_kind_name(static_cast<LinkKind>(k));
    recorder_->row(links_table_, LinkLoadSample{.time = now,
                                                .scope = LinkLoadSample::class_scope,
                                                .link_class = name,
                                                .link = name,
                                                .rank = 0,
                                                .capacity_bytes_per_s = cap,
                                                .mean_load_bytes_per_s = mean_load,
                                                .utilization_fraction = cap > 0 ? mean_load / cap : 0.0});
  }
  hot_.clear();
  // The links whose load changed in the interval: integrated to now. Their bucket entries (if any) are
  // stale from here on; those still loaded are filed again after the unchanged ones are read.
  size_t kept = 0;
  for (EdgeIndex e : changed_links_) {
    LinkSample& x = link_sample_[e];
    x.integral += x.load * (now - x.since).seconds();
    x.since = now;
    const double load = span > 0 ? x.integral / span : 0.0;
    x.integral = 0;
    x.listed = 0;
    ++x.version;
    if (x.in_bucket != 0) --in_bucket_;
    x.in_bucket = 0;
    // Still loaded: filed again; idle since: dropped until it is loaded again.
    // (1 byte/s: what is left of rounding when the last flow's rate was taken off.)
    if (x.load > 1.0) changed_links_[kept++] = e;
    else x.load = 0;
    if (load > 0 && capacity_[e] > 0 && router_.usable(e)) hot_.push_back({load / capacity_[e], load, e});
  }
  changed_links_.resize(kept);
  const size_t want = opt_.top_links;
  // The links that did not change: each carried its load all interval, so its mean is that load (the
  // integral load x span over span, computed as the changed links' is). The hottest come from the top
  // buckets by load / capacity, which is within a few ulps of that utilization: whole buckets are read
  // while they can still hold one of the n hottest (their keys reach within 1e-9 of the n-th taken),
  // and the final sort below picks among them. Stale entries met on the way are dropped.
  nth_keys_.clear();
  double nth = 0;
  for (size_t b = top_bucket_ + 1; want > 0 && b-- > 0 && !by_load_.empty();) {
    if (nth_keys_.size() >= want && !(std::ldexp(0.5 + 0.5 * static_cast<double>(b % kBucketsPerOctave + 1) / kBucketsPerOctave,
                                                 static_cast<int>(b / kBucketsPerOctave) + kLowestOctave + 1) >= nth * (1 - 1e-9)))
      break;  // every key in bucket b (and below) is under that bound: none can be among the n hottest
    auto& bucket = by_load_[b];
    for (size_t i = 0; i < bucket.size();) {
      const LoadKey k = bucket[i];
      const LinkSample& x = link_sample_[k.e];
      if (k.version != x.version) {  // stale: the link's load changed since
        bucket[i] = bucket.back();
        bucket.pop_back();
        --filed_;
        continue;
      }
      ++i;
      if (capacity_[k.e] <= 0 || !router_.usable(k.e)) continue;
      const double load = span > 0 ? x.load * span / span : 0.0;
      if (!(load > 0)) continue;
      hot_.push_back({load / capacity_[k.e], load, k.e});
      nth_keys_.push_back(x.load / capacity_[k.e]);  // its key, as filed
    }
    if (bucket.empty() && b == top_bucket_ && b > 0) top_bucket_ = b - 1;
    if (nth_keys_.size() >= want) {
      std::nth_element(nth_keys_.begin(), nth_keys_.begin() + static_cast<std::ptrdiff_t>(want - 1), nth_keys_.end(), std::greater<>());
      nth = nth_keys_[want - 1];
      nth_keys_.resize(want);  // (the rest are below the n-th: not needed again)
    }
  }
  // Still loaded, the changed links are unchanged from now on until their next change: filed by their
  // load now.
  for (EdgeIndex e : changed_links_) file_loaded(e);
  changed_links_.clear();
  if (filed_ > in_bucket_ + in_bucket_ / 2 + 4096) drop_stale();  // (amortized: 3 entry moves per change)
  const size_t n = std::min<size_t>(opt_.top_links, hot_.size());
  const auto hotter = [](const HotLink& a, const HotLink& b) {
    return a.utilization > b.utilization || (a.utilization == b.utilization && a.e < b.e);
  };
  std::partial_sort(hot_.begin(), hot_.begin() + static_cast<std::ptrdiff_t>(n), hot_.end(), hotter);
  for (size_t i = 0; i < n; ++i) {
    const HotLink& h = hot_[i];
    const auto& r = topo_.edge(h.e);
    recorder_->row(links_table_, LinkLoadSample{.time = now,
                                                .scope = LinkLoadSample::link_scope,
                                                .link_class = link_kind_name(static_cast<LinkKind>(kind_of_[h.e])),
                                                .link = topo_.vertex(r.source).name + "->" + topo_.vertex(r.target).name,
                                                .rank = static_cast<int64_t>(i + 1),
                                                .capacity_bytes_per_s = capacity_[h.e],
                                                .mean_load_bytes_per_s = h.load,
                                                .utilization_fraction = h.utilization});
  }
}

}  // namespace fleetsim
