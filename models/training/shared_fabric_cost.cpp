// SPDX-License-Identifier: Apache-2.0
#include "models/training/shared_fabric_cost.hpp"

#include "models/network/nccl_protocol.hpp"

#include <algorithm>
#include <cmath>

namespace fleetsim {

namespace {
// Largest relative difference between two link vectors, against the larger's largest entry.
double relative_change(const LinkVector& a, const LinkVector& b) {
  if (a.size() != b.size()) return 1;
  const double scale = std::max(a.nonZeros() ? a.coeffs().abs().maxCoeff() : 0.0, b.nonZeros() ? b.coeffs().abs().maxCoeff() : 0.0);
  if (scale == 0) return 0;
  const LinkVector d = a - b;
  return d.nonZeros() ? d.coeffs().abs().maxCoeff() / scale : 0.0;
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
    Key key{static_cast<int>(c), bytes, std::vector<uint32_t>(members.begin(), members.end())};
    auto it = loads_.find(key);
    if (it == loads_.end()) {
      Entry e;
      std::vector<GpuId> gpus;
      gpus.reserve(members.size());
      for (uint32_t x : members) gpus.emplace_back(x);
      const auto placement = owner_.map_.placement(gpus);
      if (placement) {
        CollectiveSpec spec;
        spec.bytes = bytes;
        spec.alpha = owner_.alpha_;
        switch (c) {
          case Collective::AllReduce: spec.op = CollectiveOp::AllReduce; break;
          case Collective::AllGather: spec.op = CollectiveOp::AllGather; break;
          case Collective::ReduceScatter: spec.op = CollectiveOp::ReduceScatter; break;
          case Collective::AllToAll: spec.op = CollectiveOp::AllToAll; break;
          case Collective::SendRecv: spec.op = CollectiveOp::PointToPoint; break;
        }
        e.load = load_by_group(static_cast<int>(c), bytes, *placement, g.ranks, spec);
        e.per_call = e.load.bytes_per_call();
        e.mapped = true;
        ++owner_.loads_built_;
        // Writers of the checkpoint: the largest set of GPUs the job's collectives name (every GPU of
        // the job for the data-parallel groups of a regular layout).
        if (placement->size() > writers_.size()) writers_ = *placement;
      }
      it = loads_.emplace(std::move(key), std::move(e)).first;
    }
    const Entry& e = it->second;
    if (!e.mapped || !e.load.connected) return fallback(c, bytes, g);
    const SharedCollectiveCost cost = shared_collective_time(e.load, owner_.ledger_, id_, true);
    ++owner_.answers_;
    pending_.push_back({&e, g.calls_per_step > 0 ? g.calls_per_step : 1.0, cost.busy_seconds, cost.flow_seconds, cost.peak_flows});
    // Line rates to NCCL's data rate, as NetworkCommCost does (nccl_bus_efficiency of the group's links).
    const double t = cost.time.seconds();
    const double eta = nccl_bus_efficiency(g.scale_up ? NcclLink::ScaleUp : NcclLink::ScaleOut);
    const double s = cost.latency_s + std::max(0.0, t - cost.latency_s) / eta;
    return s / std::max(1e-9, g.network_factor);
  }

  /// The job's loads at step `step_s` from the collectives costed last, registered if they moved.
  bool register_load(const JobTraffic& t) {
    if (!pending_.empty()) {
      queries_ = std::move(pending_);
      pending_.clear();
    }
    const uint32_t E = owner_.ledger_.edges();
    LinkVector load(E), busy(E), flows(E), peak(E);
    const double step = std::max(1e-12, t.step_s);
    for (const Query& q : queries_) {
      load += (q.calls / step) * q.entry->per_call;
      busy += q.calls * q.busy_seconds;   // seconds per step for now
      flows += q.calls * q.flow_seconds;  // flow-seconds per step for now
      peak = cwise_max(peak, q.peak_flows);
    }
    // Flows while sending = flow-seconds / busy seconds; busy as a fraction of the step.
    LinkVector::InnerIterator bs(busy);
    for (LinkVector::InnerIterator it(flows); it; ++it) {
      while (bs && bs.index() < it.index()) ++bs;
      it.valueRef() /= (bs && bs.index() == it.index() && bs.value() > 0) ? bs.value() : 1.0;
    }
    for (LinkVector::InnerIterator it(busy); it; ++it) it.valueRef() = std::min(1.0, it.value() / step);
    bool changed = !registered_ || relative_change(load, load_) > kRegisterTolerance ||
                   relative_change(busy, busy_) > kRegisterTolerance ||
                   relative_change(flows, flows_) > kRegisterTolerance;
    if (changed) {
      owner_.ledger_.set_load(id_, load, flows, busy, peak);
      load_ = std::move(load);
      busy_ = std::move(busy);
      flows_ = std::move(flows);
      registered_ = true;
    }
    // Checkpoint writes: every writer sends its shard to its cluster's storage, at the job's storage
    // rate, for write_s of every cycle; re-routed only when the checkpoint's figures or writers change.
    if (t.checkpoint_bytes > 0 && t.checkpoint_cycle_s > 0 && !writers_.empty()) {
      const double rate = t.checkpoint_bytes / t.checkpoint_cycle_s / static_cast<double>(writers_.size());
      const double duty = std::clamp(t.checkpoint_write_s / t.checkpoint_cycle_s, 1e-6, 1.0);
      if (!ckpt_registered_ || std::abs(rate / ckpt_rate_ - 1) > kRegisterTolerance || std::abs(duty / ckpt_duty_ - 1) > kRegisterTolerance ||
          ckpt_writers_ != writers_.size()) {
        streams_.clear();
        const Topology& topo = owner_.router_.topology();
        for (VertexId w : writers_)
          if (auto st = topo.storage(topo.vertex(w).cluster)) streams_.push_back({w, *st, rate, 1, 1, id_});
        if (!streams_.empty()) {
          owner_.ledger_.set_streams(ckpt_, streams_, duty);
          changed = true;
        }
        ckpt_registered_ = true;
        ckpt_rate_ = rate;
        ckpt_duty_ = duty;
        ckpt_writers_ = writers_.size();
      }
    }
    return changed;
  }

