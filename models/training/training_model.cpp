// SPDX-License-Identifier: Apache-2.0
#include "models/training/training_model.hpp"

#include "models/training/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
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

namespace {

/// A duration of `s` seconds, or Duration::max() beyond a century (an "unknown" runtime for backfill).
Duration bounded_seconds(double s) {
  if (!(s >= 0) || s > 100.0 * 365 * 86400) return Duration::max();
  return Duration::from_seconds(s);
}

/// A checkpoint: the progress it holds, when it is durable, when training resumed after its stall,
/// and the cumulative stall time at that instant (to tell training time from stall time).
struct Ckpt {
  uint64_t steps = 0;
  double tokens = 0;
  SimTime durable_at;
  SimTime resume;
  int64_t stall_cum = 0;
};

/// The running schedule from a step boundary: T per step, a checkpoint every K steps stalling C and
/// durable W after it starts; `since` steps done since the last checkpoint at the anchor.
struct Anchor {
  SimTime t;
  uint64_t steps = 0;
  double tokens = 0;
  uint64_t since = 0;
  int64_t stall_cum = 0;
  int64_t T = 1, C = 0, W = 0;
  uint64_t K = 1;
  double tps = 0;          // tokens per step
  uint64_t done_steps = 0; // the step count at which the job completes
};

/// Where a run stands at time t (events at t not yet applied).
struct Pos {
  uint64_t steps = 0;
  double tokens = 0;
  uint64_t since = 0;
  int64_t stall_cum = 0;
  uint64_t ckpts_started = 0;  // since the anchor (segment mode)
  bool in_stall = false;
  SimTime boundary;            // end of the step or stall in progress
  std::optional<Ckpt> durable; // latest durable checkpoint since the anchor
  std::optional<Ckpt> started; // latest started checkpoint since the anchor
};

Pos eval(const Anchor& a, SimTime t) {
  Pos p;
  p.steps = a.steps;
  p.tokens = a.tokens;
  p.since = a.since;
  p.stall_cum = a.stall_cum;
  p.boundary = a.t;
  const int64_t e = (t - a.t).ticks();
  if (e <= 0) return p;
  const int64_t x = e - 1;
  const int64_t T = a.T, C = a.C, W = a.W;
  const auto K = static_cast<int64_t>(a.K);
  const auto n1 = static_cast<int64_t>(a.K - std::min(a.K, a.since));
  const int64_t first = n1 * T;
  auto ckpt = [&](int64_t j) {
    Ckpt c;
    const int64_t s = first + j * (K * T + C);
    c.steps = a.steps + static_cast<uint64_t>(n1 + j * K);
    c.tokens = a.tokens + double(n1 + j * K) * a.tps;
    c.durable_at = a.t + Duration::ns(s + W);
    c.resume = a.t + Duration::ns(s + C);
    c.stall_cum = a.stall_cum + (j + 1) * C;
    return c;
  };
  if (x < first) {
    const int64_t k = x / T;
    p.steps += static_cast<uint64_t>(k);
    p.tokens += double(k) * a.tps;
    p.since += static_cast<uint64_t>(k);
    p.boundary = a.t + Duration::ns((k + 1) * T);
    return p;
  }
  const int64_t Lc = K * T + C;
  const int64_t y = x - first;
  const int64_t j = y / Lc;
  const int64_t r = y - j * Lc;
  const int64_t sj = first + j * Lc;
  p.ckpts_started = static_cast<uint64_t>(j + 1);
  p.started = ckpt(j);
  int64_t k = n1 + j * K;
  if (r < C) {
    p.in_stall = true;
    p.since = a.K;
    p.stall_cum = a.stall_cum + j * C + (r + 1);
    p.boundary = a.t + Duration::ns(sj + C);
  } else {
    const int64_t q = (r - C) / T;
    k += q;
    p.since = static_cast<uint64_t>(q);
    p.stall_cum = a.stall_cum + (j + 1) * C;
    p.boundary = a.t + Duration::ns(sj + C + (q + 1) * T);
  }
  p.steps = a.steps + static_cast<uint64_t>(k);
  p.tokens = a.tokens + double(k) * a.tps;
  if (x - W >= first) p.durable = ckpt(std::min(j, (x - W - first) / Lc));
  return p;
}

/// When the anchor's schedule reaches done_steps.
SimTime done_time(const Anchor& a) {
  const auto R = static_cast<int64_t>(a.done_steps - a.steps);
  const auto K = static_cast<int64_t>(a.K);
  const auto n1 = static_cast<int64_t>(a.K - std::min(a.K, a.since));
  // A job whose end lies beyond the simulated time range (a slow job with trillions of steps left)
  // never finishes within any horizon: saturate instead of overflowing.
  int64_t span = 0;
  const auto add_mul = [&span](int64_t n, int64_t d) {
    int64_t prod = 0;
    return !__builtin_mul_overflow(n, d, &prod) && !__builtin_add_overflow(span, prod, &span);
  };
  bool ok = true;
  if (R <= n1) {
    ok = add_mul(R, a.T);
  } else {
    const int64_t q = R - n1;
    const int64_t j = (q - 1) / K;
    const int64_t i = q - j * K;
    int64_t period = 0;
    ok = !__builtin_mul_overflow(K, a.T, &period) && !__builtin_add_overflow(period, a.C, &period) &&
         add_mul(n1, a.T) && add_mul(j, period) && add_mul(1, a.C) && add_mul(i, a.T);
  }
  if (!ok || span > SimTime::max().ticks() - a.t.ticks()) return SimTime::max();
  return a.t + Duration::ns(span);
}

}  // namespace

struct TrainingModel::Impl {
  struct Job {
    TrainingJobSpec spec;
    size_t idx = 0;
    JobState state = JobState::Pending;
    AllocationId alloc = kNoAllocation;
    JobStats st;
    StepBreakdown nominal;
    bool have_nominal = false;
    MemoryBreakdown mem;
    uint32_t replica_nodes = 1;
    uint32_t dp_active = 0;
    std::vector<char> replica_ok;
    StepBreakdown step;
    double slowdown = 1, netf = 1;
    PlacementShape shape;
    PlacementCounts counts;
    bool shape_dirty = true;
    Duration interval;
    // the run
    Anchor a;
    std::optional<Anchor> prev;
    Ckpt committed;
    std::vector<Ckpt> carried;
    SimTime run_start;
    int64_t stall_cum = 0;  // cumulative stall ns up to the current anchor (segment) or now (step)
    // step mode
    uint64_t steps = 0;
    double tokens = 0;
    uint64_t since = 0;
    bool in_stall = false;
    SimTime stall_start;
    std::optional<Ckpt> inflight;
    EventHandle ev;
    EventHandle resume_ev;
    // recovery
    SimTime down_since;
    std::string cause;
    bool planned = false;  // the current stop is planned (preemption, regrow): no failure counted
    SimTime wait_since;
    double dark = 0;       // share of the gang's hosts under a full outage (dark_fraction), as of dark_mark
    SimTime dark_mark;     // dark time is accrued up to here
    bool shrunk = false;
    bool partitioned = false;  // the probe found the placement split: no restart until it is whole
    std::map<uint32_t, uint32_t> bad;  // node -> open faults
    uint64_t failures_seen = 0;
    std::vector<size_t> followers;
  };

