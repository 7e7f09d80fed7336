// SPDX-License-Identifier: Apache-2.0
#include "models/training/shared_fabric_cost.hpp"

#include "models/network/nccl_protocol.hpp"
#include "models/training/network_comm_cost.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

namespace fleetsim {

namespace {
// Largest relative difference between two link vectors, against the larger's largest entry. (One
// merge of the two index lists, no difference vector: a frontier job's registration is a million links.)
double relative_change(const LinkVector& a, const LinkVector& b) {
  if (a.size() != b.size()) return 1;
  const double scale = std::max(a.nonZeros() ? a.coeffs().abs().maxCoeff() : 0.0, b.nonZeros() ? b.coeffs().abs().maxCoeff() : 0.0);
  if (scale == 0) return 0;
  double worst = 0;
  LinkVector::InnerIterator x(a), y(b);
  while (x || y) {
    double d;
    if (x && (!y || x.index() < y.index())) {
      d = x.value();
      ++x;
    } else if (y && (!x || y.index() < x.index())) {
      d = -y.value();
      ++y;
    } else {
      d = x.value() - y.value();
      ++x;
      ++y;
    }
    worst = std::max(worst, std::abs(d));
  }
  return worst / scale;
}

// Sum over k of w[k] x terms[k] (or, with `max`, the largest of the terms at each link), each link's
// terms combined in k order: bit for bit what `sum += w[k] * terms[k]` for k = 0, 1, ... gives with
// Eigen's sparse sum (its entries are the union of the terms'), by one merge of the sorted index lists
// instead of a temporary vector per term (a frontier job's queries are millions of link entries, and
// the copies and their page faults were most of a re-registration).
LinkVector combine(std::span<const LinkVector* const> terms, std::span<const double> w, Eigen::Index size, bool max) {
  LinkVector out(size);
  Eigen::Index total = 0;
  for (const LinkVector* t : terms) total += t->nonZeros();
  out.reserve(total);
  std::vector<Eigen::Index> at(terms.size(), 0);
  while (true) {
    Eigen::Index next = std::numeric_limits<Eigen::Index>::max();
    for (size_t k = 0; k < terms.size(); ++k)
      if (at[k] < terms[k]->nonZeros()) next = std::min<Eigen::Index>(next, terms[k]->innerIndexPtr()[at[k]]);
    if (next == std::numeric_limits<Eigen::Index>::max()) break;
    bool first = true;
    double acc = 0;
    for (size_t k = 0; k < terms.size(); ++k) {
      if (at[k] >= terms[k]->nonZeros() || terms[k]->innerIndexPtr()[at[k]] != next) continue;
      const double v = terms[k]->valuePtr()[at[k]++];
      const double term = max ? v : w[k] * v;
      acc = first ? term : max ? std::max(acc, term) : acc + term;
      first = false;
    }
    out.insertBack(next) = acc;
  }
  return out;
}
}  // namespace

// One job's CommCost and its registration in the ledger.
class SharedFabricCost::JobComm final : public CommCost {
 public:
  JobComm(SharedFabricCost& owner, ConsumerId id, ConsumerId ckpt) : owner_(owner), id_(id), ckpt_(ckpt) {}

  double seconds(Collective c, double bytes, const CommGroup& g) const override {
    if (g.ranks < 2 || bytes <= 0 || g.gpus.empty() || g.gpus.size() != g.ranks) return fallback(c, bytes, g);
    const bool all = g.concurrent_gpus.size() > g.ranks && g.concurrent_gpus.size() % g.ranks == 0;
    const std::span<const uint32_t> members = all ? g.concurrent_gpus : g.gpus;
    Slot& e = slot_for(static_cast<int>(c), bytes, g.ranks, members, g.members_revision);
    e.round = round_;
    // Writers of the checkpoint: the largest set of GPUs the job's collectives name (every GPU of the
    // job for the data-parallel groups of a regular layout). The slot's own list, not a copy (a slot
    // read in this round is not dropped before register_load reads it).
    if (e.mapped && e.placement.size() > writers().size()) writers_ = &e.placement;
    if (!e.mapped || !e.load.merged().connected) return fallback(c, bytes, g);
    const SharedCollectiveCost& cost = cost_of(e);
    ++owner_.answers_;
    pending_.push_back({&e, g.calls_per_step > 0 ? g.calls_per_step : 1.0, e.version});
    // Line rates to NCCL's data rate, as NetworkCommCost does (nccl_bus_efficiency of the group's links).
    const double t = cost.time.seconds();
    const double eta = nccl_bus_efficiency(g.scale_up ? NcclLink::ScaleUp : NcclLink::ScaleOut);
    const double s = cost.latency_s + std::max(0.0, t - cost.latency_s) / eta;
    return s / std::max(1e-9, g.network_factor);
  }