  void unregister() {
    if (registered_) owner_.ledger_.clear(id_);
    if (ckpt_registered_) owner_.ledger_.clear(ckpt_);
    registered_ = ckpt_registered_ = false;
    queries_.clear();
    pending_.clear();
    loads_.clear();  // the next placement is routed afresh
    writers_.clear();
  }

  /// The fabric under the job changed: its collectives are routed again at the next costing.
  void reroute() {
    loads_.clear();
    groups_.clear();
    groups_ranks_ = 0;
    queries_.clear();
    pending_.clear();
    ckpt_registered_ = false;  // writers' routes too
  }

  ConsumerId id() const { return id_; }
  ConsumerId checkpoint_id() const { return ckpt_; }

 private:
  struct Entry {
    CollectiveLoad load;
    LinkVector per_call;
    bool mapped = false;
  };
  struct Query {
    const Entry* entry;
    double calls;
    LinkVector busy_seconds, flow_seconds, peak_flows;
  };
  using Key = std::tuple<int, double, std::vector<uint32_t>>;
  using GroupKey = std::tuple<int, double, std::vector<VertexId>>;

  /// The load of every group of `placement` (consecutive runs of `ranks`) running `spec` together, from
  /// each group's own routed load: a group seen before on this routing generation is not routed again.
  /// A job whose placement changed by one replaced host (most recoveries) re-routes only the groups
  /// that host is in; routing every group afresh was 61% of a shared-costing flagship run.
  CollectiveLoad load_by_group(int op, double bytes, const std::vector<VertexId>& placement, uint32_t ranks,
                               const CollectiveSpec& spec) const {
    const uint64_t gen = owner_.router_.generation();
    const size_t count = placement.size() / ranks;
    // Groups of placements long gone stay out of memory: every collective kind of the job covers its
    // GPUs once (about four kinds), so more than eight times the largest placement's ranks cached means
    // old groups; start over.
    widest_ = std::max(widest_, placement.size());
    if (gen != groups_gen_ || groups_ranks_ > 8 * widest_) {
      groups_.clear();
      groups_ranks_ = 0;
      groups_gen_ = gen;
    }
    std::vector<const CollectiveLoad*> parts;
    parts.reserve(count);
    std::vector<std::vector<VertexId>> one(1);
    for (size_t i = 0; i + ranks <= placement.size(); i += ranks) {
      GroupKey key{op, bytes, std::vector<VertexId>(placement.begin() + static_cast<std::ptrdiff_t>(i),
                                                    placement.begin() + static_cast<std::ptrdiff_t>(i + ranks))};
      auto it = groups_.find(key);
      if (it == groups_.end()) {
        one[0] = std::get<2>(key);
        CollectiveLoad l = collective_load(owner_.router_, one, spec);
        it = groups_.emplace(std::move(key), std::move(l)).first;
        groups_ranks_ += ranks;
      }
      parts.push_back(&it->second);
    }
    return merge_loads(parts);
  }

  double fallback(Collective c, double bytes, const CommGroup& g) const {
    ++owner_.fallbacks_;
    return (g.fallback != nullptr ? *g.fallback : owner_.fallback_).seconds(c, bytes, g);
  }

  SharedFabricCost& owner_;
  ConsumerId id_, ckpt_;
  mutable std::map<Key, Entry> loads_;
  mutable std::map<GroupKey, CollectiveLoad> groups_;  // per group, on routing generation groups_gen_
  mutable uint64_t groups_gen_ = UINT64_MAX;
  mutable size_t groups_ranks_ = 0, widest_ = 0;
  mutable std::vector<Query> pending_;
  mutable std::vector<VertexId> writers_;
  std::vector<Query> queries_;
  LinkVector load_, busy_, flows_;
  bool registered_ = false, ckpt_registered_ = false;
  double ckpt_rate_ = 0, ckpt_duty_ = 0;
  size_t ckpt_writers_ = 0;
  std::vector<Stream> streams_;
};

SharedFabricCost::SharedFabricCost(Router& router, const FleetNetworkMap& map, FabricLoad& ledger, Engine& engine,
                                   Duration alpha, const CommCost& fallback, const std::vector<std::string>& jobs)
    : router_(router), map_(map), ledger_(ledger), engine_(engine), alpha_(alpha), fallback_(fallback) {
  kind_ = engine.register_kind("fabric-recost");
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

SharedFabricCost::~SharedFabricCost() { engine_.cancel(ev_); }

const CommCost& SharedFabricCost::comm(size_t job) { return *jobs_.at(job); }

ConsumerId SharedFabricCost::consumer(size_t job) const { return jobs_.at(job)->id(); }

void SharedFabricCost::running(size_t job, const JobTraffic& traffic) {
  ledger_.clear_affected();
  if (jobs_.at(job)->register_load(traffic)) collect_affected();
  schedule();
}

void SharedFabricCost::stopped(size_t job) {
  ledger_.clear_affected();
  jobs_.at(job)->unregister();
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