  Impl(const TrainingSpec& s, Fleet& f, Engine& e, Recorder& r, GangScheduler& sch, FailureModel* fm,
       const FailureSpec* fs, const CommCost* c)
      : spec(s), fleet(f), engine(e), rec(r), sched(sch), failures(fm), failure_spec(fs), comm(c) {
    if (comm == nullptr) {
      // One alpha-beta model per job is built on demand (hardware differs per job).
    }
    k_submit = engine.register_kind("training-submit");
    k_step = engine.register_kind("training-step");
    k_stall = engine.register_kind("training-ckpt-end");
    k_done = engine.register_kind("training-done");
    k_resume = engine.register_kind("training-resume");
    k_sample = engine.register_kind("training-sample");
    for (size_t i = 0; i < spec.jobs.size(); ++i) {
      const std::string err = validate_job(spec.jobs[i]);
      if (!err.empty()) throw std::invalid_argument(fmt::format("training job \"{}\": {}", spec.jobs[i].name, err));
      Job j;
      j.spec = spec.jobs[i];
      j.idx = i;
      j.mem = memory_per_gpu(j.spec);
      const uint64_t gpn = std::max<uint32_t>(1, j.spec.hardware.gpus_per_node);
      const uint64_t replica_gpus = uint64_t{j.spec.parallel.tp} * j.spec.parallel.pp * j.spec.parallel.cp;
      j.replica_nodes = static_cast<uint32_t>(std::max<uint64_t>(1, (replica_gpus + gpn - 1) / gpn));
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
    for (const Job& j : jobs) {
      alphabeta.push_back(std::make_unique<AlphaBetaCommCost>(j.spec.hardware));
      own_fallback.push_back(std::make_unique<OwnFallback>(alphabeta.back().get()));
    }
  }

  const TrainingSpec spec;
  Fleet& fleet;
  Engine& engine;
  Recorder& rec;
  GangScheduler& sched;
  FailureModel* failures;
  const FailureSpec* failure_spec;
  const CommCost* comm;
  std::vector<std::unique_ptr<AlphaBetaCommCost>> alphabeta;
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
  std::vector<std::unique_ptr<OwnFallback>> own_fallback;
  std::vector<Job> jobs;
  std::vector<int32_t> alloc_job;  // allocation id -> job index
  TableId table;
  EventKind k_submit{}, k_step{}, k_stall{}, k_done{}, k_resume{}, k_sample{};
  EventHandle sample_ev;
  uint64_t scheduled = 0;
  bool started = false;
  PlacementProbe* probe = nullptr;
  std::vector<NodeId> probe_nodes;  // scratch: the active nodes of a shrunk gang

  FabricTraffic* traffic = nullptr;
  const CommCost& comm_of(const Job& j) const {
    const CommCost* net = traffic != nullptr ? &traffic->comm(j.idx) : comm;
    if (net == nullptr) return *alphabeta[j.idx];
    own_fallback[j.idx]->net = net;
    return *own_fallback[j.idx];
  }
  /// Tells the shared fabric the job's pace and checkpoint writes (after its step was costed).
  void report_traffic(const Job& j) {
    if (traffic == nullptr || j.state != JobState::Running) return;
    JobTraffic t;
    t.step_s = Duration::ns(j.a.T).seconds();
    if (j.a.C > 0 || j.a.W > 0) {
      t.checkpoint_bytes = j.spec.checkpoint.size(j.spec.model.parameters);
      t.checkpoint_write_s = Duration::ns(j.a.W).seconds();
      t.checkpoint_cycle_s = static_cast<double>(j.a.K) * t.step_s + Duration::ns(j.a.C).seconds();
    }
    traffic->running(j.idx, t);
  }
  SimTime now() const { return engine.now(); }
  bool step_mode(const Job& j) const { return j.spec.fidelity == Fidelity::Step; }

  EventHandle at(SimTime t, Phase ph, EventFn fn, EventKind k) {
    ++scheduled;
    return engine.schedule_at(t, ph, std::move(fn), k);
  }

  // ---------------------------------------------------------------- submission and placement
  void submit(size_t i) {
    Job& j = jobs[i];
    j.state = JobState::Queued;
    j.st.submitted = now();
    GangRequest r;
    r.name = j.spec.name;
    const uint64_t gpn = std::max<uint32_t>(1, j.spec.hardware.gpus_per_node);
    r.nodes = static_cast<uint32_t>((j.spec.gpus() + gpn - 1) / gpn);
    r.replica_nodes = j.replica_nodes;
    r.unit_nodes = j.spec.parallel.tp > gpn ? static_cast<uint32_t>((j.spec.parallel.tp + gpn - 1) / gpn) : 1;
    r.spare_nodes = j.spec.recovery.hot_spare_nodes;
    r.accelerator = j.spec.hardware.accelerator;
    if (!j.spec.region.empty()) {
      r.region = fleet.find_region(j.spec.region);
      if (!r.region) throw std::invalid_argument(fmt::format("training job \"{}\": no region \"{}\"", j.spec.name, j.spec.region));
    }
    r.priority = j.spec.priority;
    r.preemptible = j.spec.preemptible;
    // Expected runtime for backfill: the nominal throughput with a 10% allowance for failures.
    {
      AlphaBetaCommCost ab(j.spec.hardware);
      PlacementShape guess;
      guess.nodes = r.nodes;
      // Alpha-beta: before placement there are no GPUs to cost on a fabric.
      const StepBreakdown b = step_breakdown(j.spec, j.spec.parallel.dp, guess, ab);
      r.expected_runtime = bounded_seconds(j.spec.total_tokens / b.tokens_per_s / 0.9);
    }
    r.on_start = [this, i](AllocationId id, std::span<const NodeId>) { on_started(i, id); };
    r.on_preempt = [this, i](AllocationId) { on_preempt(i); };
    j.alloc = sched.submit(std::move(r));
    if (alloc_job.size() <= j.alloc) alloc_job.resize(j.alloc + 1, -1);
    alloc_job[j.alloc] = static_cast<int32_t>(i);
    rec.event(now(), "training_submit").field("job", j.spec.name).field("gpus", j.spec.gpus()).field("layout", layout_name(j.spec.parallel));
  }

  void on_started(size_t i, AllocationId) {
    Job& j = jobs[i];
    j.shape_dirty = true;
    j.bad.clear();
    j.partitioned = false;  // a new placement: resume() asks the probe
    j.dark = 0;             // ... on usable hosts
    if (!j.st.started) {
      j.st.started = true;
      j.st.first_start = now();
      j.st.queued_s += (now() - j.st.submitted).seconds();
      j.down_since = now();
      j.cause = "launch";
      j.planned = true;
      rec.event(now(), "training_start").field("job", j.spec.name).field("gpus", j.spec.gpus());
    }
    j.state = JobState::Recovering;
    j.dp_active = j.spec.parallel.dp;
    j.replica_ok.assign(j.spec.parallel.dp, 1);
    j.shrunk = false;
    schedule_resume(j);
  }

  void on_preempt(size_t i) {
    Job& j = jobs[i];
    if (j.state == JobState::Done || j.state == JobState::Pending || j.state == JobState::Queued) {
      sched.release(j.alloc, true);
      return;
    }
    stop(j, "preemption", /*planned=*/true);
    ++j.st.preemptions;
    rec.event(now(), "training_preempt").field("job", j.spec.name).field("tokens", j.committed.tokens);
    j.state = JobState::Queued;
    j.bad.clear();
    j.partitioned = false;
    j.dark = 0;
    sched.release(j.alloc, true);
  }

  // ---------------------------------------------------------------- placement shape and pace
  const GangScheduler::Allocation& alloc_of(const Job& j) const { return sched.allocation(j.alloc); }

  bool node_active(const Job& j, NodeId n) const {
    const auto& nodes = alloc_of(j).nodes;
    auto it = std::lower_bound(nodes.begin(), nodes.end(), n);
    if (it == nodes.end() || *it != n) return false;
    if (!j.shrunk) return true;
    const size_t r = static_cast<size_t>(it - nodes.begin()) / j.replica_nodes;
    return r < j.replica_ok.size() && j.replica_ok[r] != 0;
  }

  void update_shape(Job& j) {
    if (!j.shape_dirty) return;
    j.shape_dirty = false;
    const auto& nodes = alloc_of(j).nodes;
    // Nodes are sorted and the hierarchy is laid out in index order, so racks, datacenters, zones
    // and regions of consecutive nodes are non-decreasing: count changes, no sets.
    size_t racks = 0, dcs = 0, zones = 0, regions = 0;
    uint32_t last[4] = {UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX};
    for (NodeId n : nodes) {
      const ComponentRef c = ref(n);
      const uint32_t ids[4] = {fleet.rack_of(n).value(), fleet.datacenter_of(c).value(), fleet.zone_of(c).value(),
                               fleet.region_of(c).value()};
      size_t* counts[4] = {&racks, &dcs, &zones, &regions};
      for (int k = 0; k < 4; ++k)
        if (ids[k] != last[k]) {
          last[k] = ids[k];
          ++*counts[k];
        }
    }
    j.shape.nodes = static_cast<uint32_t>(nodes.size());
    j.shape.racks = static_cast<uint32_t>(std::max<size_t>(1, racks));
    j.shape.datacenters = static_cast<uint32_t>(std::max<size_t>(1, dcs));
    j.shape.regions = static_cast<uint32_t>(std::max<size_t>(1, regions));
    // Representative groups for a topology-aware CommCost: TP inside the first node, a pipeline
    // neighbour pair, and one GPU per DP replica.
    j.shape.tp_gpus.clear();
    j.shape.pp_pair_gpus.clear();
    j.shape.dp_gpus.clear();
    if (!nodes.empty()) {
      const uint32_t gpn = j.spec.hardware.gpus_per_node;
      const IndexRange g0 = fleet.range(ref(nodes.front()), Level::Gpu);
      // TP ranks are consecutive GPUs: a TP group wider than a node (TP8 on 4-GPU GB200 nodes) spans
      // the first nodes of the stage.
      for (size_t n = 0; n < nodes.size() && j.shape.tp_gpus.size() < j.spec.parallel.tp; ++n) {
        const IndexRange gn = fleet.range(ref(nodes[n]), Level::Gpu);
        for (uint32_t k = gn.begin; k < gn.end && j.shape.tp_gpus.size() < j.spec.parallel.tp; ++k) j.shape.tp_gpus.push_back(k);
      }
      const size_t stage_nodes = std::max<size_t>(1, (size_t{j.spec.parallel.tp} * j.spec.parallel.cp + gpn - 1) / gpn);
      if (j.spec.parallel.pp > 1 && stage_nodes < nodes.size()) {
        j.shape.pp_pair_gpus = {g0.begin, fleet.range(ref(nodes[stage_nodes]), Level::Gpu).begin};
      }
      for (size_t r = 0; r * j.replica_nodes < nodes.size(); ++r)
        j.shape.dp_gpus.push_back(fleet.range(ref(nodes[r * j.replica_nodes]), Level::Gpu).begin);
      layout_groups(j, nodes, stage_nodes);
    }
    j.counts.nodes = nodes.size();
    j.counts.gpus = nodes.size() * j.spec.hardware.gpus_per_node;
    j.counts.racks = racks;
    j.counts.datacenters = dcs;
    j.counts.zones = zones;
    j.counts.regions = regions;
  }

  /// The job's communication groups on its placement, for a CommCost that costs flows on the real
  /// topology. Layout (as the scheduler places it): a replica is `replica_nodes` consecutive nodes
  /// holding its `pp` stages in order, `stage_nodes` nodes each; inside a stage the GPU at local index
  /// c * tp + t is TP rank t of CP rank c (TP fastest, as Megatron orders tp-cp-ep-dp-pp). So:
  ///   DP group (s, t):   GPU (r, s, c * tp + t) for every replica r and CP rank c (dp * cp ranks: the
  ///                      gradient all-reduce spans DP x CP)
  ///   CP group (r, s, t): GPU (r, s, c * tp + t) for c < cp
  ///   EP group:          ep consecutive replicas at one (s, c, t): experts are spread over DP ranks
  ///   expert DP group:   the replicas r = e (mod ep), every CP rank, at one (s, t): dp * cp / ep ranks
  ///   pipeline pairs:    GPU (r, s, l) and (r, s + 1, l) for every local index l < tp * cp
  /// The representative groups (dp_gpus, cp_gpus, ...) are the ones of replica 0, stage 0, TP rank 0;
  /// the *_all_gpus lists hold every group, one after the other. Left empty when the placement does
  /// not have this regular shape (then the CommCost falls back for those groups).
  void layout_groups(Job& j, const std::vector<NodeId>& nodes, size_t stage_nodes) {
    PlacementShape& sh = j.shape;
    for (auto* v : {&sh.dp_all_gpus, &sh.pp_pairs_all_gpus, &sh.cp_gpus, &sh.cp_all_gpus, &sh.ep_gpus, &sh.ep_all_gpus,
                    &sh.expert_dp_gpus, &sh.expert_dp_all_gpus})
      v->clear();
    const Parallelism& p = j.spec.parallel;
    const uint32_t gpn = j.spec.hardware.gpus_per_node;
    const uint64_t stage_gpus = uint64_t{p.tp} * p.cp;
    if (gpn == 0 || stage_nodes * p.pp != j.replica_nodes || stage_gpus > uint64_t{stage_nodes} * gpn ||
        nodes.size() % j.replica_nodes != 0)
      return;
    const size_t replicas = nodes.size() / j.replica_nodes;
    auto gpu = [&](size_t r, size_t s, uint64_t l) {
      return fleet.range(ref(nodes[r * j.replica_nodes + s * stage_nodes + l / gpn]), Level::Gpu).begin +
             static_cast<uint32_t>(l % gpn);
    };
    sh.dp_gpus.clear();
    for (size_t r = 0; r < replicas; ++r)
      for (uint32_t c = 0; c < p.cp; ++c) sh.dp_gpus.push_back(gpu(r, 0, uint64_t{c} * p.tp));
    for (size_t s = 0; s < p.pp; ++s)
      for (uint32_t t = 0; t < p.tp; ++t)
        for (size_t r = 0; r < replicas; ++r)
          for (uint32_t c = 0; c < p.cp; ++c) sh.dp_all_gpus.push_back(gpu(r, s, uint64_t{c} * p.tp + t));
    if (p.pp > 1)
      for (size_t r = 0; r < replicas; ++r)
        for (size_t s = 0; s + 1 < p.pp; ++s)
          for (uint64_t l = 0; l < stage_gpus; ++l) {
            sh.pp_pairs_all_gpus.push_back(gpu(r, s, l));
            sh.pp_pairs_all_gpus.push_back(gpu(r, s + 1, l));
          }
    if (p.cp > 1) {
      for (uint32_t c = 0; c < p.cp; ++c) sh.cp_gpus.push_back(gpu(0, 0, uint64_t{c} * p.tp));
      for (size_t r = 0; r < replicas; ++r)
        for (size_t s = 0; s < p.pp; ++s)
          for (uint32_t t = 0; t < p.tp; ++t)
            for (uint32_t c = 0; c < p.cp; ++c) sh.cp_all_gpus.push_back(gpu(r, s, uint64_t{c} * p.tp + t));
    }
    if (p.ep > 1 && replicas % p.ep == 0) {
      for (uint32_t e = 0; e < p.ep; ++e) sh.ep_gpus.push_back(gpu(e, 0, 0));
      for (size_t b = 0; b < replicas / p.ep; ++b)
        for (size_t s = 0; s < p.pp; ++s)
          for (uint64_t l = 0; l < stage_gpus; ++l)
            for (uint32_t e = 0; e < p.ep; ++e) sh.ep_all_gpus.push_back(gpu(b * p.ep + e, s, l));
      for (size_t r = 0; r < replicas; r += p.ep)
        for (uint32_t c = 0; c < p.cp; ++c) sh.expert_dp_gpus.push_back(gpu(r, 0, uint64_t{c} * p.tp));
      for (size_t s = 0; s < p.pp; ++s)
        for (uint32_t t = 0; t < p.tp; ++t)
          for (uint32_t e = 0; e < p.ep; ++e)
            for (size_t r = e; r < replicas; r += p.ep)
              for (uint32_t c = 0; c < p.cp; ++c) sh.expert_dp_all_gpus.push_back(gpu(r, s, uint64_t{c} * p.tp + t));
    }
  }

  double network_factor(const Job& j) const {
    const auto& nodes = alloc_of(j).nodes;
    if (nodes.empty()) return 1.0;
    // Datacenters are contiguous node ranges: look at the first and the last node's domains (a job
    // spanning more datacenters is rare, and its bottleneck is the cross-datacenter tier anyway).
    return std::min(fleet.network_factor(ref(nodes.front())), fleet.network_factor(ref(nodes.back())));
  }

  double slowest(const Job& j) const {
    if (fleet.slowed_components() == 0) return 1.0;
    const auto& nodes = alloc_of(j).nodes;
    if (!j.shrunk) return fleet.slowest(std::span<const NodeId>(nodes));
    double s = 1.0;
    for (size_t k = 0; k < nodes.size(); ++k)
      if (j.replica_ok[std::min(j.replica_ok.size() - 1, k / j.replica_nodes)]) s = std::max(s, fleet.slowest(std::span<const NodeId>(&nodes[k], 1)));
    return s;
  }

  /// The step at the current layout (dp_active, network factor), without slowdown.
  StepBreakdown compute_step(Job& j) {
    update_shape(j);
    j.netf = network_factor(j);
    j.shape.network_factor = j.netf;
    const PlacementShape& where = j.shape;  // no copy: the group lists are as large as the job
    if (j.dp_active == j.spec.parallel.dp) return step_breakdown(j.spec, j.dp_active, where, comm_of(j));
    // Elastic shrink keeps the micro-batches per replica: the global batch shrinks with DP.
    TrainingJobSpec s = j.spec;
    s.global_batch_tokens = j.spec.global_batch_tokens * j.dp_active / j.spec.parallel.dp;
    return step_breakdown(s, j.dp_active, where, comm_of(j));
  }

  Duration checkpoint_interval(Job& j, Duration T, Duration C) {
    const CheckpointPolicy& cp = j.spec.checkpoint;
    if (cp.kind == CheckpointPolicy::Kind::Fixed) return cp.interval;
    if (cp.kind == CheckpointPolicy::Kind::None) return Duration::max();
    double rate = 0;
    if (cp.mtbf) {
      rate = 1.0 / cp.mtbf->seconds();
    } else {
      double expected = 0;
      if (failure_spec != nullptr) {
        const std::string& region = fleet.region_name(RegionId{alloc_of(j).region});
        expected = interruption_rate_per_s(*failure_spec, j.counts, region, j.spec.hardware.accelerator);
      }
      rate = expected;
      if (cp.mtbf_source == CheckpointPolicy::MtbfSource::Observed) {
        // Gamma-Poisson update: the expected rate counts as one failure's worth of prior exposure.
        const double exposure = j.st.running_s;
        const double n = double(j.failures_seen);
        if (expected > 0) rate = (1.0 + n) / (1.0 / expected + exposure);
        else if (n > 0 && exposure > 0) rate = n / exposure;
      }
    }
    if (rate <= 0) return cp.interval;
    (void)T;
    return young_daly_interval(C, Duration::from_seconds(1.0 / rate), cp.daly_higher_order);
  }

  // ---------------------------------------------------------------- running
  void schedule_resume(Job& j) {
    engine.cancel(j.resume_ev);
    const RecoveryPolicy& rp = j.spec.recovery;
    // A planned stop (launch, preemption, regrow) needs no failure detection.
    const SimTime ready = j.planned ? now() : std::max(now(), j.down_since + rp.detection);
    Duration d = rp.restart;
    if (j.committed.tokens > 0) d += j.spec.checkpoint.restore_time(j.spec.model.parameters);
    const size_t i = j.idx;
    j.resume_ev = at(ready + d, Phase::Control, [this, i] { resume(jobs[i]); }, k_resume);
  }

  void resume(Job& j) {
    j.resume_ev = {};
    if (!placement_connected(j)) {
      // The restart cannot form its communicators: wait for the network (down time keeps its cause).
      j.partitioned = true;
      j.state = JobState::Waiting;
      j.wait_since = now();
      return;
    }
    accrue_dark(j);
    const double down = (now() - j.down_since).seconds();
    j.st.down_s += down;
    j.st.by_cause[j.cause].down_s += down;
    j.state = JobState::Running;
    j.planned = false;
    j.step = compute_step(j);
    if (!j.have_nominal && j.dp_active == j.spec.parallel.dp) {
      j.nominal = j.step;
      j.have_nominal = true;
    }
    j.slowdown = slowest(j);
    const Duration T = std::max(Duration::ns(1), Duration::from_seconds(j.step.step_s * j.slowdown));
    const CheckpointPolicy& cp = j.spec.checkpoint;
    const double P = j.spec.model.parameters;
    const bool none = cp.kind == CheckpointPolicy::Kind::None;
    const Duration C = none ? Duration::zero() : cp.stall(P);
    const Duration W = none ? Duration::zero() : std::max(C, cp.write_time(P));
    const double tps = j.step.tokens;
    const double remaining = std::max(0.0, j.spec.total_tokens - j.committed.tokens);
    const auto remaining_steps = static_cast<uint64_t>(std::max(1.0, std::ceil(remaining / tps - 1e-9)));
    uint64_t K;
    if (none) {
      K = remaining_steps + 1;
      j.interval = Duration::max();
    } else {
      j.interval = checkpoint_interval(j, T, C);
      const double k = std::round(j.interval.seconds() / T.seconds());
      K = static_cast<uint64_t>(std::clamp(k, 1.0, double(remaining_steps + 1)));
      if (W > C) K = std::max<uint64_t>(K, static_cast<uint64_t>(std::ceil((W - C).seconds() / T.seconds())));
    }
    Anchor a;
    a.t = now();
    a.steps = j.committed.steps;
    a.tokens = j.committed.tokens;
    a.since = 0;
    a.stall_cum = j.stall_cum;
    a.T = T.ticks();
    a.C = C.ticks();
    a.W = W.ticks();
    a.K = K;
    a.tps = tps;
    a.done_steps = a.steps + remaining_steps;
    j.a = a;
    j.prev.reset();
    j.carried.clear();
    j.committed.resume = now();
    j.committed.stall_cum = j.stall_cum;
    j.run_start = now();
    report_traffic(j);
    rec.event(now(), "training_resume")
        .field("job", j.spec.name)
        .field("dp", j.dp_active)
        .field("step_s", T.seconds())
        .field("checkpoint_every_steps", K)
        .field("tokens", j.committed.tokens);
    const size_t i = j.idx;
    const Duration left = bounded_seconds(remaining / tps * T.seconds() / 0.9);
    sched.set_expected_end(j.alloc, left == Duration::max() || SimTime::max() - now() <= left ? SimTime::max() : now() + left);
    if (step_mode(j)) {
      j.steps = a.steps;
      j.tokens = a.tokens;
      j.since = 0;
      j.in_stall = false;
      j.inflight.reset();
      j.ev = at(now() + T, Phase::Completion, [this, i] { step_end(jobs[i]); }, k_step);
    } else {
      j.ev = at(done_time(j.a), Phase::Completion, [this, i] { finish(jobs[i]); }, k_done);
    }
  }

  void step_end(Job& j) {
    j.ev = {};
    ++j.steps;
    j.tokens += j.a.tps;
    ++j.since;
    if (j.steps >= j.a.done_steps) {
      finish(j);
      return;
    }
    const size_t i = j.idx;
    if (j.since >= j.a.K) {
      if (j.inflight && j.inflight->durable_at <= now()) j.committed = *j.inflight;
      Ckpt c;
      c.steps = j.steps;
      c.tokens = j.tokens;
      c.durable_at = now() + Duration::ns(j.a.W);
      c.resume = now() + Duration::ns(j.a.C);
      c.stall_cum = j.stall_cum + j.a.C;
      j.inflight = c;
      j.in_stall = true;
      j.stall_start = now();
      ++j.st.checkpoints;
      rec.event(now(), "training_checkpoint").field("job", j.spec.name).field("tokens", j.tokens);
      j.ev = at(now() + Duration::ns(j.a.C), Phase::Completion, [this, i] { stall_end(jobs[i]); }, k_stall);
    } else {
      j.ev = at(now() + Duration::ns(j.a.T), Phase::Completion, [this, i] { step_end(jobs[i]); }, k_step);
    }
  }

  void stall_end(Job& j) {
    j.ev = {};
    j.stall_cum += j.a.C;
    j.since = 0;
    j.in_stall = false;
    const size_t i = j.idx;
    j.ev = at(now() + Duration::ns(j.a.T), Phase::Completion, [this, i] { step_end(jobs[i]); }, k_step);
  }

  /// Position of a Running job at t (events at t not applied).
  Pos position(const Job& j, SimTime t) const {
    if (step_mode(j)) {
      Pos p;
      p.steps = j.steps;
      p.tokens = j.tokens;
      p.since = j.since;
      p.stall_cum = j.stall_cum + (j.in_stall ? (t - j.stall_start).ticks() : 0);
      p.in_stall = j.in_stall;
      if (j.inflight && j.inflight->durable_at < t) p.durable = j.inflight;
      return p;
    }
    if (j.prev && t <= j.a.t) return eval(*j.prev, t);
    return eval(j.a, t);
  }

  Ckpt best_committed(const Job& j, SimTime t, const Pos& p) const {
    Ckpt c = j.committed;
    for (const Ckpt& k : j.carried)
      if (k.durable_at < t && k.tokens > c.tokens) c = k;
    if (p.durable && p.durable->tokens > c.tokens) c = *p.durable;
    return c;
  }

  /// Ends the current run at now(): rolls back to the last durable checkpoint (or, planned, takes
  /// one now), accounts time, and moves to Recovering under `cause` (`outage`: a scheduled outage's).
  void stop(Job& j, std::string_view cause, bool planned, bool outage = false) {
    const SimTime t = now();
    if (traffic != nullptr && j.state == JobState::Running) traffic->stopped(j.idx);
    accrue_dark(j);  // under the cause that ends here
    engine.cancel(j.ev);
    j.ev = {};
    if (j.state == JobState::Running) {
      const Pos p = position(j, t);
      Ckpt c = best_committed(j, t, p);
      double lost_s = 0, lost_tokens = 0;
      const int64_t stall_end = p.stall_cum;
      if (planned) {
        // A checkpoint taken now: nothing is lost. Its write overlaps the restart (downtime).
        c.steps = p.steps;
        c.tokens = p.tokens;
        ++j.st.checkpoints;
      } else {
        lost_tokens = p.tokens - c.tokens;
        lost_s = ((t - c.resume).ticks() - (p.stall_cum - c.stall_cum)) * 1e-9;
        lost_s = std::max(0.0, lost_s);
      }
      // Segment mode: checkpoints of a superseded anchor were counted when re-anchoring.
      if (!step_mode(j) && !(j.prev && t <= j.a.t)) j.st.checkpoints += p.ckpts_started;
      j.st.running_s += (t - j.run_start).seconds();
      j.stall_cum = stall_end;
      j.st.lost_s += lost_s;
      j.st.lost_tokens += lost_tokens;
      LossByCause& lc = j.st.by_cause[std::string(cause)];
      lc.lost_s += lost_s;
      lc.lost_tokens += lost_tokens;
      j.committed = c;
      j.carried.clear();
      j.inflight.reset();
      j.down_since = t;
    } else if (j.state == JobState::Recovering || j.state == JobState::Waiting) {
      const double down = (t - j.down_since).seconds();
      j.st.down_s += down;
      j.st.by_cause[j.cause].down_s += down;
      if (j.state == JobState::Waiting) j.st.waiting_s += (t - j.wait_since).seconds();
      engine.cancel(j.resume_ev);
      j.resume_ev = {};
      j.down_since = t;
    }
    j.cause = std::string(cause);
    j.planned = planned;
    if (!planned) {
      ++j.st.interruptions;
      ++j.st.by_cause[j.cause].interruptions;
    }
    if (outage) j.st.by_cause[j.cause].outage = true;
    j.state = JobState::Recovering;
  }

  void finish(Job& j) {
    j.ev = {};
    const SimTime t = now();
    if (!step_mode(j)) {
      const Pos p = position(j, t);
      if (!(j.prev && t <= j.a.t)) j.st.checkpoints += p.ckpts_started;
      j.stall_cum = p.stall_cum;
    }
    j.st.running_s += (t - j.run_start).seconds();
    j.steps = j.a.done_steps;
    j.tokens = j.a.tokens + double(j.a.done_steps - j.a.steps) * j.a.tps;
    j.committed.steps = j.steps;
    j.committed.tokens = j.tokens;
    if (traffic != nullptr && j.state == JobState::Running) traffic->stopped(j.idx);
    j.state = JobState::Done;
    j.st.done = true;
    j.st.finished = t;
    rec.event(t, "training_done")
        .field("job", j.spec.name)
        .field("tokens", j.tokens)
        .field("interruptions", j.st.interruptions)
        .field("ettr", ettr(j));
    sched.release(j.alloc, false);
    for (size_t f : j.followers) submit(f);
  }

  /// Changes the pace of a running job (straggler, network) from the next step boundary on.
  void repace(Job& j, bool recost = false) {
    if (j.state != JobState::Running) return;
    const int64_t before = j.a.T;
    repace_at(j, recost);
    if (recost || j.a.T != before) report_traffic(j);
  }

  void repace_at(Job& j, bool recost) {
    const double slow = slowest(j);
    const double netf = network_factor(j);
    if (!recost && slow == j.slowdown && netf == j.netf) return;
    if (recost || netf != j.netf) j.step = compute_step(j);
    j.slowdown = slow;
    const int64_t T = std::max(Duration::ns(1), Duration::from_seconds(j.step.step_s * j.slowdown)).ticks();
    if (T == j.a.T) return;
    const size_t i = j.idx;
    if (step_mode(j)) {
      j.a.T = T;  // the step in progress keeps its end; the next ones run at the new pace
      return;
    }
    const SimTime t = now();
    if (t <= j.a.t) {
      j.a.T = T;  // the anchor has not begun (a pending re-anchor): change its pace
    } else {
      const Pos p = eval(j.a, t);
      Anchor b = j.a;
      b.t = p.boundary;
      if (p.in_stall) {
        b.steps = p.steps;
        b.tokens = p.tokens;
        b.since = 0;
        b.stall_cum = p.started->stall_cum;
      } else {
        b.steps = p.steps + 1;
        b.tokens = p.tokens + j.a.tps;
        b.since = p.since + 1;
        b.stall_cum = p.stall_cum;
      }
      b.T = T;
      j.st.checkpoints += p.ckpts_started;
      for (const Ckpt& k : j.carried)
        if (k.durable_at < t && k.tokens > j.committed.tokens) j.committed = k;
      std::erase_if(j.carried, [&](const Ckpt& k) { return k.durable_at < t; });
      if (p.started) j.carried.push_back(*p.started);
      if (p.durable && p.durable->durable_at < t && p.durable->tokens > j.committed.tokens) j.committed = *p.durable;
      j.prev = j.a;
      j.a = b;
    }
    engine.cancel(j.ev);
    if (j.a.steps >= j.a.done_steps) {
      j.ev = at(j.a.t, Phase::Completion, [this, i] { finish(jobs[i]); }, k_done);
    } else {
      j.ev = at(done_time(j.a), Phase::Completion, [this, i] { finish(jobs[i]); }, k_done);
    }
  }

  // ---------------------------------------------------------------- failures
  static bool stops_job(const FailureEvent& e) {
    return e.kind == FailureEvent::Kind::Failure ||
           (e.kind == FailureEvent::Kind::OutageStart && e.outage_kind == OutageKind::Full);
  }
  static bool clears(const FailureEvent& e) {
    return e.kind == FailureEvent::Kind::Repair || (e.kind == FailureEvent::Kind::OutageEnd && e.outage_kind == OutageKind::Full);
  }

  /// Jobs' allocated nodes (gang and spares) inside component c: (job, node) pairs.
  void affected(ComponentRef c, std::vector<std::pair<size_t, NodeId>>& out) const {
    out.clear();
    auto add = [&](NodeId n) {
      const AllocationId a = sched.owner(n);
      if (a == kNoAllocation || a >= alloc_job.size() || alloc_job[a] < 0) return;
      out.emplace_back(static_cast<size_t>(alloc_job[a]), n);
    };
    if (c.level == Level::Gpu) {
      add(fleet.node_of(GpuId{c.index}));
      return;
    }
    if (c.level == Level::Node) {
      add(NodeId{c.index});
      return;
    }
    const IndexRange r = fleet.range(c, Level::Node);
    if (c.level == Level::Rack) {
      for (uint32_t n = r.begin; n < r.end; ++n) add(NodeId{n});
      return;
    }
    for (const Job& j : jobs) {
      if (j.alloc == kNoAllocation || j.state == JobState::Done || j.state == JobState::Pending || j.state == JobState::Queued) continue;
      const auto& al = alloc_of(j);
      for (const auto* v : {&al.nodes, &al.spares})
        for (auto it = std::lower_bound(v->begin(), v->end(), NodeId{r.begin}); it != v->end() && it->value() < r.end; ++it)
          out.emplace_back(j.idx, *it);
    }
  }

  std::vector<std::pair<size_t, NodeId>> scratch;

  void on_failure(const FailureEvent& e) {
    on_fault(e);
    if (probe != nullptr && (e.cls == ComponentClass::Link || e.cls == ComponentClass::Switch)) {
      if (e.kind == FailureEvent::Kind::Failure) check_split(e);
      else if (e.kind == FailureEvent::Kind::Repair) check_whole();
    }
  }

  // ---------------------------------------------------------------- network partitions
  /// Asks the probe about the job's active nodes (the whole gang, or the live replicas when shrunk).
  bool placement_connected(const Job& j) {
    if (probe == nullptr || j.alloc == kNoAllocation) return true;
    const auto& nodes = alloc_of(j).nodes;
    if (!j.shrunk) return probe->connected(std::span<const NodeId>(nodes));
    probe_nodes.clear();
    for (size_t k = 0; k < nodes.size(); ++k)
      if (j.replica_ok[std::min(j.replica_ok.size() - 1, k / j.replica_nodes)] != 0) probe_nodes.push_back(nodes[k]);
    return probe->connected(std::span<const NodeId>(probe_nodes));
  }

  /// After a link or switch failure (the router has seen it): a running job whose placement it splits
  /// is interrupted like a failure inside the placement. Recovering and waiting jobs are not running:
  /// resume() asks the probe before they run again. One probe per running job.
  void check_split(const FailureEvent& e) { check_split(class_name(e.cls), fleet.path(e.component)); }
  void check_split(std::string_view cls, std::string_view path) {
    for (Job& j : jobs) {
      if (j.state != JobState::Running || placement_connected(j)) continue;
      constexpr std::string_view cause = "network partition";
      rec.event(now(), "training_interrupt")
          .field("job", j.spec.name)
          .field("cause", cause)
          .field("class", cls)
          .field("path", path)
          .field("state", job_state_name(j.state));
      ++j.failures_seen;
      stop(j, cause, false);
      j.partitioned = true;
      recover(j);  // asks the probe again (spares may not have changed the placement)
    }
  }

  /// After a link or switch repair (a repair never splits): jobs waiting on a split placement that is
  /// whole again go on with their recovery (which may still wait for failed nodes).
  void check_whole() {
    for (Job& j : jobs) {
      if (!j.partitioned || j.state != JobState::Waiting) continue;
      if (placement_connected(j)) {
        j.partitioned = false;
        recover(j);
      }
    }
  }

  void on_fault(const FailureEvent& e) {
    using K = FailureEvent::Kind;
    if (e.kind == K::RepairStart) return;
    if (e.kind == K::StragglerStart || e.kind == K::StragglerEnd) {
      affected(e.component, scratch);
      size_t last = SIZE_MAX;
      for (const auto& [ji, n] : scratch)
        if (ji != last) {
          last = ji;
          repace(jobs[ji]);
        }
      return;
    }
    if ((e.kind == K::OutageStart || e.kind == K::OutageEnd) && e.outage_kind == OutageKind::Network) {
      for (Job& j : jobs) repace(j);
      return;
    }
    if (!stops_job(e) && !clears(e)) return;
    affected(e.component, scratch);
    if (scratch.empty()) return;
    const bool outage = e.kind == K::OutageStart || e.kind == K::OutageEnd;
    if (outage) update_dark(scratch);  // the fleet has changed: shares of hosts in the dark from now
    if (stops_job(e)) {
      std::vector<size_t> hit;
      for (const auto& [ji, n] : scratch) {
        Job& j = jobs[ji];
        if (j.state == JobState::Done || j.state == JobState::Queued || j.state == JobState::Pending) continue;
        ++j.bad[n.value()];
        if (node_active(j, n) && (hit.empty() || hit.back() != ji)) hit.push_back(ji);
      }
      std::sort(hit.begin(), hit.end());
      hit.erase(std::unique(hit.begin(), hit.end()), hit.end());
      for (size_t ji : hit) {
        Job& j = jobs[ji];
        const bool move = outage && j.spec.recovery.outage == RecoveryPolicy::OutagePolicy::Move;
        // A job pinned to a region moves only inside it (hosts under the outage are not free, so a
        // region outage leaves it paused); any other job leaves the outage's region.
        const std::optional<RegionId> away =
            j.spec.region.empty() ? std::optional<RegionId>(fleet.region_of(e.component)) : std::nullopt;
        if (j.state == JobState::Waiting) {
          // Not running, so nothing to interrupt: without this, every failure drawn on the dark hosts
          // of a job paused by an outage counted as another interruption and took the outage's down
          // time. The fault joins what the job waits for, its down time stays with the cause that
          // stopped it, and an outage may still move it.
          recover(j, move, away);
          continue;
        }
        const std::string cause = outage ? fmt::format("outage: {}", e.cause) : std::string(e.cause);
        rec.event(now(), "training_interrupt")
            .field("job", j.spec.name)
            .field("cause", cause)
            .field("class", class_name(e.cls))
            .field("path", fleet.path(e.component))
            .field("state", job_state_name(j.state));
        if (!outage) ++j.failures_seen;
        stop(j, cause, false, outage);
        recover(j, move, away);
      }
      return;
    }
    // A repair or an outage's end.
    std::vector<size_t> touched;
    for (const auto& [ji, n] : scratch) {
      Job& j = jobs[ji];
      auto it = j.bad.find(n.value());
      if (it == j.bad.end()) continue;
      if (--it->second == 0) j.bad.erase(it);
      touched.push_back(ji);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (size_t ji : touched) {
      Job& j = jobs[ji];
      if (j.state == JobState::Waiting) {
        recover(j);
      } else if (j.state == JobState::Running && j.shrunk && gang_bad(j).empty()) {
        // Every replica is whole again: a planned restart at full DP.
        ++j.st.regrows;
        rec.event(now(), "training_regrow").field("job", j.spec.name).field("dp", j.spec.parallel.dp);
        stop(j, "elastic regrow", true);
        j.shrunk = false;
        j.dp_active = j.spec.parallel.dp;
        j.replica_ok.assign(j.spec.parallel.dp, 1);
        schedule_resume(j);
      }
    }
  }

  /// Gang nodes (all replicas) with open faults.
  std::vector<NodeId> gang_bad(const Job& j) const {
    std::vector<NodeId> out;
    const auto& nodes = alloc_of(j).nodes;
    for (const auto& [n, k] : j.bad) {
      if (std::binary_search(nodes.begin(), nodes.end(), NodeId{n})) out.push_back(NodeId{n});
    }
    return out;
  }

  /// Whether `n` (just moved into the gang) is the gang's only node in its datacenter.
  bool new_datacenter(const Job& j, NodeId n) const {
    const auto& nodes = alloc_of(j).nodes;
    const IndexRange r = fleet.range(ref(fleet.datacenter_of(ref(n))), Level::Node);
    const auto lo = std::lower_bound(nodes.begin(), nodes.end(), NodeId{r.begin});
    const auto hi = std::lower_bound(nodes.begin(), nodes.end(), NodeId{r.end});
    return hi - lo <= 1;
  }

  bool healthy_spare(const Job& j, NodeId s) const {
    if (j.bad.count(s.value()) != 0) return false;
    const ComponentRef c = ref(s);
    return fleet.usable(c) && fleet.usable_gpus(c) == fleet.gpus_per_node(fleet.datacenter_of(c));
  }

  /// Decides how a stopped job gets a whole gang again, and schedules its resume or makes it wait.
  /// `move`: a full outage is over the job and its policy is to move, to free hosts outside `away`.
  void recover(Job& j, bool move = false, std::optional<RegionId> away = std::nullopt) {
    const RecoveryPolicy& rp = j.spec.recovery;
    const bool was_waiting = j.state == JobState::Waiting;
    std::vector<NodeId> bad = gang_bad(j);
    if (!bad.empty() && move) {
      if (sched.move(j.alloc, away)) {
        refresh_dark(j);
        j.bad.clear();
        j.shape_dirty = true;
        ++j.st.moves;
        rec.event(now(), "training_move").field("job", j.spec.name).field("region", fleet.region_name(RegionId{alloc_of(j).region}));
        bad.clear();
      }
    }
    if (!bad.empty()) {
      for (NodeId n : bad) {
        bool fixed = false;
        // By reference, not a copy per failed node: the loop ends at the first swap, which is the only
        // change to the spares it makes.
        const std::vector<NodeId>& spares = alloc_of(j).spares;
        for (size_t k = 0; k < spares.size(); ++k) {
          const NodeId s = spares[k];
          if (!healthy_spare(j, s)) continue;
          sched.swap_with_spare(j.alloc, n, s);
          // The span counts drive the communication tiers; a swap inside a datacenter leaves them
          // (nearly) unchanged, so only a cross-datacenter swap recomputes them (O(nodes)).
          j.shape_dirty = j.shape_dirty || new_datacenter(j, s);
          fixed = true;
          break;
        }
        if (!fixed && rp.mode == RecoveryPolicy::Mode::Spares && rp.use_free_capacity) {
          if (auto r = sched.replace(j.alloc, n)) {
            j.bad.erase(n.value());
            j.shape_dirty = j.shape_dirty || new_datacenter(j, *r);
            fixed = true;
          }
        }
      }
      refresh_dark(j);  // a host swapped in for a dark one is not dark
      bad = gang_bad(j);
    }
    RecoveryPolicy::Mode mode = rp.mode == RecoveryPolicy::Mode::Spares ? rp.fallback : rp.mode;
    if (bad.empty()) {
      if (j.shrunk) {
        j.shrunk = false;
        j.dp_active = j.spec.parallel.dp;
        j.replica_ok.assign(j.spec.parallel.dp, 1);
      }
    } else if (mode == RecoveryPolicy::Mode::ElasticShrink) {
      const auto& nodes = alloc_of(j).nodes;
      std::vector<char> ok(j.spec.parallel.dp, 1);
      for (NodeId n : bad) {
        const size_t pos = static_cast<size_t>(std::lower_bound(nodes.begin(), nodes.end(), n) - nodes.begin());
        ok[std::min(ok.size() - 1, pos / j.replica_nodes)] = 0;
      }
      uint32_t dp = 0;
      for (char c : ok) dp += c != 0 ? 1 : 0;
      if (dp >= std::max(1u, rp.min_dp)) {
        if (!j.shrunk || dp != j.dp_active) {
          ++j.st.shrinks;
          rec.event(now(), "training_shrink").field("job", j.spec.name).field("dp", dp);
        }
        j.shrunk = dp < j.spec.parallel.dp;
        j.dp_active = dp;
        j.replica_ok = std::move(ok);
        bad.clear();
      }
    }
    // A split placement waits for the network (or for a placement that spares or a move changed).
    if (j.partitioned) j.partitioned = !placement_connected(j);
    if (!bad.empty() || j.partitioned) {
      if (!was_waiting) {
        j.state = JobState::Waiting;
        j.wait_since = now();
      }
      return;
    }
    if (was_waiting) j.st.waiting_s += (now() - j.wait_since).seconds();
    j.state = JobState::Recovering;
    schedule_resume(j);
  }

  // ---------------------------------------------------------------- dark time
  // While a job is down with hosts under a full outage, their GPUs are paid for and unusable: the cost
  // model bills them as the outage's paid_failed capacity and leaves them out of the busy GPUs, so
  // that part of the down time (LossByCause::dark_s) is not lost work on top (docs/cost.md).

  /// Share of the gang's hosts in a domain (datacenter, zone, region) under a full outage. O(hosts):
  /// called at outage starts and ends, and at recoveries of a job that has dark hosts.
  double dark_fraction(const Job& j) const {
    const auto& nodes = alloc_of(j).nodes;
    if (nodes.empty()) return 0;
    size_t dark = 0;
    uint32_t last_dc = UINT32_MAX;
    bool dc_dark = false;
    for (NodeId n : nodes) {
      const DatacenterId dc = fleet.datacenter_of(ref(n));
      if (dc.value() != last_dc) {
        last_dc = dc.value();
        const ComponentRef d = ref(dc);
        dc_dark = fleet.outage_depth(d) > 0 || fleet.outage_depth(ref(fleet.zone_of(d))) > 0 ||
                  fleet.outage_depth(ref(fleet.region_of(d))) > 0;
      }
      dark += dc_dark ? 1 : 0;
    }
    return double(dark) / double(nodes.size());
  }

  /// Adds the dark time since dark_mark (the job down, at share `dark`) to its current cause.
  void accrue_dark(Job& j) {
    const SimTime t = now();
    if (j.dark > 0 && (j.state == JobState::Recovering || j.state == JobState::Waiting)) {
      const double d = (t - j.dark_mark).seconds() * j.dark;
      if (d > 0) {
        j.st.dark_s += d;
        j.st.by_cause[j.cause].dark_s += d;
      }
    }
    j.dark_mark = t;
  }

  /// The job's hosts changed (a move, a spare): accrue at the old share, read the new one.
  void refresh_dark(Job& j) {
    if (j.dark <= 0) return;
    accrue_dark(j);
    j.dark = dark_fraction(j);
  }

  /// A full outage began or ended over these (job, host) pairs (the fleet has already changed).
  void update_dark(const std::vector<std::pair<size_t, NodeId>>& where) {
    size_t last = SIZE_MAX;
    for (const auto& [ji, n] : where) {
      if (ji == last) continue;
      last = ji;
      Job& j = jobs[ji];
      if (j.state == JobState::Done || j.state == JobState::Queued || j.state == JobState::Pending) continue;
      accrue_dark(j);
      j.dark = dark_fraction(j);
    }
  }

  // ---------------------------------------------------------------- metrics
  double ettr(const Job& j) const {
    if (!j.st.started) return 0;
    const SimTime end = j.st.done ? j.st.finished : now();
    const double elapsed = (end - j.st.first_start).seconds();
    if (elapsed <= 0) return 0;
    double running = j.st.running_s;
    int64_t stall = j.stall_cum;
    if (j.state == JobState::Running) {
      const Pos p = position(j, now());
      running += (now() - j.run_start).seconds();
      stall = p.stall_cum;
    }
    return std::max(0.0, running - stall * 1e-9 - j.st.lost_s) / elapsed;
  }

  /// Checkpoints started up to now. Step mode counts each as it starts; segment mode counts those of a
  /// run when it closes (a stop, a re-anchor, the end), so the open run's are evaluated here.
  uint64_t checkpoints_now(const Job& j) const {
    uint64_t n = j.st.checkpoints;
    // Before a pending re-anchor (t <= a.t) the superseded anchor's checkpoints are counted already.
    if (j.state == JobState::Running && !step_mode(j) && !(j.prev && now() <= j.a.t)) n += eval(j.a, now()).ckpts_started;
    return n;
  }
  /// Checkpoint stall time up to now, a stall in progress included (as ettr() counts it).
  double stall_s_now(const Job& j) const {
    return double(j.state == JobState::Running ? position(j, now()).stall_cum : j.stall_cum) * 1e-9;
  }

  double tokens_now(const Job& j) const {
    if (j.state == JobState::Running) return position(j, now()).tokens;
    return j.committed.tokens;
  }
  double committed_now(const Job& j) const {
    if (j.state == JobState::Running) {
      const Pos p = position(j, now());
      return best_committed(j, now(), p).tokens;
    }
    return j.committed.tokens;
  }

  void sample() {
    sample_ev = {};
    bool any = false;
    for (const Job& j : jobs) {
      if (j.state == JobState::Pending) {
        any = true;
        continue;
      }
      if (j.state == JobState::Done && j.st.finished < now() - spec.sample_interval) continue;
      any = any || j.state != JobState::Done;
      rec.row(table, now(), j.spec.name, std::string(job_state_name(j.state)), tokens_now(j), committed_now(j),
              int64_t{j.dp_active}, j.state == JobState::Running ? Duration::ns(j.a.T).seconds() : 0.0, ettr(j));
    }
    if (any) sample_ev = at(now() + spec.sample_interval, Phase::Sample, [this] { sample(); }, k_sample);
  }

  void start() {
    if (started) throw std::logic_error("TrainingModel::start called twice");
    started = true;
    table = rec.table(spec.table, {"time_ns", "job", "state", "tokens", "tokens_committed", "dp", "step_time_s", "ettr"});
    if (failures != nullptr) failures->on_event.connect([this](const FailureEvent& e) { on_failure(e); });
    for (size_t i = 0; i < jobs.size(); ++i) {
      if (!jobs[i].spec.after.empty()) continue;
      const SimTime t = std::max(now(), jobs[i].spec.submit);
      at(t, Phase::Arrival, [this, i] { submit(i); }, k_submit);
    }
    if (spec.sample_interval > Duration::zero() && !jobs.empty())
      sample_ev = at(now() + spec.sample_interval, Phase::Sample, [this] { sample(); }, k_sample);
  }

  void write_summary() {
    nlohmann::json out = nlohmann::json::object();
    nlohmann::json js = nlohmann::json::object();
    double tokens = 0, useful = 0, elapsed_all = 0, lost = 0, down = 0;
    uint64_t interruptions = 0;
    for (const Job& j : jobs) {
      nlohmann::json o;
      const SimTime end = j.st.done ? j.st.finished : now();
      const double elapsed = j.st.started ? (end - j.st.first_start).seconds() : 0.0;
      const double e = ettr(j);
      const double tk = tokens_now(j);
      o["state"] = std::string(job_state_name(j.state));
      o["gpus"] = j.spec.gpus();
      o["layout"] = layout_name(j.spec.parallel);
      o["accelerator"] = j.spec.hardware.accelerator;
      o["memory_per_gpu_bytes"] = j.mem.total();
      o["tokens_target"] = j.spec.total_tokens;
      o["tokens_trained"] = tk;
      o["complete"] = j.st.done;
      if (j.have_nominal) {
        o["step_time_s"] = j.nominal.step_s;
        o["tokens_per_s"] = j.nominal.tokens_per_s;
        o["mfu"] = j.nominal.mfu;
        o["pipeline_bubble_fraction"] = j.nominal.bubble_fraction;
        o["compute_s"] = j.nominal.compute_s;
        o["exposed_comm_s"] = j.nominal.exposed_comm_s;
        o["comm_s"] = {{"tp", j.nominal.tp_s}, {"pp", j.nominal.pp_s}, {"dp", j.nominal.dp_s},
                       {"ep", j.nominal.ep_s}, {"cp", j.nominal.cp_s}};
        if (j.nominal.dp_bus_bytes_per_s > 0) o["dp_bus_bandwidth_bytes_per_s"] = j.nominal.dp_bus_bytes_per_s;
        const double gpus = double(j.spec.gpus());
        o["mfu_effective"] = elapsed > 0 ? tk * model_flops_per_token(j.spec) / (elapsed * gpus * j.spec.hardware.peak_flop_per_s) : 0.0;
        o["goodput"] = elapsed > 0 ? tk / (elapsed * j.nominal.tokens_per_s) : 0.0;
      }
      // On a shared fabric the step moves with the other consumers' traffic: the pace now, next to the
      // nominal step of the first placement.
      if (traffic != nullptr && j.state == JobState::Running) o["step_time_current_s"] = Duration::ns(j.a.T).seconds();
      o["elapsed_s"] = elapsed;
      o["queued_s"] = j.st.queued_s;
      // null until it happens, so the keys are there from the first event on (`fleetsim plan` checks
      // a constraint's metric against a one-event probe run).
      o["started_s"] = j.st.started ? nlohmann::json(j.st.first_start.seconds()) : nlohmann::json(nullptr);
      o["finished_s"] = j.st.done ? nlohmann::json(j.st.finished.seconds()) : nlohmann::json(nullptr);
      o["ettr"] = e;
      o["interruptions"] = j.st.interruptions;
      o["checkpoints"] = checkpoints_now(j);
      if (j.interval != Duration::max() && j.interval > Duration::zero()) o["checkpoint_interval_s"] = j.interval.seconds();
      o["lost_s"] = j.st.lost_s;
      o["lost_tokens"] = j.st.lost_tokens;
      o["down_s"] = j.st.down_s;
      o["waiting_s"] = j.st.waiting_s;
      o["dark_s"] = j.st.dark_s;
      o["checkpoint_stall_s"] = stall_s_now(j);
      o["shrinks"] = j.st.shrinks;
      o["regrows"] = j.st.regrows;
      o["moves"] = j.st.moves;
      o["preemptions"] = j.st.preemptions;
      nlohmann::json bc = nlohmann::json::object();
      for (const auto& [cause, l] : j.st.by_cause) {
        bc[cause] = {{"interruptions", l.interruptions}, {"lost_s", l.lost_s}, {"lost_tokens", l.lost_tokens},
                     {"down_s", l.down_s}, {"dark_s", l.dark_s}, {"outage", l.outage}};
      }
      o["by_cause"] = std::move(bc);
      js[j.spec.name] = std::move(o);
      tokens += tk;
      useful += e * elapsed;
      elapsed_all += elapsed;
      lost += j.st.lost_s;
      down += j.st.down_s;
      interruptions += j.st.interruptions;
    }
    out["jobs"] = std::move(js);
    out["tokens_trained"] = tokens;
    out["interruptions"] = interruptions;
    out["lost_s"] = lost;
    out["down_s"] = down;
    out["ettr"] = elapsed_all > 0 ? useful / elapsed_all : 0.0;
    out["scheduler"] = {{"preemptions", sched.preemptions()}, {"backfilled", sched.backfilled()}, {"queued", sched.queued()}};
    rec.summary()["training"] = std::move(out);
  }
};

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
const JobStats& TrainingModel::stats(size_t job) const { return impl_->jobs.at(job).st; }
uint64_t TrainingModel::checkpoints(size_t job) const { return impl_->checkpoints_now(impl_->jobs.at(job)); }
double TrainingModel::checkpoint_stall_s(size_t job) const { return impl_->stall_s_now(impl_->jobs.at(job)); }
double TrainingModel::waiting_s(size_t job) const {
  const auto& j = impl_->jobs.at(job);
  return j.st.waiting_s + (j.state == JobState::Waiting ? (impl_->now() - j.wait_since).seconds() : 0.0);
}
double TrainingModel::ettr(size_t job) const { return impl_->ettr(impl_->jobs.at(job)); }
const StepBreakdown& TrainingModel::nominal_step(size_t job) const { return impl_->jobs.at(job).nominal; }
uint64_t TrainingModel::steps_per_checkpoint(size_t job) const { return impl_->jobs.at(job).a.K; }
Duration TrainingModel::step_duration(size_t job) const { return Duration::ns(impl_->jobs.at(job).a.T); }
uint32_t TrainingModel::active_dp(size_t job) const { return impl_->jobs.at(job).dp_active; }
AllocationId TrainingModel::allocation(size_t job) const { return impl_->jobs.at(job).alloc; }
uint64_t TrainingModel::events_scheduled() const { return impl_->scheduled; }

}  // namespace fleetsim