  /// The job's loads at step `step_s` from the collectives costed last, registered if they moved.
  bool register_load(const JobTraffic& t) {
    ckpt_blocking_ = !t.checkpoint_async;
    owner_.ledger_.set_idle(id_, false);  // back from a held stop: sending again
    owner_.ledger_.set_idle(ckpt_, false);
    if (!pending_.empty()) {
      queries_ = std::move(pending_);
      pending_.clear();
      ++round_;  // the slots those queries read may change again
      // Slots no costing read in the last kKeepRounds rounds are of shapes the job no longer has (an
      // elastic change): dropped, so that a job holds about one copy of its collectives.
      std::erase_if(slots_, [&](const std::unique_ptr<Slot>& sl) {
        if (round_ - sl->round <= kKeepRounds) return false;
        const auto read = [&](const Query& q) { return q.entry == sl.get(); };
        const bool drop = std::none_of(queries_.begin(), queries_.end(), read) &&
                          std::none_of(registered_queries_.begin(), registered_queries_.end(), read);
        if (drop && writers_ == &sl->placement) writers_ = nullptr;
        return drop;
      });
    }
    const FabricLoad& ledger = owner_.ledger_;
    const double step = std::max(1e-12, t.step_s);
    // The same collectives at the same versions, costed to the same answers, at the same step: the
    // loads are what was registered, bit for bit (a restart on the same hosts with nothing moved).
    bool same = registered_ && step == registered_step_ && queries_.size() == registered_queries_.size();
    for (size_t i = 0; same && i < queries_.size(); ++i) {
      const Query& q = queries_[i];
      const Query& r = registered_queries_[i];
      same = q.entry == r.entry && q.calls == r.calls && q.version == r.version && q.entry->version == q.version &&
             q.entry->cost_stamp == registered_stamps_[i];
    }
    // Or the same as queries whose loads were found within tolerance of the registration, which was
    // kept: the outcome is known without summing every query's link vectors again (a restart after
    // the job's registration was kept once would otherwise sum them at every restart).
    bool accepted = !same && registered_ && !ledger.suspended(id_) && step == accepted_step_ &&
                    queries_.size() == accepted_queries_.size() && !queries_.empty();
    for (size_t i = 0; accepted && i < queries_.size(); ++i) {
      const Query& q = queries_[i];
      const Query& r = accepted_queries_[i];
      accepted = q.entry == r.entry && q.calls == r.calls && q.version == r.version && q.entry->version == q.version &&
                 q.entry->cost_stamp == accepted_stamps_[i];
    }
    bool changed = false;
    if (accepted) {
      // Nothing to do: the registration stands.
    } else if (same) {
      if (ledger.suspended(id_)) {
        owner_.ledger_.resume(id_);
        changed = true;
      }
    } else {
      const uint32_t E = ledger.edges();
      std::vector<const LinkVector*> per_call, busy_s, flow_s, peaks;
      std::vector<double> per_step, calls;
      for (const Query& q : queries_) {
        const SharedCollectiveCost& c = q.entry->cost;
        per_call.push_back(&q.entry->per_call);
        per_step.push_back(q.calls / step);
        calls.push_back(q.calls);
        busy_s.push_back(&c.busy_seconds);
        flow_s.push_back(&c.flow_seconds);
        peaks.push_back(&c.peak_flows);
      }
      LinkVector load = combine(per_call, per_step, E, false);
      LinkVector busy = combine(busy_s, calls, E, false);   // seconds per step for now
      LinkVector flows = combine(flow_s, calls, E, false);  // flow-seconds per step for now
      LinkVector peak = combine(peaks, calls, E, true);
      // Flows while sending = flow-seconds / busy seconds; busy as a fraction of the step.
      LinkVector::InnerIterator bs(busy);
      for (LinkVector::InnerIterator it(flows); it; ++it) {
        while (bs && bs.index() < it.index()) ++bs;
        it.valueRef() /= (bs && bs.index() == it.index() && bs.value() > 0) ? bs.value() : 1.0;
      }
      for (LinkVector::InnerIterator it(busy); it; ++it) it.valueRef() = std::min(1.0, it.value() / step);
      if (registered_ && ledger.suspended(id_)) {
        // Back from a stop: the registration is kept only if it is exactly what a fresh one would be.
        changed = true;
        if (identical(load, load_) && identical(busy, busy_) && identical(flows, flows_) && identical(peak, peak_)) {
          owner_.ledger_.resume(id_);
          remember(step);
        } else {
          set(std::move(load), std::move(busy), std::move(flows), std::move(peak), step);
        }
      } else if (!registered_ || relative_change(load, load_) > kRegisterTolerance ||
                 relative_change(busy, busy_) > kRegisterTolerance || relative_change(flows, flows_) > kRegisterTolerance) {
        changed = true;
        set(std::move(load), std::move(busy), std::move(flows), std::move(peak), step);
      } else {
        accepted_step_ = step;  // kept within tolerance: remembered as such
        accepted_queries_ = queries_;
        accepted_stamps_.clear();
        for (const Query& q : queries_) accepted_stamps_.push_back(q.entry->cost_stamp);
      }
    }
    // Checkpoint writes: every writer sends its shard to its cluster's storage, at the job's storage
    // rate, for write_s of every cycle; re-routed only when the checkpoint's figures or writers change.
    const std::vector<VertexId>& writers = this->writers();
    // (A fabric without storage endpoints takes no checkpoint writes: no pass over the writers, which
    // are every GPU of the job, at every re-pace.)
    if (owner_.has_storage_ && t.checkpoint_bytes > 0 && t.checkpoint_cycle_s > 0 && !writers.empty()) {
      const double rate = t.checkpoint_bytes / t.checkpoint_cycle_s / static_cast<double>(writers.size());
      const double duty = std::clamp(t.checkpoint_write_s / t.checkpoint_cycle_s, 1e-6, 1.0);
      if (ckpt_registered_ && owner_.ledger_.suspended(ckpt_)) {
        // Back from a stop: the same writers at the same rate and duty on the same routes come back as
        // they were; anything else is registered afresh.
        if (same_writers(writers) && rate == ckpt_rate_ && duty == ckpt_duty_ && owner_.router_.generation() == ckpt_gen_) {
          owner_.ledger_.resume(ckpt_);
          changed = true;
        } else {
          ckpt_registered_ = false;
        }
      }
      const bool moved = std::abs(rate / ckpt_rate_ - 1) > kRegisterTolerance || std::abs(duty / ckpt_duty_ - 1) > kRegisterTolerance;
      if (ckpt_registered_ && moved && !owner_.ledger_.suspended(ckpt_) && same_writers(writers)) {
        // The same writers on a new interval: the same routes at a new rate (no routing of every GPU's
        // shard again, which was most of what checkpoints cost a run).
        owner_.ledger_.rescale_streams(ckpt_, rate / ckpt_rate_, duty);
        for (Stream& st : streams_) st.bytes_per_s = rate;
        ckpt_rate_ = rate;
        ckpt_duty_ = duty;
        changed = true;
      } else if (!ckpt_registered_ || moved || ckpt_writers_ != writers.size()) {
        streams_.clear();
        const Topology& topo = owner_.router_.topology();
        for (VertexId w : writers)
          if (auto st = topo.storage(topo.vertex(w).cluster)) streams_.push_back({w, *st, rate, 1, 1, id_});
        if (!streams_.empty()) {
          owner_.ledger_.set_streams(ckpt_, streams_, duty);
          changed = true;
        }
        ckpt_registered_ = true;
        ckpt_gen_ = owner_.router_.generation();
        ckpt_rate_ = rate;
        ckpt_duty_ = duty;
        ckpt_writers_ = writers.size();
      }
    }
    return changed;
  }

  /// The checkpoint streams registered last are these writers', one each, in this order.
  bool same_writers(const std::vector<VertexId>& writers) const {
    return ckpt_writers_ == writers.size() && streams_.size() == writers.size() &&
           std::equal(writers.begin(), writers.end(), streams_.begin(), [](VertexId w, const Stream& st) { return st.src == w; });
  }

  void unregister() {
    // Suspended, not cleared: to everyone else the job's traffic is gone, and a restart on the same
    // hosts at the same pace puts it back without re-registering link by link (register_load).
    if (registered_) owner_.ledger_.suspend(id_);
    if (ckpt_registered_) owner_.ledger_.suspend(ckpt_);
    hold();
    // Off the fabric, the job is not told of link changes: its routes are checked at the restart.
    for (auto& sl : slots_) sl->stale = true;
  }

  /// The job stopped but its traffic stays registered (a held stop): what its next costing starts
  /// from is reset as at any stop; the ledger is not touched. A restart whose loads are what was
  /// registered changes nothing (register_load finds them the same). Its routes stay current: a held
  /// job is touched by link changes as a running one is (SharedFabricCost::link_changed).
  void hold() {
    // Still registered, not sending: out of the class utilization for the spell (ignored once
    // suspended, as when unregister() calls this).
    if (registered_) owner_.ledger_.set_idle(id_, true);
    if (ckpt_registered_) owner_.ledger_.set_idle(ckpt_, true);
    queries_.clear();
    pending_.clear();
    ++round_;
    writers_ = nullptr;  // the slots stay: the next placement is diffed against them
  }

  /// The job will not run again: its registration leaves the ledger and its collectives are dropped.
  void release() {
    if (registered_) owner_.ledger_.clear(id_);
    if (ckpt_registered_) owner_.ledger_.clear(ckpt_);
    registered_ = ckpt_registered_ = false;
    slots_.clear();
    queries_.clear();
    pending_.clear();
    registered_queries_.clear();
    registered_stamps_.clear();
    forget_accepted();
    writers_ = nullptr;
    ++round_;
  }

  /// The fabric under the job changed: its collectives are routed again at the next costing.
  void reroute() {
    writers_ = nullptr;  // they pointed into the slots
    slots_.clear();
    forget_accepted();
    registered_queries_.clear();
    registered_stamps_.clear();
    queries_.clear();
    pending_.clear();
    ++round_;
    ckpt_registered_ = false;  // writers' routes too
  }

  ConsumerId id() const { return id_; }
  ConsumerId checkpoint_id() const { return ckpt_; }

 private:
  /// One collective of the job as the job's costing last asked for it: its members, their endpoints,
  /// and the load of all its groups (consecutive runs of `ranks` members) running together, kept as
  /// per-group loads merged (GroupedLoad). When the same collective is asked again with other members
  /// (a replaced host after an interruption), only the groups whose members changed are routed again and
  /// the merge is updated by their difference: the work is in the changed groups, not the job's size
  /// (routing and merging every group afresh was about half of a shared-costing flagship run).
  struct Slot {
    int op = 0;
    double bytes = 0;
    uint32_t ranks = 0;
    std::vector<uint32_t> members;
    uint64_t members_revision = 0;           // CommGroup::members_revision of the list members came from
    const uint32_t* members_at = nullptr;    // ... and its address
    std::vector<VertexId> placement;
    GroupedLoad load;
    LinkVector per_call;
    CollectiveSpec spec;
    uint64_t gen = 0;    // routing generation of the groups' loads
    uint64_t round = 0;  // the costing round that last read it (a pending query points at it)
    uint64_t used = 0;   // for dropping slots no longer asked for
    bool mapped = false;
    bool stale = false;  // kept across a stop of the job: check the routing generation before reuse
    uint64_t version = 0;  // bumped whenever its groups change
    // Its cost on the ledger, kept while nothing it read can have moved: its groups (version), the
    // others' entries and capacities on the job's links (FabricLoad::disturbed), and the job's own
    // registration, which must have been made from this slot at this version (so that the job has an
    // entry on every link the slot uses, and a change there disturbs it).
    SharedCollectiveCost cost;
    bool cost_valid = false;
    uint64_t cost_version = 0, cost_disturbed = 0, cost_stamp = 0;
    uint64_t registered_version = UINT64_MAX, registered_own = UINT64_MAX;
  };
  struct Query {
    const Slot* entry;
    double calls;
    uint64_t version;  // of the slot when asked
  };
  static constexpr size_t kMaxSlots = 32;
  static constexpr uint64_t kKeepRounds = 4;

  /// The slot of this collective with these members: the one that has them; else one of the same
  /// collective and shape not read in this costing round, updated by the groups that differ; else a
  /// new one.
  Slot& slot_for(int op, double bytes, uint32_t ranks, std::span<const uint32_t> members, uint64_t revision) const {
    ++uses_;
    Slot* reuse = nullptr;
    for (auto& p : slots_) {
      Slot& s = *p;
      if (s.op != op || s.bytes != bytes || s.ranks != ranks || s.members.size() != members.size()) continue;
      // The same list at the same revision (CommGroup::members_revision) has the slot's members: no
      // O(job) comparison at every restart.
      const bool known = revision != 0 && s.members_revision == revision && s.members_at == members.data();
      if (known || std::equal(members.begin(), members.end(), s.members.begin())) {
        s.members_revision = revision;
        s.members_at = members.data();
        // Kept across a stop, the slot's routes may predate a link change the stopped job was not
        // told of (it had no load to be touched by): routed again when the routing moved since.
        if (s.stale && s.gen != owner_.router_.generation()) build(s, members);
        s.stale = false;
        s.used = uses_;
        return s;
      }
      if (s.round != round_ && reuse == nullptr) reuse = &s;
    }
    if (reuse == nullptr) {
      if (slots_.size() >= kMaxSlots) {
        // Drop the least recently used slot no pending query reads (old shapes after an elastic change).
        auto victim = slots_.end();
        for (auto it = slots_.begin(); it != slots_.end(); ++it) {
          const auto reads = [&](const Query& q) { return q.entry == it->get(); };
          const bool read = std::any_of(queries_.begin(), queries_.end(), reads) ||
                            std::any_of(registered_queries_.begin(), registered_queries_.end(), reads);
          if ((*it)->round != round_ && !read && (victim == slots_.end() || (*it)->used < (*victim)->used)) victim = it;
        }
        if (victim != slots_.end()) {
          if (writers_ == &(*victim)->placement) writers_ = nullptr;
          slots_.erase(victim);
        }
      }
      slots_.push_back(std::make_unique<Slot>());
      Slot& s = *slots_.back();
      s.op = op;
      s.bytes = bytes;
      s.ranks = ranks;
      s.spec = collective_spec(static_cast<Collective>(op), bytes, owner_.alpha_);
      build(s, members);
      s.members_revision = revision;
      s.members_at = members.data();
      s.used = uses_;
      return s;
    }
    update(*reuse, members);
    reuse->members_revision = revision;
    reuse->members_at = members.data();
    reuse->used = uses_;
    return *reuse;
  }

  /// Routes every group of `members` afresh.
  void build(Slot& s, std::span<const uint32_t> members) const {
    s.members.assign(members.begin(), members.end());
    s.gen = owner_.router_.generation();
    s.stale = false;
    std::vector<GpuId> gpus;
    gpus.reserve(members.size());
    for (uint32_t x : members) gpus.emplace_back(x);
    auto placement = owner_.map_.placement(gpus);
    s.mapped = placement.has_value();
    s.placement = placement ? std::move(*placement) : std::vector<VertexId>{};
    std::vector<CollectiveLoad> groups;
    if (s.mapped) {
      groups.reserve(s.placement.size() / s.ranks);
      std::vector<std::vector<VertexId>> one(1);
      for (size_t i = 0; i + s.ranks <= s.placement.size(); i += s.ranks) {
        one[0].assign(s.placement.begin() + static_cast<std::ptrdiff_t>(i),
                      s.placement.begin() + static_cast<std::ptrdiff_t>(i + s.ranks));
        groups.push_back(collective_load(owner_.router_, one, s.spec));
      }
      ++owner_.loads_built_;
    }
    s.load.assign(std::move(groups));
    s.per_call = s.load.merged().bytes_per_call();
    ++s.version;
  }

  /// `s` with new members of the same shape: the groups whose members differ are routed again and the
  /// merge updated by them; everything afresh when the routing changed or most groups differ.
  void update(Slot& s, std::span<const uint32_t> members) const {
    s.stale = false;
    if (!s.mapped || s.gen != owner_.router_.generation()) return build(s, members);
    const size_t r = s.ranks, count = members.size() / r;
    changed_.clear();
    for (size_t g = 0; g < count; ++g)
      if (!std::equal(members.begin() + static_cast<std::ptrdiff_t>(g * r), members.begin() + static_cast<std::ptrdiff_t>((g + 1) * r),
                      s.members.begin() + static_cast<std::ptrdiff_t>(g * r)))
        changed_.push_back(g);
    if (changed_.size() * 4 > count) return build(s, members);
    std::vector<CollectiveLoad> loads;
    loads.reserve(changed_.size());
    std::vector<std::vector<VertexId>> one(1);
    for (size_t g : changed_) {
      one[0].clear();
      for (size_t i = g * r; i < (g + 1) * r; ++i) {
        const auto v = owner_.map_.endpoint(GpuId{members[i]});
        if (!v) return build(s, members);  // off the fabric: unmapped, as a fresh build finds
        one[0].push_back(*v);
      }
      std::copy(one[0].begin(), one[0].end(), s.placement.begin() + static_cast<std::ptrdiff_t>(g * r));
      loads.push_back(collective_load(owner_.router_, one, s.spec));
    }
    std::copy(members.begin(), members.end(), s.members.begin());
    s.load.replace(changed_, std::move(loads));
    s.per_call = s.load.merged().bytes_per_call();
    ++s.version;
    ++owner_.loads_built_;
  }

  /// The slot's cost against the ledger as it is: the kept one while it is still valid (see Slot).
  const SharedCollectiveCost& cost_of(Slot& e) const {
    const FabricLoad& ledger = owner_.ledger_;
    const bool valid = e.cost_valid && e.cost_version == e.version && e.cost_disturbed == ledger.disturbed(id_) &&
                       e.registered_version == e.version && e.registered_own == ledger.version(id_);
    if (!valid) {
      e.cost = shared_collective_time(e.load.merged(), ledger, id_, true, ckpt_blocking_ ? ckpt_ : kNoConsumer);
      e.cost_valid = true;
      e.cost_version = e.version;
      e.cost_disturbed = ledger.disturbed(id_);
      e.cost_stamp = ++stamps_;
      ++owner_.costings_;
    }
    return e.cost;
  }

  static bool identical(const LinkVector& a, const LinkVector& b) {
    const Eigen::Index n = a.nonZeros();
    return a.size() == b.size() && n == b.nonZeros() && std::equal(a.innerIndexPtr(), a.innerIndexPtr() + n, b.innerIndexPtr()) &&
           std::equal(a.valuePtr(), a.valuePtr() + n, b.valuePtr());
  }

  /// Registers the loads computed from queries_ (step `step`).
  void set(LinkVector load, LinkVector busy, LinkVector flows, LinkVector peak, double step) {
    owner_.ledger_.set_load(id_, load, flows, busy, peak);
    load_ = std::move(load);
    busy_ = std::move(busy);
    flows_ = std::move(flows);
    peak_ = std::move(peak);
    registered_ = true;
    remember(step);
  }
  /// The queries the registration now stands for: their slots' links all carry the job's entries.
  void remember(double step) {
    forget_accepted();
    registered_step_ = step;
    registered_queries_ = queries_;
    registered_stamps_.clear();
    const uint64_t own = owner_.ledger_.version(id_);
    for (const Query& q : queries_) {
      registered_stamps_.push_back(q.entry->cost_stamp);
      if (q.entry->version == q.version) {
        auto* s = const_cast<Slot*>(q.entry);
        s->registered_version = q.version;
        s->registered_own = own;
      }
    }
  }

  void forget_accepted() {
    accepted_step_ = -1;
    accepted_queries_.clear();
    accepted_stamps_.clear();
  }

  double fallback(Collective c, double bytes, const CommGroup& g) const {
    ++owner_.fallbacks_;
    return (g.fallback != nullptr ? *g.fallback : owner_.fallback_).seconds(c, bytes, g);
  }

  SharedFabricCost& owner_;
  ConsumerId id_, ckpt_;
  mutable std::vector<std::unique_ptr<Slot>> slots_;
  mutable std::vector<size_t> changed_;
  mutable uint64_t round_ = 1, uses_ = 0;
  mutable std::vector<Query> pending_;
  mutable const std::vector<VertexId>* writers_ = nullptr;  // a slot's placement, or none
  const std::vector<VertexId>& writers() const {
    static const std::vector<VertexId> none;
    return writers_ != nullptr ? *writers_ : none;
  }
  std::vector<Query> queries_;
  LinkVector load_, busy_, flows_, peak_;
  std::vector<Query> registered_queries_;
  std::vector<uint64_t> registered_stamps_;
  std::vector<Query> accepted_queries_;  // last found within tolerance of the registration (kept)
  std::vector<uint64_t> accepted_stamps_;
  double accepted_step_ = -1;
  double registered_step_ = 0;
  mutable uint64_t stamps_ = 0;
  uint64_t ckpt_gen_ = 0;
  bool registered_ = false, ckpt_registered_ = false;
  double ckpt_rate_ = 0, ckpt_duty_ = 0;
  size_t ckpt_writers_ = 0;
  // A blocking checkpoint stalls the job while it writes: its writes never meet the job's own
  // collectives, so they are not counted against them (an asynchronous one's are).
  bool ckpt_blocking_ = true;
  std::vector<Stream> streams_;
};

SharedFabricCost::SharedFabricCost(Router& router, const FleetNetworkMap& map, FabricLoad& ledger, Engine& engine,
                                   Duration alpha, const CommCost& fallback, const std::vector<std::string>& jobs,
                                   Duration stopped_traffic_hold)
    : router_(router), map_(map), ledger_(ledger), engine_(engine), alpha_(alpha), fallback_(fallback),
      hold_(std::max(Duration::zero(), stopped_traffic_hold)) {
  kind_ = engine.register_kind("fabric-recost");
  const Topology& topo = router.topology();
  for (VertexId v = 0; v < topo.vertices() && !has_storage_; ++v) has_storage_ = topo.vertex(v).kind == VertexKind::Storage;
  if (hold_ > Duration::zero()) hold_kind_ = engine.register_kind("fabric-hold");
  hold_ev_.resize(jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const ConsumerId id = ledger.add_consumer("training/" + jobs[j]);
    const ConsumerId ck = ledger.add_consumer("training/" + jobs[j] + "/checkpoint");
    jobs_.push_back(std::make_unique<JobComm>(*this, id, ck));
    job_of_consumer_.resize(ledger.consumers(), -1);
    job_of_consumer_[id] = static_cast<int64_t>(j);
    job_of_consumer_[ck] = static_cast<int64_t>(j);
  }
  pending_mark_.assign(jobs.size(), 0);
}

SharedFabricCost::~SharedFabricCost() {
  engine_.cancel(ev_);
  for (EventHandle h : hold_ev_) engine_.cancel(h);
}

const CommCost& SharedFabricCost::comm(size_t job) { return *jobs_.at(job); }

ConsumerId SharedFabricCost::consumer(size_t job) const { return jobs_.at(job)->id(); }

void SharedFabricCost::running(size_t job, const JobTraffic& traffic) {
  engine_.cancel(hold_ev_.at(job));  // back within its hold: its traffic never left
  hold_ev_[job] = {};
  ledger_.clear_affected();
  if (jobs_.at(job)->register_load(traffic)) collect_affected();
  schedule();
}

void SharedFabricCost::stopped(size_t job) {
  if (hold_ > Duration::zero()) {
    // Held: nobody is re-costed now; the traffic leaves at the hold's end unless the job is back.
    jobs_.at(job)->hold();
    engine_.cancel(hold_ev_[job]);
    hold_ev_[job] = engine_.schedule_in(hold_, Phase::Control, [this, job] { end_hold(job); }, hold_kind_);
    ++stops_held_;
    return;
  }
  ledger_.clear_affected();
  jobs_.at(job)->unregister();
  collect_affected();
  schedule();
}

void SharedFabricCost::end_hold(size_t job) {
  engine_.cancel(hold_ev_[job]);
  hold_ev_[job] = {};
  ++holds_expired_;
  ledger_.clear_affected();
  jobs_[job]->unregister();
  collect_affected();
  schedule();
}

void SharedFabricCost::finished(size_t job, bool /*was_running*/) {
  engine_.cancel(hold_ev_.at(job));
  hold_ev_[job] = {};
  ledger_.clear_affected();
  jobs_.at(job)->release();  // a suspended registration leaves without marking anyone again
  collect_affected();
  schedule();
}

void SharedFabricCost::link_changed(uint32_t link, bool up) {
  touched_.clear();
  ledger_.touching(link, up, touched_);
  ledger_.clear_affected();
  for (ConsumerId c : touched_) {
    const int64_t j = c < job_of_consumer_.size() ? job_of_consumer_[c] : -1;
    if (j >= 0) {
      // A held job's routes are stale now: its traffic leaves at once (and comes back re-routed).
      if (engine_.pending(hold_ev_[static_cast<size_t>(j)])) {
        engine_.cancel(hold_ev_[static_cast<size_t>(j)]);
        hold_ev_[static_cast<size_t>(j)] = {};
        jobs_[static_cast<size_t>(j)]->unregister();
      }
      // A job routed through the link: re-routed and re-costed at the next pass.
      if (!pending_mark_[static_cast<size_t>(j)]) ++reroutes_;
      jobs_[static_cast<size_t>(j)]->reroute();
      if (!pending_mark_[static_cast<size_t>(j)]) {
        pending_mark_[static_cast<size_t>(j)] = 1;
        pending_.push_back(static_cast<size_t>(j));
      }
    } else if (ledger_.is_stream_consumer(c)) {
      const ConsumerId one[1] = {c};
      ledger_.reroute(one);
    }
  }
  collect_affected();
  schedule();
}

ConsumerId SharedFabricCost::add_consumer(std::string name) {
  const ConsumerId c = ledger_.add_consumer(std::move(name));
  job_of_consumer_.resize(ledger_.consumers(), -1);
  return c;
}

uint32_t SharedFabricCost::set_streams(ConsumerId c, std::span<const Stream> streams, double busy) {
  ledger_.clear_affected();
  const uint32_t unrouted = ledger_.set_streams(c, streams, busy);
  collect_affected();
  schedule();
  return unrouted;
}

void SharedFabricCost::clear(ConsumerId c) {
  ledger_.clear_affected();
  ledger_.clear(c);
  collect_affected();
  schedule();
}

void SharedFabricCost::ledger_changed() {
  collect_affected();
  schedule();
}

void SharedFabricCost::collect_affected() {
  for (ConsumerId c : ledger_.affected()) {
    const int64_t j = c < job_of_consumer_.size() ? job_of_consumer_[c] : -1;
    if (j < 0 || pending_mark_[static_cast<size_t>(j)]) continue;
    pending_mark_[static_cast<size_t>(j)] = 1;
    pending_.push_back(static_cast<size_t>(j));
  }
  ledger_.clear_affected();
}

void SharedFabricCost::schedule() {
  if (pending_.empty() || engine_.pending(ev_)) return;
  if (engine_.now() != round_time_) {
    round_time_ = engine_.now();
    rounds_ = 0;
  }
  if (rounds_ >= kMaxRounds) {
    // Mutual re-costing has not settled within the rounds allowed at this instant: keep the last
    // answers (each moved by more than the tolerance only in the last round).
    for (size_t j : pending_) pending_mark_[j] = 0;
    pending_.clear();
    return;
  }
  ev_ = engine_.schedule_in(Duration::zero(), Phase::Control, [this] { flush(); }, kind_);
}

void SharedFabricCost::flush() {
  engine_.cancel(ev_);
  ev_ = {};
  if (pending_.empty()) return;
  ++rounds_;
  batch_.swap(pending_);  // buffers swap, no allocation once grown; re-costs may queue new work
  for (size_t j : batch_) pending_mark_[j] = 0;
  std::sort(batch_.begin(), batch_.end());  // a deterministic order
  recosts_ += batch_.size();
  if (on_recost) on_recost(batch_);
  batch_.clear();
  schedule();
}

}  // namespace fleetsim
