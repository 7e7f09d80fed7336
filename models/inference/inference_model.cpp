// SPDX-License-Identifier: Apache-2.0
#include "models/inference/inference_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace fleetsim {

uint64_t IdlePoolBroker::acquire(RegionId region, std::string_view, uint64_t gpus, int, SimTime) {
  auto& idle = idle_.at(region.value());
  const uint64_t n = std::min(idle, gpus);
  idle -= n;
  return n;
}

void IdlePoolBroker::release(RegionId region, std::string_view, uint64_t gpus, SimTime) { idle_.at(region.value()) += gpus; }

namespace {

constexpr uint32_t kNone = UINT32_MAX;
enum class RState : uint8_t { Free, Queued, Running };

struct Req {
  int64_t arrival_ns = 0;
  int64_t queued_ns = 0;
  int64_t first_ns = -1;
  uint64_t decode_start = 0;  // replica iteration index at which this residency's decode began
  uint32_t prompt = 0, output = 0;
  uint32_t generated = 0;     // tokens produced (the first comes with the end of prefill)
  uint32_t gen_at_decode = 0;
  uint32_t prefill_left = 0;
  uint32_t kv_alloc = 0;      // KV tokens allocated at admission (prompt + recomputed tokens)
  uint32_t res = 0;           // residency generation: invalidates stale heap and running entries
  uint32_t replica = kNone;
  uint32_t region = 0;        // where it is queued or served
  uint32_t home = 0;
  int32_t window = -1;        // outage window of its home region it arrived in
  float extra_s = 0;          // WAN round trip added to its latencies
  bool decoding = false;
  bool rerouted = false;
  bool transferring = false;  // disaggregation: its KV is on the way to replica `replica`
  RState state = RState::Free;
  uint32_t next_free = kNone;
};

struct HeapEntry {
  uint64_t finish;  // the replica's iteration count when this request completes
  uint32_t req;
  uint32_t res;
  bool operator>(const HeapEntry& o) const { return finish != o.finish ? finish > o.finish : req > o.req; }
};

enum class Role : uint8_t { Mixed, Prefill, Decode };

struct Replica {
  uint32_t region = 0;
  Role role = Role::Mixed;  // disaggregation: prefill-only or decode-only
  int64_t link_free_ns = 0; // decode replica: when its inbound KV link is free
  ReplicaGpus gpus;         // where it runs; empty: a borrowed replica counted without GPUs (no placer)
  uint32_t load_gen = 0;    // bumped when it goes down: a weight load in flight for it is void
  bool dedicated = true;
  bool up = true;
  bool loading = false;     // its GPUs are usable and it is loading the weights
  bool draining = false;
  bool busy = false;
  std::vector<std::pair<uint32_t, uint32_t>> running;  // (req, res), admission order, with stale entries
  uint32_t nrun = 0;
  std::deque<uint32_t> prefill;
  uint32_t decoding = 0;
  uint64_t kv_used = 0;
  uint64_t it = 0;  // iterations completed
  std::vector<HeapEntry> heap;
  // the iteration (or segment of iterations) in progress
  SimTime seg_start;
  uint32_t seg_k = 0;
  uint32_t seg_d = 0;
  uint64_t seg_kv0 = 0;
  std::vector<int64_t> seg_end;  // end of each iteration of the segment, ns after seg_start (for cut)
  std::vector<std::pair<uint32_t, uint32_t>> chunk;  // (req, prompt tokens) of this iteration
  std::vector<std::pair<uint32_t, uint32_t>> arrived;  // decode replica: (req, res) whose KV came mid-iteration
  EventHandle ev;
};

/// An interval's percentile, or NaN (an empty CSV field) when nothing entered the sketch: a dark
/// region has no latency, and 0 would read as a fast one.
double quantile_or_empty(const LatencySketch& s, double q) {
  return s.count() > 0 ? s.quantile(q) : std::numeric_limits<double>::quiet_NaN();
}

/// Quantile levels the fluid mode inserts into its sketches, with the probability mass of each cell
/// (cells split halfway between levels): 0.5, 0.9 and 0.99 are levels, so the mixture's p50, p90 and
/// p99 fall on them.
constexpr std::array<double, 17> kQuantLevels = {0.005, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6,
                                            0.7,   0.8,  0.9,  0.95, 0.98, 0.99, 0.995, 0.999};
std::array<double, 17> level_weights() {
  std::array<double, 17> w{};
  for (size_t i = 0; i < kQuantLevels.size(); ++i) {
    const double lo = i == 0 ? 0.0 : (kQuantLevels[i - 1] + kQuantLevels[i]) / 2;
    const double hi = i + 1 == kQuantLevels.size() ? 1.0 : (kQuantLevels[i] + kQuantLevels[i + 1]) / 2;
    w[i] = hi - lo;
  }
  return w;
}
const std::array<double, 17> kQuantWeights = level_weights();
constexpr size_t kLevelP50 = 7, kLevelP99 = 14;

/// Steady state of one replica at a per-replica arrival rate x (requests/s).
struct Steady {
  double s = 0;         // mean iteration time
  double s_pf = 0;      // mean time of an iteration holding a given prompt
  double batch = 0;     // mean decoding sequences
  double avail = 1;     // prompt tokens per iteration left by the decode tokens
  double residual = 0;  // mean wait for the iteration in progress to end
  std::array<double, 17> pf_level{};  // from first chunk to first token of a prompt at each length level
};

}  // namespace

struct InferenceModel::Service {
  struct Region {
    uint32_t idx = 0;
    RegionId fleet_region;
    std::string name;
    double share = 0;
    int32_t utc_offset = 0;
    std::unique_ptr<ArrivalProcess> arrivals;
    Rng arr_rng{0};
    Rng len_rng{0};
    std::vector<uint32_t> replicas;  // dedicated first, then borrowed
    uint32_t dedicated = 0;
    uint32_t dedicated_up = 0;
    uint32_t extra_active = 0, extra_pending = 0;
    uint32_t unbound = 0;   // borrowed replicas past their scale-up delay whose nodes are not handed over yet
    uint32_t placement = 0; // the placer's handle for its dedicated replicas
    uint32_t max_extra = 0;
    std::deque<uint32_t> queue;
    std::deque<uint32_t> dqueue;  // disaggregation: prefilled requests waiting for a decode replica
    int32_t window = -1;
    // the current sample interval
    InferenceCounters iv;
    LatencySketch iv_ttft, iv_e2e, iv_tpot;
    double iv_q_ttft50 = 0, iv_q_ttft99 = 0, iv_q_e2e50 = 0, iv_q_e2e99 = 0, iv_q_tpot50 = 0, iv_w = 0;  // fluid
    double iv_kv = 0, iv_kv_n = 0;
    double load_count = 0;  // requests routed here since the last autoscale evaluation
    double load_rate = 0;   // fluid: last step's load
    SimTime calm_since = SimTime::max();
    double backlog = 0;     // fluid
    InferenceRegionStats* stats = nullptr;

    uint32_t up() const { return dedicated_up + extra_active; }
  };

  InferenceModel& m;
  const InferenceServiceSpec& spec;
  size_t index;
  std::unique_ptr<AlphaBetaComm> own_comm;
  std::unique_ptr<IterationCost> cost;
  std::string acc_name;
  uint32_t gpr = 1;
  uint64_t kv_cap = 0;
  LengthSampler prompt, output;
  std::vector<Region> regions;
  std::vector<std::vector<double>> rtt_s;
  std::vector<Replica> replicas;
  // Every replica's GPU spans, sorted by first GPU: which replicas a failed component touches. Spans
  // of different replicas never overlap (one GPU runs one replica).
  struct GpuEntry {
    uint32_t begin, end, replica;
    bool operator<(const GpuEntry& o) const { return begin != o.begin ? begin < o.begin : replica < o.replica; }
  };
  std::vector<GpuEntry> by_gpu;
  Duration load_time;  // weights onto a replica's GPUs (InferenceServiceStats::weight_load_s)
  std::vector<Req> reqs;
  uint32_t free_head = kNone;
  InferenceServiceStats stats;
  // fluid steady-state table
  double x_sat = 0, b_max = 0, cs2 = 1;
  bool disagg = false;
  double x_pf = 0, x_dec = 0;  // disaggregation: saturation requests/s of one prefill / decode replica
  std::vector<Steady> table;
  std::array<double, 17> o_q{}, p_q{};
  bool merged_dirty = false;
  std::vector<double> scratch_lam, scratch_cap, scratch_keep, scratch_load, scratch_spare, scratch_overflow;
  std::vector<std::vector<std::pair<uint32_t, double>>> scratch_flows;  // fluid: service sketches are rebuilt from the regions' on demand
  // trace replay
  size_t trace_next = 0;
  Rng trace_rng{0};
  EventKind k_xfer = 0;
  EventKind k_arrival = 0, k_iter = 0, k_step = 0, k_sample = 0, k_scale = 0, k_scaleup = 0, k_load = 0;
  SimTime last_sample;
  SimTime horizon = SimTime::max();  // no step or row beyond it; a last partial row at it

  Service(InferenceModel& model, const InferenceServiceSpec& s, size_t i, const Catalog& catalog,
          const RngStreams& streams)
      : m(model), spec(s), index(i), prompt(s.prompt), output(s.output) {
    validate_service(spec);
    disagg = spec.disaggregation.enabled;
    const AcceleratorSpec* acc = catalog.find_accelerator(spec.replica.accelerator);
    if (acc == nullptr)
      throw InferenceSpecError(fmt::format("inference service \"{}\": accelerator \"{}\" is not in the catalog", spec.name,
                                           spec.replica.accelerator));
    acc_name = acc->name;
    const TensorParallelComm* comm = m.options_.comm;
    if (comm == nullptr) {
      const double bw = spec.replica.allreduce_bytes_per_s > 0 ? spec.replica.allreduce_bytes_per_s : acc->scale_up_bytes_per_s;
      own_comm = std::make_unique<AlphaBetaComm>(spec.replica.allreduce_latency.seconds(), bw > 0 ? bw : 1e11);
      comm = own_comm.get();
    }
    cost = std::make_unique<IterationCost>(spec.model, spec.replica, *acc, *comm);
    gpr = spec.replica.gpus();
    kv_cap = cost->kv_capacity_tokens();
    // A replica that comes back (repaired, moved to a free node, region back) reads its shard of the
    // weights before it serves again.
    load_time = Duration::from_seconds(cost->weight_bytes_per_gpu() / spec.replica.weight_load_bytes_per_s);
    stats.weight_load_s = load_time.seconds();
    stats.name = spec.name;
    stats.kv_capacity_tokens = kv_cap;
    stats.regions.resize(spec.regions.size());
    build_regions(streams);
    build_steady();
    stats.replica_saturation_rps = x_sat;
    if (disagg) build_disagg();
    stats.replica_max_batch = b_max;
    trace_rng = streams.stream(fmt::format("inference/{}/trace-route", spec.name));
    // Registered here, not in start(): a failure at time zero may reach a replica before start().
    k_load = m.engine_.register_kind("inference-weight-load");
  }

  // ---------------------------------------------------------------- set-up

  void build_regions(const RngStreams& streams) {
    Fleet& fleet = m.fleet_;
    double replicas_total = 0;
    for (const auto& r : spec.regions) replicas_total += r.replicas;
    const auto& accs = fleet.accelerators();
    const auto acc_it = std::find(accs.begin(), accs.end(), acc_name);
    regions.resize(spec.regions.size());
    for (size_t ri = 0; ri < spec.regions.size(); ++ri) {
      const auto& rs = spec.regions[ri];
      Region& reg = regions[ri];
      reg.idx = static_cast<uint32_t>(ri);
      reg.name = rs.region;
      reg.stats = &stats.regions[ri];
      reg.stats->name = rs.region;
      const auto fr = fleet.find_region(rs.region);
      if (!fr)
        throw InferenceSpecError(fmt::format("inference service \"{}\": region \"{}\" is not in the fleet", spec.name, rs.region));
      reg.fleet_region = *fr;
      reg.share = rs.share >= 0 ? rs.share : (replicas_total > 0 ? rs.replicas / replicas_total : 0.0);
      reg.utc_offset = rs.utc_offset_minutes;
      std::vector<BurstSpec> bursts;
      for (const auto& b : spec.arrivals.bursts)
        if (b.region.empty() || b.region == rs.region) bursts.push_back(b);
      reg.arrivals = std::make_unique<ArrivalProcess>(spec.arrivals, reg.share, rs.utc_offset_minutes,
                                                      m.options_.epoch_unix_ns, std::move(bursts));
      reg.arr_rng = streams.stream(fmt::format("inference/{}/{}/arrivals", spec.name, rs.region));
      reg.len_rng = streams.stream(fmt::format("inference/{}/{}/lengths", spec.name, rs.region));
      // Dedicated replicas: the region's first GPUs of the accelerator, in index order.
      std::vector<IndexRange> ranges;
      uint64_t have = 0;
      if (acc_it != accs.end()) {
        const auto acc_idx = static_cast<uint32_t>(acc_it - accs.begin());
        const IndexRange dcs = fleet.range(reg.fleet_region, Level::Datacenter);
        for (uint32_t d = dcs.begin; d < dcs.end; ++d) {
          const ComponentRef dc{Level::Datacenter, d};
          if (fleet.accelerator_of(dc) != acc_idx) continue;
          const IndexRange g = fleet.range(dc, Level::Gpu);
          ranges.push_back(g);
          have += g.size();
        }
      }
      const uint64_t need = uint64_t{rs.replicas} * gpr;
      if (need > have)
        throw InferenceSpecError(fmt::format(
            "inference service \"{}\": region \"{}\" has {} {} GPUs, but {} replicas of {} GPUs need {}", spec.name,
            rs.region, have, acc_name, rs.replicas, gpr, need));
      std::vector<ReplicaGpus> placed;
      if (ReplicaPlacer* placer = m.options_.placer)
        reg.placement = placer->place(spec.name, reg.fleet_region, acc_name, rs.replicas, gpr, placed);
      size_t range_i = 0;
      uint32_t next_gpu = ranges.empty() ? 0 : ranges[0].begin;
      for (uint32_t k = 0; k < rs.replicas; ++k) {
        if (!placed.empty()) {
          Replica rep;
          rep.region = reg.idx;
          if (disagg) rep.role = k < prefill_replicas(rs, spec.disaggregation) ? Role::Prefill : Role::Decode;
          rep.gpus = std::move(placed[k]);
          reg.replicas.push_back(static_cast<uint32_t>(replicas.size()));
          replicas.push_back(std::move(rep));
          continue;
        }
        // A replica stays inside one datacenter range.
        while (range_i < ranges.size() && next_gpu + gpr > ranges[range_i].end) {
          ++range_i;
          if (range_i < ranges.size()) next_gpu = ranges[range_i].begin;
        }
        if (range_i >= ranges.size())
          throw InferenceSpecError(fmt::format(
              "inference service \"{}\": region \"{}\": {} {} GPUs do not split into {} replicas of {} within datacenters",
              spec.name, rs.region, have, acc_name, rs.replicas, gpr));
        Replica rep;
        rep.region = reg.idx;
        if (disagg) rep.role = k < prefill_replicas(rs, spec.disaggregation) ? Role::Prefill : Role::Decode;
        rep.gpus = {GpuSpan{next_gpu, gpr}};
        next_gpu += gpr;
        reg.replicas.push_back(static_cast<uint32_t>(replicas.size()));
        replicas.push_back(std::move(rep));
      }
      reg.dedicated = rs.replicas;
      reg.max_extra = spec.autoscale.enabled ? rs.max_extra_replicas : 0;
      for (uint32_t k = 0; k < reg.max_extra; ++k) {
        Replica rep;
        rep.region = reg.idx;
        rep.dedicated = false;
        rep.up = false;
        reg.replicas.push_back(static_cast<uint32_t>(replicas.size()));
        replicas.push_back(std::move(rep));
      }
    }
    for (uint32_t i = 0; i < replicas.size(); ++i)
      for (const GpuSpan& g : replicas[i].gpus) by_gpu.push_back({g.begin, g.end(), i});
    std::sort(by_gpu.begin(), by_gpu.end());
    for (auto& reg : regions) {
      reg.dedicated_up = 0;
      for (uint32_t k = 0; k < reg.dedicated; ++k) {
        Replica& rep = replicas[reg.replicas[k]];
        rep.up = gpus_usable(rep);
        reg.dedicated_up += rep.up ? 1 : 0;
      }
      reg.stats->replicas = reg.dedicated;
    }
    // WAN round trips
    const size_t n = regions.size();
    rtt_s.assign(n, std::vector<double>(n, spec.routing.default_rtt.seconds()));
    for (size_t a = 0; a < n; ++a) rtt_s[a][a] = 0;
    for (const auto& l : spec.routing.rtts) {
      for (size_t a = 0; a < n; ++a)
        for (size_t b = 0; b < n; ++b)
          if ((regions[a].name == l.a && regions[b].name == l.b) || (regions[a].name == l.b && regions[b].name == l.a))
            rtt_s[a][b] = l.rtt.seconds();
    }
  }

  bool gpus_usable(const Replica& rep) const {
    for (const GpuSpan& span : rep.gpus)
      for (uint32_t g = span.begin; g < span.end(); ++g)
        if (!m.fleet_.usable(ref(GpuId{g}))) return false;
    return true;
  }

  void index_gpus(uint32_t rep_i) {
    for (const GpuSpan& g : replicas[rep_i].gpus) {
      const GpuEntry e{g.begin, g.end(), rep_i};
      by_gpu.insert(std::lower_bound(by_gpu.begin(), by_gpu.end(), e), e);
    }
  }

  void unindex_gpus(uint32_t rep_i) {
    std::erase_if(by_gpu, [rep_i](const GpuEntry& e) { return e.replica == rep_i; });
  }

  /// Replicas with a GPU in [begin, end), each once, in index order.
  std::vector<uint32_t> replicas_on(uint32_t begin, uint32_t end) const {
    std::vector<uint32_t> out;
    if (begin >= end || by_gpu.empty()) return out;
    auto it = std::upper_bound(by_gpu.begin(), by_gpu.end(), GpuEntry{begin, 0, kNone});
    if (it != by_gpu.begin()) --it;
    for (; it != by_gpu.end() && it->begin < end; ++it)
      if (it->end > begin) out.push_back(it->replica);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  /// One replica's steady state at arrival rate x: fixed point of s = E[step], B = x (E[o] - 1) s,
  /// with the number of prompts per iteration Poisson(x s).
  Steady steady_at(double x) const {
    const double ep = prompt.mean(), eo = output.mean();
    const double ctx = ep + output.second_moment() / (2 * eo);
    const double budget = spec.batching.max_batch_tokens;
    Steady st;
    double s = cost->step_seconds(1.0, 0.0, ep);
    for (int iter = 0; iter < 200; ++iter) {
      const double b = x * (eo - 1) * s;
      const double avail = std::max(budget - b, 1.0);
      const double lam = x * s;
      double es = 0, espf = 0, p = std::exp(-lam), cum = 0;
      for (int k = 0; k < 400; ++k) {
        const double pf = std::min(k * ep, avail);
        const double pf1 = std::min((k + 1) * ep, avail);
        es += p * (k == 0 && b <= 0 ? 0.0 : cost->step_seconds(pf, b, b * ctx + k * ep));
        espf += p * cost->step_seconds(pf1, b, b * ctx + (k + 1) * ep);
        cum += p;
        if (cum > 1 - 1e-12 && k > lam) break;
        p *= lam / (k + 1);
      }
      // An idle replica (no decode, no prompt) runs no iteration: es counts only busy ones; scale to
      // the mean over iterations that happen.
      const double p_busy = b > 0 ? 1.0 : 1.0 - std::exp(-lam);
      const double s_new = p_busy > 0 ? es / p_busy : espf;
      st.s = s_new;
      st.s_pf = espf;
      st.batch = b;
      st.avail = avail;
      if (std::abs(s_new - s) < 1e-12 * s_new) break;
      s = 0.5 * s + 0.5 * s_new;
    }
    // Residual wait of an arrival for the iteration in progress: the replica is busy with probability
    // 1 - exp(-N), N = mean requests in it (Poisson occupancy of an infinite-server system).
    const double n_in = x * (st.s_pf + (eo - 1) * st.s);
    st.residual = (1 - std::exp(-n_in)) * st.s / 2;
    return st;
  }

  bool feasible(double x, Steady* out) const {
    const Steady st = steady_at(x);
    if (out) *out = st;
    if (!std::isfinite(st.s) || st.s <= 0) return false;
    if (st.batch > b_max) return false;
    if (x * prompt.mean() * st.s > std::max(spec.batching.max_batch_tokens - st.batch, 1.0)) return false;
    return true;
  }

  void build_steady() {
    const double ep = prompt.mean(), eo = output.mean();
    const double ctx = ep + output.second_moment() / (2 * eo);
    // Sequences at saturation: the slot limit, or the KV cache at the mean context (kept 5% below
    // full, as the request level keeps a watermark and preempts near the limit).
    b_max = std::min<double>(spec.batching.max_seqs, 0.95 * double(kv_cap) / ctx);
    b_max = std::max(b_max, 1.0);
    double lo = 0, hi = 1.0;
    while (feasible(hi, nullptr) && hi < 1e9) hi *= 2;
    for (int i = 0; i < 60; ++i) {
      const double mid = (lo + hi) / 2;
      if (feasible(mid, nullptr)) lo = mid;
      else hi = mid;
    }
    x_sat = lo;
    const double var = output.second_moment() - eo * eo;
    cs2 = eo > 0 ? std::max(var, 0.0) / (eo * eo) : 1.0;
    for (size_t i = 0; i < kQuantLevels.size(); ++i) {
      o_q[i] = std::nearbyint(output.quantile(kQuantLevels[i]));
      p_q[i] = prompt.quantile(kQuantLevels[i]);
    }
    constexpr int n = 256;
    table.resize(n + 1);
    for (int i = 0; i <= n; ++i) {
      const double x = x_sat * i / n;
      Steady& st = table[static_cast<size_t>(i)];
      st = steady_at(x);
      add_prefill_levels(st, x);
    }
  }

  /// From a prompt's first chunk to its first token, for a prompt at each length level p_q[i]: its
  /// full-budget chunks, then an iteration holding its last chunk, the decode batch and the other
  /// prompts of that iteration (Poisson, mean length). The prompt's own length is what makes the TTFT
  /// tail: a p99 prompt is several times the mean, and its iteration is compute-bound (issue 20, item
  /// 8: with the mean prompt's iteration for every level, fluid p99 TTFT was about 60% low).
  void add_prefill_levels(Steady& st, double x) const {
    const double ep = prompt.mean(), eo = output.mean();
    const double ctx = ep + output.second_moment() / (2 * eo);
    const double b = st.batch, avail = std::max(st.avail, 1.0), lam = x * st.s;
    for (size_t i = 0; i < kQuantLevels.size(); ++i) {
      const double p = std::max(p_q[i], 1.0);
      const bool chunked = spec.batching.chunked_prefill;
      const double chunks = !chunked || p <= avail ? 1.0 : std::ceil(p / avail);
      const double last = p - (chunks - 1) * avail;  // tokens of its last chunk
      const double room = std::max(avail, last);     // whole prompts may exceed the budget
      double e = 0, pr = std::exp(-lam), cum = 0;
      for (int k = 0; k < 400; ++k) {
        const double tokens = std::min(last + k * ep, room);
        e += pr * cost->step_seconds(tokens, b, b * ctx + tokens);
        cum += pr;
        if (cum > 1 - 1e-12 && k > lam) break;
        pr *= lam / (k + 1);
      }
      st.pf_level[i] = (chunks - 1) * cost->step_seconds(avail, b, b * ctx + avail) + e / cum;
    }
  }

  Steady steady_lookup(double x) const {
    if (x_sat <= 0) return table.front();
    const double pos = std::clamp(x / x_sat, 0.0, 1.0) * double(table.size() - 1);
    const auto i = static_cast<size_t>(std::floor(pos));
    if (i + 1 >= table.size()) return table.back();
    const double f = pos - double(i);
    const Steady& a = table[i];
    const Steady& b = table[i + 1];
    Steady r;
    r.s = a.s + f * (b.s - a.s);
    r.s_pf = a.s_pf + f * (b.s_pf - a.s_pf);
    r.batch = a.batch + f * (b.batch - a.batch);
    r.avail = a.avail + f * (b.avail - a.avail);
    r.residual = a.residual + f * (b.residual - a.residual);
    for (size_t k = 0; k < r.pf_level.size(); ++k) r.pf_level[k] = a.pf_level[k] + f * (b.pf_level[k] - a.pf_level[k]);
    return r;
  }

  /// Disaggregation: saturation of one prefill replica (full token-budget prompt iterations) and of
  /// one decode replica (b_max sequences at the mean context, one token each per iteration). Used for
  /// the queueing-wait estimate of spill-over and in the summary.
  void build_disagg() {
    const double ep = prompt.mean(), eo = output.mean();
    const double budget = spec.batching.max_batch_tokens;
    const double tok = spec.batching.chunked_prefill ? budget : std::max(ep, 1.0);
    x_pf = tok / (ep * cost->step_seconds(tok, 0.0, tok));
    const double ctx = ep + output.second_moment() / (2 * eo);
    const double step = cost->step_seconds(0.0, b_max, b_max * ctx);
    x_dec = eo > 1 ? b_max / ((eo - 1) * step) : std::numeric_limits<double>::infinity();
    for (const auto& reg : regions) {
      const uint32_t np = prefill_replicas(spec.regions[reg.idx], spec.disaggregation);
      stats.prefill_replicas += np;
      stats.decode_replicas += reg.dedicated - np;
    }
    stats.prefill_saturation_rps = x_pf;
    stats.decode_saturation_rps = x_dec;
  }

  // ---------------------------------------------------------------- start

  void start(SimTime end) {
    Engine& eng = m.engine_;
    horizon = end;
    k_arrival = eng.register_kind("inference-arrival");
    k_iter = eng.register_kind("inference-iteration");
    k_step = eng.register_kind("inference-step");
    k_sample = eng.register_kind("inference-sample");
    k_scale = eng.register_kind("inference-autoscale");
    k_scaleup = eng.register_kind("inference-scaleup");
    if (disagg) k_xfer = eng.register_kind("inference-kv-transfer");
    last_sample = eng.now();
    for (auto& reg : regions)
      if (reg.up() == 0) open_window(reg);
    if (spec.mode == InferenceMode::Fluid) {
      eng.schedule_in(Duration::zero(), Phase::Control, [this] { fluid_step(); }, k_step);
    } else {
      if (spec.trace) {
        schedule_trace();
      } else {
        for (auto& reg : regions) schedule_arrival(reg);
      }
      schedule_sample();
    }
    if (spec.autoscale.enabled)
      eng.schedule_in(spec.autoscale.interval, Phase::Control, [this] { autoscale(); }, k_scale);
  }

  // ---------------------------------------------------------------- requests

  uint32_t alloc_req() {
    if (free_head == kNone) {
      reqs.emplace_back();
      return static_cast<uint32_t>(reqs.size() - 1);
    }
    const uint32_t i = free_head;
    free_head = reqs[i].next_free;
    const uint32_t res = reqs[i].res;
    reqs[i] = Req{};
    reqs[i].res = res + 1;
    return i;
  }
  void free_req(uint32_t i) {
    reqs[i].state = RState::Free;
    ++reqs[i].res;
    reqs[i].next_free = free_head;
    free_head = i;
  }

  void schedule_arrival(Region& reg) {
    const SimTime t = reg.arrivals->next(m.engine_.now(), reg.arr_rng, SimTime::max());
    if (t == SimTime::max()) return;
    Region* r = &reg;
    m.engine_.schedule_at(t, Phase::Arrival, [this, r] {
      const uint32_t p = prompt.sample(r->len_rng);
      const uint32_t o = output.sample(r->len_rng);
      arrive(*r, p, o);
      schedule_arrival(*r);
    }, k_arrival);
  }

  void schedule_trace() {
    const auto& tr = *spec.trace;
    if (trace_next >= tr.size()) return;
    m.engine_.schedule_at(tr[trace_next].arrival, Phase::Arrival, [this] {
      const TraceRequest& t = (*spec.trace)[trace_next++];
      uint32_t r = 0;
      if (t.region >= 0) {
        r = static_cast<uint32_t>(t.region);
      } else {
        double total = 0;
        for (const auto& reg : regions) total += reg.share;
        double u = trace_rng.uniform01() * total;
        for (r = 0; r + 1 < regions.size(); ++r) {
          if (u < regions[r].share) break;
          u -= regions[r].share;
        }
      }
      arrive(regions[r], t.prompt_tokens, t.output_tokens);
      schedule_trace();
    }, k_arrival);
  }

  void arrive(Region& home, uint32_t p, uint32_t o) {
    const uint32_t ri = alloc_req();
    Req& q = reqs[ri];
    q.arrival_ns = m.engine_.now().ticks();
    q.prompt = p;
    q.output = o;
    q.home = home.idx;
    q.window = home.window;
    stats.counters.arrived += 1;
    stats.counters.prompt_tokens += p;
    home.stats->counters.arrived += 1;
    home.stats->counters.prompt_tokens += p;  // at the home region, where the request entered
    home.iv.arrived += 1;
    if (q.window >= 0) stats.outages[static_cast<size_t>(q.window)].arrived += 1;
    route(ri);
  }

  /// Requests/s a region sustains: its up replicas at saturation, or with disaggregation the smaller of
  /// its prefill and decode pools.
  double region_capacity(const Region& reg) const {
    if (!disagg) return reg.up() * x_sat;
    double np = 0, nd = 0;
    for (uint32_t i : reg.replicas) {
      const Replica& rep = replicas[i];
      if (!rep.up) continue;
      (rep.role == Role::Decode ? nd : np) += 1;
    }
    return std::min(np * x_pf, nd * x_dec);
  }
  double est_wait(const Region& reg, size_t extra) const {
    const double cap = region_capacity(reg);
    if (cap <= 0) return std::numeric_limits<double>::infinity();
    return double(reg.queue.size() + extra) / cap;
  }
  bool room(const Replica& rep, uint32_t need) const {
    return rep.up && !rep.draining && rep.nrun < spec.batching.max_seqs &&
           rep.kv_used + need + rep.decoding + 1 <= kv_cap;
  }
  /// The least-loaded replica of a region with room for `need` KV tokens, or kNone: a prefill (or
  /// mixed) replica for new requests, a decode replica for prefilled ones.
  uint32_t pick_replica(const Region& reg, uint32_t need, bool decode = false) const {
    uint32_t best = kNone, best_load = UINT32_MAX;
    for (uint32_t i : reg.replicas) {
      const Replica& rep = replicas[i];
      if ((rep.role == Role::Decode) != decode) continue;
      if (rep.nrun < best_load && room(rep, need)) {
        best = i;
        best_load = rep.nrun;
      }
    }
    return best;
  }
  bool spare(const Region& reg) const {
    if (reg.up() == 0) return false;
    if (reg.queue.empty() && pick_replica(reg, 1) != kNone) return true;
    return est_wait(reg, 1) < spec.routing.spill_wait.seconds();
  }
  /// The nearest other region that is up (with spare capacity if asked), or kNone.
  uint32_t pick_other(uint32_t home, bool need_spare) const {
    uint32_t best = kNone;
    double best_rtt = 0;
    for (const auto& reg : regions) {
      if (reg.idx == home || reg.up() == 0) continue;
      if (need_spare && !spare(reg)) continue;
      const double r = rtt_s[home][reg.idx];
      if (best == kNone || r < best_rtt) {
        best = reg.idx;
        best_rtt = r;
      }
    }
    return best;
  }

  void route(uint32_t ri) {
    Req& q = reqs[ri];
    const uint32_t home = q.home;
    uint32_t target = home;
    Region& h = regions[home];
    if (h.up() == 0) {
      if (!spec.routing.failover) return fail(ri);
      target = pick_other(home, true);
      if (target == kNone) target = pick_other(home, false);
      if (target == kNone) return fail(ri);
    } else if (spec.routing.spillover && !h.queue.empty() && est_wait(h, 1) > spec.routing.spill_wait.seconds()) {
      const uint32_t t = pick_other(home, true);
      if (t != kNone) target = t;
    }
    if (target != home) {
      q.extra_s = static_cast<float>(rtt_s[home][target]);
      if (!q.rerouted) {
        q.rerouted = true;
        stats.counters.rerouted_out += 1;
        h.stats->counters.rerouted_out += 1;
        h.iv.rerouted_out += 1;
        regions[target].stats->counters.rerouted_in += 1;
        regions[target].iv.rerouted_in += 1;
        if (q.window >= 0) stats.outages[static_cast<size_t>(q.window)].rerouted += 1;
      }
    } else {
      q.extra_s = 0;
    }
    Region& reg = regions[target];
    reg.load_count += 1;
    q.region = target;
    const uint32_t need = q.prompt + q.generated;
    if (need + 2 > kv_cap) return fail(ri);  // can never fit one replica's KV cache
    if (reg.queue.empty()) {
      const uint32_t rep = pick_replica(reg, need);
      if (rep != kNone) return admit(rep, ri);
    }
    enqueue(reg, ri, false);
  }

  void enqueue(Region& reg, uint32_t ri, bool front) {
    Req& q = reqs[ri];
    q.state = RState::Queued;
    q.region = reg.idx;
    q.replica = kNone;
    q.queued_ns = m.engine_.now().ticks();
    if (front) reg.queue.push_front(ri);
    else reg.queue.push_back(ri);
    reg.stats->max_queue = std::max(reg.stats->max_queue, double(reg.queue.size()));
  }

  void fail(uint32_t ri) {
    Req& q = reqs[ri];
    stats.counters.failed += 1;
    regions[q.home].stats->counters.failed += 1;
    regions[q.home].iv.failed += 1;
    if (q.window >= 0) stats.outages[static_cast<size_t>(q.window)].failed += 1;
    free_req(ri);
  }

  /// A request gave up waiting at a gateway (routing.max_queue_time): failed, counted as timed out,
  /// and kept in the latency figures as a censored value: its TTFT (unless it already had its first
  /// token) and E2E are the wait at which it gave up, a lower bound of what it would have seen. Every
  /// percentile below max_queue_time is exact with them; means are lower bounds.
  void time_out(uint32_t ri) {
    Req& q = reqs[ri];
    const int64_t gave_up = q.queued_ns + spec.routing.max_queue_time.ticks();
    const double e2e = double(gave_up - q.arrival_ns) * 1e-9 + q.extra_s;
    const double ttft = q.first_ns >= 0 ? double(q.first_ns - q.arrival_ns) * 1e-9 + q.extra_s : e2e;
    Region& waited = regions[q.region];
    Region& home = regions[q.home];
    stats.counters.timed_out += 1;
    home.stats->counters.timed_out += 1;
    home.iv.timed_out += 1;
    stats.ttft.add(ttft);
    stats.e2e.add(e2e);
    waited.stats->ttft.add(ttft);
    waited.stats->e2e.add(e2e);
    waited.iv_ttft.add(ttft);
    waited.iv_e2e.add(e2e);
    if (q.window >= 0) {
      auto& w = stats.outages[static_cast<size_t>(q.window)];
      w.timed_out += 1;
      if (m.options_.keep_outage_sketches) w.ttft.add(ttft);
    }
    fail(ri);
  }

  bool timed_out(const Req& q) const {
    return m.engine_.now().ticks() - q.queued_ns > spec.routing.max_queue_time.ticks();
  }

  /// Fills free replicas of a region from its queue (least-loaded first).
  void pump(Region& reg) {
    while (!reg.queue.empty()) {
      const uint32_t ri = reg.queue.front();
      if (timed_out(reqs[ri])) {
        reg.queue.pop_front();
        time_out(ri);
        continue;
      }
      const uint32_t rep = pick_replica(reg, reqs[ri].prompt + reqs[ri].generated);
      if (rep == kNone) break;
      reg.queue.pop_front();
      admit(rep, ri);
    }
  }
  /// Disaggregation: starts KV transfers from a region's decode queue into decode replicas with room.
  void pump_decode(Region& reg) {
    while (!reg.dqueue.empty()) {
      const uint32_t ri = reg.dqueue.front();
      const uint32_t rep = pick_replica(reg, reqs[ri].prompt + reqs[ri].generated, true);
      if (rep == kNone) break;
      reg.dqueue.pop_front();
      start_transfer(rep, ri);
    }
  }
  /// Fills one replica from its region's queue.
  void pump_into(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    Region& reg = regions[rep.region];
    if (rep.role == Role::Decode) {
      while (!reg.dqueue.empty()) {
        const uint32_t ri = reg.dqueue.front();
        if (!room(rep, reqs[ri].prompt + reqs[ri].generated)) break;
        reg.dqueue.pop_front();
        start_transfer(rep_i, ri);
      }
      return;
    }
    while (!reg.queue.empty()) {
      const uint32_t ri = reg.queue.front();
      if (timed_out(reqs[ri])) {
        reg.queue.pop_front();
        time_out(ri);
        continue;
      }
      if (!room(rep, reqs[ri].prompt + reqs[ri].generated)) break;
      reg.queue.pop_front();
      admit(rep_i, ri);
    }
  }

  void admit(uint32_t rep_i, uint32_t ri) {
    Replica& rep = replicas[rep_i];
    Req& q = reqs[ri];
    const uint32_t need = q.prompt + q.generated;  // a preempted request recomputes what it generated
    q.state = RState::Running;
    q.replica = rep_i;
    q.region = rep.region;
    q.prefill_left = need;
    q.kv_alloc = need;
    q.decoding = false;
    ++q.res;
    rep.running.emplace_back(ri, q.res);
    ++rep.nrun;
    rep.prefill.push_back(ri);
    rep.kv_used += need;
    if (!rep.busy) {
      begin_iteration(rep_i);
    } else if (rep.seg_k > 1) {
      cut(rep_i);
    }
  }

  bool live(const Replica& rep, uint32_t rep_i, uint32_t ri, uint32_t res) const {
    const Req& q = reqs[ri];
    (void)rep;
    return q.state == RState::Running && q.res == res && q.replica == rep_i;
  }

  /// An iteration's duration in whole ns (at least 1): max(1, llround(s * 1e9)), without the libm
  /// call on the hot path (it was a fifth of the request-level week's time): truncation and x - trunc(x)
  /// are exact for 0 <= x < 2^62, and a fraction of one half rounds up, as llround does.
  static int64_t round_ns(double s) {
    const double x = s * 1e9;
    if (!(x >= 0 && x < 4.6e18)) return std::max<int64_t>(1, static_cast<int64_t>(std::llround(x)));
    auto r = static_cast<int64_t>(x);
    if (x - static_cast<double>(r) >= 0.5) ++r;
    return std::max<int64_t>(1, r);
  }
  int64_t step_ns(uint32_t prefill_tokens, uint32_t d, uint64_t kv) const {
    return round_ns(cost->step_seconds(double(prefill_tokens), double(d), double(kv)));
  }

  void begin_iteration(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    rep.busy = false;
    rep.seg_k = 0;
    rep.chunk.clear();
    if (!rep.up) return;
    if (rep.draining && rep.nrun == 0) return finish_drain(rep_i);
    while (rep.decoding > 0 && rep.kv_used + rep.decoding > kv_cap) preempt(rep_i);
    const uint32_t d = rep.decoding;
    const uint32_t budget = spec.batching.max_batch_tokens > d ? spec.batching.max_batch_tokens - d : 0;
    uint32_t left = budget, pf = 0;
    for (uint32_t ri : rep.prefill) {
      if (left == 0) break;
      const uint32_t need = reqs[ri].prefill_left;
      uint32_t take = 0;
      if (spec.batching.chunked_prefill) {
        take = std::min(need, left);
      } else {
        if (need > left && pf > 0) break;
        take = need;  // a whole prompt, even above the budget when it is the only one
      }
      rep.chunk.emplace_back(ri, take);
      pf += take;
      left = take >= left ? 0 : left - take;
    }
    if (d == 0 && pf == 0) return;  // idle
    uint64_t k = 1;
    const Region& reg = regions[rep.region];
    const std::deque<uint32_t>& queue = rep.role == Role::Decode ? reg.dqueue : reg.queue;
    if (pf == 0 && m.options_.segments && !rep.heap.empty() &&
        (queue.empty() || !room(rep, reqs[queue.front()].prompt + reqs[queue.front()].generated))) {
      k = rep.heap.front().finish - rep.it;  // up to the next completion (stale entries only shorten it)
      k = std::min<uint64_t>(k, (kv_cap - rep.kv_used) / d);
      // Capped so that cutting a segment (which re-walks its iterations) stays cheap.
      k = std::clamp<uint64_t>(k, 1, 64);
    }
    int64_t total = 0;
    rep.seg_end.clear();
    if (k == 1) {
      total = step_ns(pf, d, rep.kv_used);
    } else {
      // A segment (no prompt work): d and so compute and communication are the same in every iteration;
      // only the KV read grows. The iteration ends are kept for cut().
      const IterationCost::DecodeRun run = cost->decode_run(d);
      for (uint64_t j = 0; j < k; ++j) {
        total += round_ns(cost->step_seconds(run, double(rep.kv_used + j * d)));
        rep.seg_end.push_back(total);
      }
    }
    rep.busy = true;
    rep.seg_start = m.engine_.now();
    rep.seg_k = static_cast<uint32_t>(k);
    rep.seg_d = d;
    rep.seg_kv0 = rep.kv_used;
    rep.ev = m.engine_.schedule_in(Duration::ns(total), Phase::Completion, [this, rep_i] { end_iteration(rep_i); }, k_iter);
  }

  /// Shortens the segment in progress to the iteration boundary at or after now.
  void cut(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    const SimTime now = m.engine_.now();
    // The first iteration end at or after now (seg_end is ascending; seg_k > 1 here, so it is filled).
    const int64_t since = (now - rep.seg_start).ticks();
    const auto it = std::lower_bound(rep.seg_end.begin(), rep.seg_end.begin() + rep.seg_k, since);
    const auto mcount = static_cast<uint32_t>(it - rep.seg_end.begin()) + 1;
    if (mcount >= rep.seg_k) return;
    const SimTime t = rep.seg_start + Duration::ns(*it);
    m.engine_.cancel(rep.ev);
    rep.seg_k = mcount;
    rep.ev = m.engine_.schedule_at(t, Phase::Completion, [this, rep_i] { end_iteration(rep_i); }, k_iter);
  }

  void end_iteration(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    const uint64_t k = rep.seg_k;
    const uint64_t d = rep.seg_d;
    rep.it += k;
    rep.kv_used += k * d;
    stats.iterations += k;
    stats.segments += 1;
    stats.counters.output_tokens += double(k * d);
    regions[rep.region].stats->counters.output_tokens += double(k * d);  // where they were served
    regions[rep.region].iv.output_tokens += double(k * d);
    // prompt chunks of this iteration (only a single-iteration segment carries them)
    for (const auto& [ri, take] : rep.chunk) {
      Req& q = reqs[ri];
      q.prefill_left -= take;
      if (q.prefill_left == 0) {
        rep.prefill.pop_front();  // the chunk took the queue's head in order
        prefill_done(rep_i, ri);
      }
    }
    rep.chunk.clear();
    for (const auto& [ri, res] : rep.arrived) {
      if (!live(rep, rep_i, ri, res)) continue;  // preempted while it waited for the boundary
      reqs[ri].transferring = false;
      start_decode(rep_i, ri);
    }
    rep.arrived.clear();
    while (!rep.heap.empty() && rep.heap.front().finish <= rep.it) {
      std::pop_heap(rep.heap.begin(), rep.heap.end(), std::greater<>{});
      const HeapEntry e = rep.heap.back();
      rep.heap.pop_back();
      if (!live(rep, rep_i, e.req, e.res)) continue;
      complete(rep_i, e.req);
    }
    if (rep.running.size() > 2 * rep.nrun + 32) {
      std::erase_if(rep.running, [&](const auto& p) { return !live(rep, rep_i, p.first, p.second); });
    }
    rep.busy = false;
    rep.seg_k = 0;
    pump_into(rep_i);
    if (!rep.busy) begin_iteration(rep_i);
  }

  void prefill_done(uint32_t rep_i, uint32_t ri) {
    Replica& rep = replicas[rep_i];
    Req& q = reqs[ri];
    q.generated += 1;
    stats.counters.output_tokens += 1;
    regions[rep.region].stats->counters.output_tokens += 1;
    regions[rep.region].iv.output_tokens += 1;
    if (rep.role == Role::Prefill && q.generated < q.output) return hand_off(rep_i, ri);
    if (q.first_ns < 0) q.first_ns = m.engine_.now().ticks();
    if (q.generated >= q.output) return complete(rep_i, ri);
    start_decode(rep_i, ri);
  }

  void start_decode(uint32_t rep_i, uint32_t ri) {
    Replica& rep = replicas[rep_i];
    Req& q = reqs[ri];
    q.decoding = true;
    ++rep.decoding;
    q.decode_start = rep.it;
    q.gen_at_decode = q.generated;
    rep.heap.push_back(HeapEntry{rep.it + (q.output - q.generated), ri, q.res});
    std::push_heap(rep.heap.begin(), rep.heap.end(), std::greater<>{});
  }

  /// Disaggregation: a prompt is prefilled; its prefill replica lets it go (the KV leaves through a
  /// staging buffer, so a slow decode pool does not stall prefill) and it waits for a decode replica.
  void hand_off(uint32_t rep_i, uint32_t ri) {
    Replica& rep = replicas[rep_i];
    Req& q = reqs[ri];
    rep.kv_used -= q.kv_alloc;
    --rep.nrun;
    ++q.res;  // its entry in the prefill replica's running list is stale now
    q.state = RState::Queued;
    q.replica = kNone;
    Region& reg = regions[rep.region];
    if (reg.dqueue.empty()) {
      const uint32_t d = pick_replica(reg, q.prompt + q.generated, true);
      if (d != kNone) return start_transfer(d, ri);
    }
    reg.dqueue.push_back(ri);
  }

  /// Reserves the KV on a decode replica and ships it: latency + bytes / bandwidth, after the
  /// transfers already queued on that replica's inbound link.
  void start_transfer(uint32_t rep_i, uint32_t ri) {
    Replica& rep = replicas[rep_i];
    Req& q = reqs[ri];
    const uint32_t need = q.prompt + q.generated;
    q.state = RState::Running;
    q.replica = rep_i;
    q.region = rep.region;
    q.prefill_left = 0;
    q.kv_alloc = need;
    q.decoding = false;
    q.transferring = true;
    ++q.res;
    rep.running.emplace_back(ri, q.res);
    ++rep.nrun;
    rep.kv_used += need;
    if (rep.busy && rep.seg_k > 1) cut(rep_i);  // keep the KV accounting to iteration boundaries
    const auto& dg = spec.disaggregation;
    const double bytes = double(need) * spec.model.kv_bytes_per_token();
    const int64_t now = m.engine_.now().ticks();
    const int64_t wire = std::max<int64_t>(1, std::llround(bytes / dg.kv_transfer_bytes_per_s * 1e9));
    const int64_t start = std::max(now, rep.link_free_ns);
    rep.link_free_ns = start + wire;
    const int64_t done = start + wire + dg.kv_transfer_latency.ticks();
    stats.kv_transfers += 1;
    stats.kv_transfer_bytes += bytes;
    stats.kv_transfer_seconds += double(done - now) * 1e-9;
    const uint32_t res = q.res;
    m.engine_.schedule_at(SimTime::zero() + Duration::ns(done), Phase::Completion, [this, rep_i, ri, res] {
      if (!live(replicas[rep_i], rep_i, ri, res)) return;  // preempted or lost with its replica
      end_transfer(rep_i, ri);
    }, k_xfer);
  }

  /// The KV has arrived: the first token reaches the user now (TTFT ends) and decoding starts at the
  /// replica's next iteration boundary (an iteration in progress was sized without it).
  void end_transfer(uint32_t rep_i, uint32_t ri) {
    Replica& rep = replicas[rep_i];
    Req& q = reqs[ri];
    if (q.first_ns < 0) q.first_ns = m.engine_.now().ticks();
    if (!rep.busy) {
      q.transferring = false;
      start_decode(rep_i, ri);
      begin_iteration(rep_i);
      return;
    }
    rep.arrived.emplace_back(ri, q.res);
    if (rep.seg_k > 1) cut(rep_i);
  }

  uint64_t kv_of(const Replica& rep, const Req& q) const {
    return q.decoding ? q.kv_alloc + (rep.it - q.decode_start) : q.kv_alloc;
  }

  void complete(uint32_t rep_i, uint32_t ri) {
    Replica& rep = replicas[rep_i];
    Req& q = reqs[ri];
    rep.kv_used -= kv_of(rep, q);
    if (q.decoding) --rep.decoding;
    --rep.nrun;
    record(q);
    free_req(ri);
  }

  void record(const Req& q) {
    const int64_t now = m.engine_.now().ticks();
    const double ttft = double(q.first_ns - q.arrival_ns) * 1e-9 + q.extra_s;
    const double e2e = double(now - q.arrival_ns) * 1e-9 + q.extra_s;
    const double tpot = q.output > 1 ? double(now - q.first_ns) * 1e-9 / (q.output - 1) : 0.0;
    const bool late = ttft > spec.slo.ttft.seconds() || (q.output > 1 && tpot > spec.slo.tpot.seconds());
    Region& served = regions[q.region];
    Region& home = regions[q.home];
    stats.counters.completed += 1;
    home.stats->counters.completed += 1;
    served.iv.completed += 1;
    if (late) {
      stats.counters.late += 1;
      home.stats->counters.late += 1;
      served.iv.late += 1;
    }
    stats.ttft.add(ttft);
    stats.e2e.add(e2e);
    served.stats->ttft.add(ttft);
    served.stats->e2e.add(e2e);
    served.iv_ttft.add(ttft);
    served.iv_e2e.add(e2e);
    if (q.output > 1) {
      stats.tpot.add(tpot);
      served.stats->tpot.add(tpot);
      served.iv_tpot.add(tpot);
    }
    if (q.window >= 0) {
      auto& w = stats.outages[static_cast<size_t>(q.window)];
      w.served += 1;
      if (late) w.late += 1;
      if (m.options_.keep_outage_sketches) w.ttft.add(ttft);
    }
  }

  void preempt(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    while (!rep.running.empty()) {
      const auto [ri, res] = rep.running.back();
      rep.running.pop_back();
      if (!live(rep, rep_i, ri, res)) continue;
      Req& q = reqs[ri];
      rep.kv_used -= kv_of(rep, q);
      if (q.decoding) {
        q.generated = q.gen_at_decode + static_cast<uint32_t>(rep.it - q.decode_start);
        --rep.decoding;
        q.decoding = false;
      } else if (q.transferring) {
        q.transferring = false;
      } else {
        const auto it = std::find(rep.prefill.rbegin(), rep.prefill.rend(), ri);
        if (it != rep.prefill.rend()) rep.prefill.erase(std::next(it).base());
      }
      --rep.nrun;
      ++q.res;
      stats.counters.preemptions += 1;
      regions[rep.region].iv.preemptions += 1;
      enqueue(regions[rep.region], ri, true);
      return;
    }
  }

  /// A replica went down: its requests start over through routing (their arrival time is kept).
  void replica_down(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    rep.up = false;
    if (rep.ev.valid()) m.engine_.cancel(rep.ev);
    rep.busy = false;
    rep.seg_k = 0;
    std::vector<uint32_t> lost;
    for (const auto& [ri, res] : rep.running)
      if (live(rep, rep_i, ri, res)) lost.push_back(ri);
    rep.running.clear();
    rep.prefill.clear();
    rep.heap.clear();
    rep.chunk.clear();
    rep.arrived.clear();
    rep.decoding = 0;
    rep.kv_used = 0;
    rep.nrun = 0;
    for (uint32_t ri : lost) {
      Req& q = reqs[ri];
      q.generated = 0;
      q.decoding = false;
      q.transferring = false;
      q.state = RState::Queued;
      q.replica = kNone;
      ++q.res;
      stats.counters.retried += 1;
    }
    for (uint32_t ri : lost) route(ri);
  }

  void finish_drain(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    Region& reg = regions[rep.region];
    rep.up = false;
    rep.draining = false;
    if (reg.extra_active > 0) --reg.extra_active;
    return_borrowed(rep_i);
  }

  // ---------------------------------------------------------------- health

  void on_fleet_change(ComponentRef c) {
    const IndexRange g = m.fleet_.range(c, Level::Gpu);
    // Collected first: taking a replica down may move it (and its node's other replicas) elsewhere.
    const std::vector<uint32_t> touched = replicas_on(g.begin, g.end);
    std::vector<uint32_t> touched_regions;
    for (uint32_t rep_i : touched) {
      Replica& rep = replicas[rep_i];
      const bool usable = gpus_usable(rep);
      if (!usable && (rep.up || rep.loading)) {
        take_down(rep_i);
      } else if (usable && !rep.up && !rep.loading && rep.dedicated) {
        start_loading(rep_i);
      } else {
        continue;
      }
      if (std::find(touched_regions.begin(), touched_regions.end(), rep.region) == touched_regions.end())
        touched_regions.push_back(rep.region);
    }
    if (spec.mode == InferenceMode::Request)
      for (uint32_t r : touched_regions) {
        pump(regions[r]);
        pump_decode(regions[r]);
      }
  }

  /// Its hardware failed: it stops serving (its requests start over elsewhere); a dedicated replica is
  /// moved to a free node when one is free, a borrowed one goes back to the broker (the autoscaler
  /// asks again if the load still needs it).
  void take_down(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    Region& reg = regions[rep.region];
    const uint32_t before = reg.up();
    ++rep.load_gen;
    rep.loading = false;
    if (rep.up) {
      if (rep.dedicated) --reg.dedicated_up;
      else --reg.extra_active;
      if (spec.mode == InferenceMode::Request) replica_down(rep_i);
      rep.up = false;
    }
    if (!rep.dedicated) {
      rep.draining = false;
      return_borrowed(rep_i);
    } else {
      relocate(rep_i);
    }
    region_changed(reg, before);
  }

  /// A borrowed replica's GPUs go back to the placer and the broker.
  void return_borrowed(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    const Region& reg = regions[rep.region];
    if (!rep.gpus.empty()) {
      unindex_gpus(rep_i);
      if (m.options_.placer) m.options_.placer->unbind(reg.fleet_region, acc_name, rep.gpus);
      rep.gpus.clear();
    }
    if (m.options_.broker) m.options_.broker->release(reg.fleet_region, acc_name, gpr, m.engine_.now());
  }

  /// A dedicated replica that is down moves off each node of it that is down whole: every replica on
  /// such a node is down, so the node is given back and a free node (the scheduler's choice: same
  /// rack, datacenter, then region; inside the scale-up domain for a replica wider than a node) takes
  /// its place; the replicas on it load their weights there. A node with a replica still up (one GPU
  /// of eight failed under a TP2 replica) stays: that replica waits for the repair.
  void relocate(uint32_t rep_i) {
    ReplicaPlacer* placer = m.options_.placer;
    if (placer == nullptr) return;
    const Fleet& fleet = m.fleet_;
    const uint32_t placement = regions[replicas[rep_i].region].placement;
    for (size_t s = 0; s < replicas[rep_i].gpus.size(); ++s) {
      const NodeId node = fleet.node_of(GpuId{replicas[rep_i].gpus[s].begin});
      const IndexRange ng = fleet.range(ref(node), Level::Gpu);
      if (fleet.usable(ref(node)) && fleet.usable_gpus(ref(node)) == ng.size()) continue;
      const std::vector<uint32_t> on_node = replicas_on(ng.begin, ng.end);
      if (std::any_of(on_node.begin(), on_node.end(), [&](uint32_t r) { return replicas[r].up || replicas[r].loading; }))
        continue;
      std::optional<IndexRange> within;
      if (replicas[rep_i].gpus.size() > 1) within = fleet.scale_up_domain(node);
      const std::optional<NodeId> fresh = placer->replace(placement, node, within);
      if (!fresh) continue;
      const uint32_t to = fleet.range(ref(*fresh), Level::Gpu).begin;
      for (uint32_t r : on_node) {
        unindex_gpus(r);
        for (GpuSpan& span : replicas[r].gpus)
          if (span.begin >= ng.begin && span.begin < ng.end) span.begin = to + (span.begin - ng.begin);
        index_gpus(r);
      }
      m.recorder_.event(m.engine_.now(), "inference_replica_moved")
          .field("service", spec.name)
          .field("region", regions[replicas[rep_i].region].name)
          .field("from", fleet.path(ref(node)))
          .field("to", fleet.path(ref(*fresh)))
          .field("replicas", static_cast<int64_t>(on_node.size()));
      for (uint32_t r : on_node)
        if (r != rep_i && gpus_usable(replicas[r])) start_loading(r);
    }
    if (gpus_usable(replicas[rep_i])) start_loading(rep_i);
  }

  /// Its GPUs are usable (again, or new ones): it serves once the weights are loaded.
  void start_loading(uint32_t rep_i) {
    Replica& rep = replicas[rep_i];
    if (rep.up || rep.loading) return;
    rep.loading = true;
    const uint32_t gen = ++rep.load_gen;
    if (load_time == Duration::zero()) return loaded(rep_i, gen);  // no weights to read: up in this instant
    m.engine_.schedule_in(load_time, Phase::Repair, [this, rep_i, gen] { loaded(rep_i, gen); }, k_load);
  }

  void loaded(uint32_t rep_i, uint32_t gen) {
    Replica& rep = replicas[rep_i];
    if (rep.load_gen != gen || !rep.loading) return;
    rep.loading = false;
    if (!gpus_usable(rep)) return;
    Region& reg = regions[rep.region];
    const uint32_t before = reg.up();
    rep.up = true;
    ++reg.dedicated_up;
    region_changed(reg, before);
    if (spec.mode == InferenceMode::Request) {
      pump(reg);
      pump_decode(reg);
    }
  }

  void open_window(Region& reg) {
    OutageWindowStats w;
    w.region = reg.idx;
    w.start = m.engine_.now();
    reg.window = static_cast<int32_t>(stats.outages.size());
    stats.outages.push_back(std::move(w));
  }

  void region_changed(Region& reg, uint32_t before) {
    const uint32_t after = reg.up();
    if (before > 0 && after == 0) {
      open_window(reg);
      if (spec.mode == InferenceMode::Request) {
        // Its queue fails over.
        std::deque<uint32_t> q;
        q.swap(reg.queue);
        for (uint32_t ri : reg.dqueue) q.push_back(ri);  // prefilled ones start over elsewhere
        reg.dqueue.clear();
        for (uint32_t ri : q) route(ri);
      }
    } else if (before == 0 && after > 0 && reg.window >= 0) {
      stats.outages[static_cast<size_t>(reg.window)].end = m.engine_.now();
      reg.window = -1;
    }
  }

  // ---------------------------------------------------------------- autoscaling

  void autoscale() {
    const auto& as = spec.autoscale;
    const double interval = as.interval.seconds();
    for (auto& reg : regions) {
      const double load = spec.mode == InferenceMode::Fluid ? reg.load_rate : reg.load_count / interval;
      reg.load_count = 0;
      if (reg.max_extra == 0 || x_sat <= 0) continue;
      const auto desired = static_cast<uint32_t>(std::ceil(load / (x_sat * as.target_utilization)));
      if (reg.unbound > 0) bring_up_borrowed(reg, 0);  // nodes handed over since the last try
      const uint32_t have = reg.up() + reg.extra_pending + reg.unbound;
      const uint32_t extra = reg.extra_active + reg.extra_pending + reg.unbound;
      if (desired > have && extra < reg.max_extra) {
        reg.calm_since = SimTime::max();
        const uint32_t want = std::min(desired - have, reg.max_extra - extra);
        uint64_t granted = 0;
        if (m.options_.broker)
          granted = m.options_.broker->acquire(reg.fleet_region, acc_name, uint64_t{want} * gpr, as.priority, m.engine_.now());
        const auto n = static_cast<uint32_t>(granted / gpr);
        if (granted > uint64_t{n} * gpr && m.options_.broker)
          m.options_.broker->release(reg.fleet_region, acc_name, granted - uint64_t{n} * gpr, m.engine_.now());
        if (n > 0) {
          reg.extra_pending += n;
          Region* r = &reg;
          m.recorder_.event(m.engine_.now(), "inference_scale_up")
              .field("service", spec.name)
              .field("region", reg.name)
              .field("replicas", int64_t{n})
              .field("gpus", int64_t{n} * gpr)
              .field("ready_in_ns", as.scale_up_delay);
          m.engine_.schedule_in(as.scale_up_delay, Phase::Control, [this, r, n] { scale_up_ready(*r, n); }, k_scaleup);
        }
      } else if (desired < reg.up() && reg.extra_active > 0) {
        if (reg.calm_since == SimTime::max()) reg.calm_since = m.engine_.now();
        if (m.engine_.now() - reg.calm_since >= as.scale_down_delay) {
          const uint32_t n = std::min(reg.extra_active, reg.up() - std::max(desired, 1u));
          scale_down(reg, n);
          reg.calm_since = SimTime::max();
        }
      } else {
        reg.calm_since = SimTime::max();
      }
    }
    m.engine_.schedule_in(as.interval, Phase::Control, [this] { autoscale(); }, k_scale);
  }

  void scale_up_ready(Region& reg, uint32_t n) {
    reg.extra_pending -= n;
    bring_up_borrowed(reg, n);
  }

  /// Brings up `n` newly granted borrowed replicas plus those still waiting for their nodes
  /// (reg.unbound). With a placer each takes GPUs of nodes the broker holds now and fails with them;
  /// one whose nodes are not handed over yet waits (and is tried again at the next autoscaling
  /// interval).
  void bring_up_borrowed(Region& reg, uint32_t n) {
    const uint32_t before = reg.up();
    uint32_t todo = n + reg.unbound;
    reg.unbound = 0;
    for (uint32_t k = reg.dedicated; k < reg.replicas.size() && todo > 0; ++k) {
      const uint32_t rep_i = reg.replicas[k];
      Replica& rep = replicas[rep_i];
      if (rep.up) continue;
      if (ReplicaPlacer* placer = m.options_.placer) {
        std::optional<ReplicaGpus> gpus = placer->bind(reg.fleet_region, acc_name, gpr);
        if (!gpus) break;
        rep.gpus = std::move(*gpus);
        index_gpus(rep_i);
      }
      rep.up = true;
      rep.draining = false;
      ++reg.extra_active;
      --todo;
    }
    reg.unbound = todo;
    reg.stats->extra_replicas = std::max(reg.stats->extra_replicas, reg.extra_active);
    region_changed(reg, before);
    if (spec.mode == InferenceMode::Request) pump(reg);
  }

  void scale_down(Region& reg, uint32_t n) {
    if (n == 0) return;
    m.recorder_.event(m.engine_.now(), "inference_scale_down")
        .field("service", spec.name)
        .field("region", reg.name)
        .field("replicas", int64_t{n});
    uint32_t done = 0;
    for (size_t k = reg.replicas.size(); k-- > reg.dedicated && done < n;) {
      const uint32_t rep_i = reg.replicas[k];
      Replica& rep = replicas[rep_i];
      if (!rep.up || rep.draining) continue;
      ++done;
      if (spec.mode == InferenceMode::Fluid) {  // a fluid replica holds no requests: it goes at once
        rep.up = false;
        --reg.extra_active;
        return_borrowed(rep_i);
        continue;
      }
      rep.draining = true;  // takes no new requests; returned when empty
      if (!rep.busy) begin_iteration(rep_i);
    }
  }

  // ---------------------------------------------------------------- sampling (request mode)

  void sample() {
    const SimTime now = m.engine_.now();
    for (auto& reg : regions) {
      // drop timed-out heads even when no replica pulls
      while (!reg.queue.empty() && timed_out(reqs[reg.queue.front()])) {
        const uint32_t ri = reg.queue.front();
        reg.queue.pop_front();
        time_out(ri);
      }
      double kv = 0, cap = 0;
      for (uint32_t i : reg.replicas) {
        const Replica& rep = replicas[i];
        if (!rep.up) continue;
        kv += double(rep.kv_used);
        cap += double(kv_cap);
      }
      const double kv_util = cap > 0 ? kv / cap : 0.0;
      stats.kv_util_sum += kv_util;
      stats.kv_util_samples += 1;
      stats.queue_time_weighted += double(reg.queue.size()) * (now - last_sample).seconds();
      write_row(reg, now, double(reg.queue.size()), kv_util, quantile_or_empty(reg.iv_ttft, 0.5),
                quantile_or_empty(reg.iv_ttft, 0.99), quantile_or_empty(reg.iv_tpot, 0.5),
                quantile_or_empty(reg.iv_e2e, 0.5), quantile_or_empty(reg.iv_e2e, 0.99), (now - last_sample).seconds());
      reg.iv = InferenceCounters{};
      reg.iv_ttft.clear();
      reg.iv_e2e.clear();
      reg.iv_tpot.clear();
    }
    last_sample = now;
    schedule_sample();
  }

  /// The next row: one sample_interval after the last, or a last partial one at the horizon.
  void schedule_sample() {
    if (spec.sample_interval <= Duration::zero() || last_sample >= horizon) return;
    const SimTime t = horizon - last_sample > spec.sample_interval ? last_sample + spec.sample_interval : horizon;
    m.engine_.schedule_at(t, Phase::Sample, [this] { sample(); }, k_sample);
  }

  void write_row(const Region& reg, SimTime now, double queue, double kv_util, double ttft50, double ttft99, double tpot50,
                 double e2e50, double e2e99, double interval_s) {
    const auto& c = reg.iv;
    m.recorder_.row(m.table_, now, spec.name, reg.name, c.arrived, c.completed, c.failed, c.late, c.rerouted_out,
                    c.rerouted_in, c.preemptions, queue, int64_t{reg.up()}, int64_t{reg.extra_active}, kv_util,
                    interval_s > 0 ? c.output_tokens / interval_s : 0.0, ttft50, ttft99, tpot50, e2e50, e2e99,
                    c.timed_out);
  }

  // ---------------------------------------------------------------- fluid mode

  /// One fluid step from now to the next multiple of fluid_step, cut at the next row's time and at the
  /// horizon, so that rows fall on sample_interval and nothing is counted past the horizon.
  void fluid_step() {
    const SimTime t0 = m.engine_.now();
    if (t0 >= horizon) return;
    const int64_t step = spec.fluid_step.ticks();
    SimTime t1 = SimTime::zero() + Duration::ns((t0.ticks() / step + 1) * step);
    const bool sampling = spec.sample_interval > Duration::zero();
    if (sampling && t1 - last_sample > spec.sample_interval) t1 = last_sample + spec.sample_interval;
    if (t1 > horizon) t1 = horizon;
    const double dt = (t1 - t0).seconds();
    const size_t n = regions.size();
    auto& lam = scratch_lam;
    auto& cap = scratch_cap;
    auto& keep = scratch_keep;
    auto& load = scratch_load;
    auto& spare_cap = scratch_spare;
    auto& overflow = scratch_overflow;
    auto& flows = scratch_flows;  // flows[q]: (source region, rate) spilled or failed over into q
    lam.assign(n, 0.0);
    cap.assign(n, 0.0);
    keep.assign(n, 0.0);
    load.assign(n, 0.0);
    spare_cap.assign(n, 0.0);
    overflow.assign(n, 0.0);
    flows.resize(n);
    for (auto& f : flows) f.clear();
    for (size_t r = 0; r < n; ++r) {
      Region& reg = regions[r];
      lam[r] = reg.arrivals->expected(t0, t1) / dt;
      cap[r] = reg.up() * x_sat;
      const double demand = lam[r] + reg.backlog / dt;
      const double arrived = lam[r] * dt;
      stats.counters.arrived += arrived;
      reg.stats->counters.arrived += arrived;
      reg.iv.arrived += arrived;
      if (reg.window >= 0) stats.outages[static_cast<size_t>(reg.window)].arrived += arrived;
      if (reg.up() == 0) {
        overflow[r] = spec.routing.failover ? demand : 0.0;
      } else if (spec.routing.spillover) {
        overflow[r] = std::max(0.0, demand - cap[r]);
      }
      keep[r] = demand - overflow[r];
    }
    for (size_t q = 0; q < n; ++q) spare_cap[q] = std::max(0.0, cap[q] - keep[q]);
    for (size_t r = 0; r < n; ++r) {
      double left = overflow[r];
      while (left > 0) {
        uint32_t best = kNone;
        for (size_t q = 0; q < n; ++q) {
          if (q == r || spare_cap[q] <= 0) continue;
          if (best == kNone || rtt_s[r][q] < rtt_s[r][best]) best = static_cast<uint32_t>(q);
        }
        if (best == kNone) break;
        const double take = std::min(left, spare_cap[best]);
        spare_cap[best] -= take;
        left -= take;
        flows[best].emplace_back(static_cast<uint32_t>(r), take);
        const double moved = take * dt;
        stats.counters.rerouted_out += moved;
        regions[r].stats->counters.rerouted_out += moved;
        regions[r].iv.rerouted_out += moved;
        regions[best].stats->counters.rerouted_in += moved;
        regions[best].iv.rerouted_in += moved;
        if (regions[r].window >= 0) stats.outages[static_cast<size_t>(regions[r].window)].rerouted += moved;
      }
      keep[r] += left;  // nowhere to go: it queues at home
    }
    for (size_t q = 0; q < n; ++q) {
      Region& reg = regions[q];
      double in = 0;
      for (const auto& f : flows[q]) in += f.second;
      load[q] = keep[q] + in;
      reg.load_rate = load[q];
      const double served_rate = std::min(load[q], cap[q]);
      double backlog = (load[q] - served_rate) * dt;
      const double max_backlog = cap[q] * spec.routing.max_queue_time.seconds();
      double dropped = 0;
      if (backlog > max_backlog) {
        dropped = backlog - max_backlog;
        backlog = max_backlog;
      }
      reg.backlog = backlog;
      const double served = served_rate * dt;
      stats.counters.failed += dropped;
      reg.stats->counters.failed += dropped;
      reg.iv.failed += dropped;
      // With capacity up, what the backlog cannot hold has waited max_queue_time: timed out, and kept in
      // the latency sketches censored at that wait (as in request mode). No capacity: plain failures.
      const double timed_out = cap[q] > 0 ? dropped : 0.0;
      if (timed_out > 0) {
        merged_dirty = true;
        const double waited = spec.routing.max_queue_time.seconds();
        stats.counters.timed_out += timed_out;
        reg.stats->counters.timed_out += timed_out;
        reg.iv.timed_out += timed_out;
        reg.stats->ttft.add(waited, timed_out);
        reg.stats->e2e.add(waited, timed_out);
      }
      stats.counters.completed += served;
      reg.stats->counters.completed += served;
      reg.iv.completed += served;
      const double tokens = served * output.mean();
      stats.counters.output_tokens += tokens;
      stats.counters.prompt_tokens += served * prompt.mean();
      reg.stats->counters.output_tokens += tokens;
      reg.stats->counters.prompt_tokens += served * prompt.mean();
      reg.iv.output_tokens += tokens;
      if (served <= 0 && dropped <= 0) continue;
      // latency of this step
      const double x = reg.up() > 0 ? served_rate / reg.up() : 0.0;
      const Steady st = steady_lookup(x);
      // Queueing over sequence slots: M/G/c with c = replicas * b_max, per-slot rate x_sat / b_max; the
      // wait's quantiles are Erlang C's exponential tail scaled by Allen-Cunneen's (1 + cs2) / 2. Above
      // capacity, the backlog's FIFO drain time.
      double wait_shift = 0, pw = 0, drain_rate = 0;
      const double slots = reg.up() * b_max;
      const double mu_slot = b_max > 0 ? x_sat / b_max : 0.0;
      if (backlog > 0 && cap[q] > 0) {
        wait_shift = backlog / cap[q];
      } else if (slots > 0 && load[q] < cap[q]) {
        pw = erlang_c(slots, load[q] / mu_slot);
        drain_rate = slots * mu_slot - load[q];
      }
      const double scale = (1.0 + cs2) / 2.0;
      // outcome shares by origin: local, and each inflow with its RTT
      const double local_share = load[q] > 0 ? keep[q] / load[q] : 1.0;
      add_fluid_latency(reg, st, served * local_share, 0.0, wait_shift, pw, drain_rate, scale, -1);
      for (const auto& [src, rate] : flows[q]) {
        const double share = rate / load[q];
        add_fluid_latency(reg, st, served * share, rtt_s[src][q], wait_shift, pw, drain_rate, scale, regions[src].window);
        if (regions[src].window >= 0) {
          auto& w = stats.outages[static_cast<size_t>(regions[src].window)];
          w.failed += dropped * share;
          w.timed_out += timed_out * share;
        }
      }
      if (reg.window >= 0) {
        auto& w = stats.outages[static_cast<size_t>(reg.window)];
        w.failed += dropped * local_share;
        w.timed_out += timed_out * local_share;
      }
    }
    // rows every sample interval, and a last partial one at the horizon
    if (sampling && (t1 - last_sample >= spec.sample_interval || t1 == horizon)) {
      for (auto& reg : regions) {
        // Served-weighted means of the steps' percentiles; none served: empty fields (NaN), not 0.
        const double w = reg.iv_w;
        const double none = std::numeric_limits<double>::quiet_NaN();
        write_row(reg, t1, reg.backlog, 0.0, w > 0 ? reg.iv_q_ttft50 / w : none, w > 0 ? reg.iv_q_ttft99 / w : none,
                  w > 0 ? reg.iv_q_tpot50 / w : none, w > 0 ? reg.iv_q_e2e50 / w : none,
                  w > 0 ? reg.iv_q_e2e99 / w : none, (t1 - last_sample).seconds());
        reg.iv = InferenceCounters{};
        reg.iv_w = reg.iv_q_ttft50 = reg.iv_q_ttft99 = reg.iv_q_tpot50 = reg.iv_q_e2e50 = reg.iv_q_e2e99 = 0;
      }
      last_sample = t1;
    }
    if (t1 < horizon) m.engine_.schedule_at(t1, Phase::Control, [this] { fluid_step(); }, k_step);
  }

  /// Adds `weight` served requests of one origin to the region's sketches as weighted quantile points:
  /// TTFT(p) = wait + residual + prefill(p) + rtt, E2E(o) = mean TTFT + (o - 1) * s. The
  /// service-level sketches are merged from the regions' on demand (sync()).
  void add_fluid_latency(Region& reg, const Steady& st, double weight, double rtt, double wait_shift, double pw,
                         double drain_rate, double scale, int32_t window) {
    if (weight <= 0) return;
    merged_dirty = true;
    const double tpot = st.s;
    const bool tpot_late = tpot > spec.slo.tpot.seconds();
    double late_w = 0;
    double ttft_mean_part = 0;
    // TTFT at the prompt-length quantiles with the wait at the same level (a comonotone coupling:
    // exact for the quantiles when either term dominates).
    std::array<double, 17> ttft{};
    for (size_t i = 0; i < kQuantLevels.size(); ++i) {
      double w = wait_shift;
      if (pw > 1.0 - kQuantLevels[i] && drain_rate > 0) w += std::log(pw / (1.0 - kQuantLevels[i])) / drain_rate * scale;
      ttft[i] = w + st.residual + st.pf_level[i] + rtt;
      ttft_mean_part += kQuantWeights[i] * ttft[i];
    }
    const double slo_ttft = spec.slo.ttft.seconds();
    for (size_t i = 0; i < kQuantLevels.size(); ++i) {
      const double wi = weight * kQuantWeights[i];
      reg.stats->ttft.add(ttft[i], wi);
      reg.stats->e2e.add(ttft_mean_part + (o_q[i] - 1) * st.s, wi);
      if (ttft[i] > slo_ttft || tpot_late) late_w += wi;
      if (window >= 0 && m.options_.keep_outage_sketches) stats.outages[static_cast<size_t>(window)].ttft.add(ttft[i], wi);
    }
    reg.stats->tpot.add(tpot, weight);
    stats.counters.late += late_w;
    reg.stats->counters.late += late_w;
    reg.iv.late += late_w;
    if (window >= 0) {
      auto& w = stats.outages[static_cast<size_t>(window)];
      w.served += weight;
      w.late += late_w;
    } else if (reg.window >= 0 && rtt == 0) {
      auto& w = stats.outages[static_cast<size_t>(reg.window)];
      w.served += weight;
      w.late += late_w;
    }
    reg.iv_w += weight;
    reg.iv_q_ttft50 += weight * ttft[kLevelP50];
    reg.iv_q_ttft99 += weight * ttft[kLevelP99];
    reg.iv_q_tpot50 += weight * tpot;
    reg.iv_q_e2e50 += weight * (ttft_mean_part + (o_q[kLevelP50] - 1) * st.s);
    reg.iv_q_e2e99 += weight * (ttft_mean_part + (o_q[kLevelP99] - 1) * st.s);
  }

  /// Fluid mode: the service's sketches are the merge of its regions'.
  void sync() {
    if (!merged_dirty) return;
    merged_dirty = false;
    stats.ttft.clear();
    stats.e2e.clear();
    stats.tpot.clear();
    for (const auto& r : stats.regions) {
      stats.ttft.merge(r.ttft);
      stats.e2e.merge(r.e2e);
      stats.tpot.merge(r.tpot);
    }
  }

  size_t queued() const {
    size_t n = 0;
    for (const auto& r : regions) n += r.queue.size();
    return n;
  }
};

// ------------------------------------------------------------------ InferenceModel

InferenceModel::InferenceModel(const InferenceSpec& spec, Fleet& fleet, const Catalog& catalog, Engine& engine,
                               const RngStreams& streams, Recorder& recorder, InferenceOptions options)
    : spec_(spec), fleet_(fleet), engine_(engine), recorder_(recorder), options_(options) {
  for (size_t i = 0; i < spec_.services.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      if (spec_.services[j].name == spec_.services[i].name)
        throw InferenceSpecError(fmt::format("two inference services are named \"{}\"", spec_.services[i].name));
    services_.push_back(std::make_unique<Service>(*this, spec_.services[i], i, catalog, streams));
  }
  if (!services_.empty()) {
    table_ = recorder_.table(spec_.table,
                             {"time_ns", "service", "region", "arrived", "completed", "failed", "late", "rerouted_out",
                              "rerouted_in", "preemptions", "queue", "replicas_up", "replicas_extra", "kv_utilization",
                              "output_tokens_per_s", "ttft_p50_s", "ttft_p99_s", "tpot_p50_s", "e2e_p50_s", "e2e_p99_s",
                              "timed_out"});
  }
}

InferenceModel::~InferenceModel() = default;

void InferenceModel::start(SimTime horizon) {
  if (started_) throw std::logic_error("InferenceModel::start called twice");
  started_ = true;
  for (auto& s : services_) s->start(horizon);
}

void InferenceModel::on_failure_event(const FailureEvent& e) {
  switch (e.kind) {
    case FailureEvent::Kind::Failure:
    case FailureEvent::Kind::Repair:
    case FailureEvent::Kind::OutageStart:
    case FailureEvent::Kind::OutageEnd:
      on_fleet_change(e.component);
      break;
    default:
      break;
  }
}

void InferenceModel::on_fleet_change(ComponentRef c) {
  for (auto& s : services_) s->on_fleet_change(c);
}

size_t InferenceModel::services() const { return services_.size(); }
const InferenceServiceStats& InferenceModel::stats(size_t i) const {
  services_.at(i)->sync();
  return services_.at(i)->stats;
}
const IterationCost& InferenceModel::cost(size_t i) const { return *services_.at(i)->cost; }
std::vector<ReplicaView> InferenceModel::replicas(size_t i) const {
  std::vector<ReplicaView> out;
  for (const auto& r : services_.at(i)->replicas) out.push_back({r.region, r.dedicated, r.up, r.loading, r.gpus});
  return out;
}
size_t InferenceModel::queued(size_t i) const { return services_.at(i)->queued(); }

namespace {
nlohmann::json latency_json(const LatencySketch& s) {
  if (s.count() <= 0)  // nothing served: no latency (null), not a latency of 0
    return {{"p50", nullptr}, {"p90", nullptr}, {"p99", nullptr}, {"mean", nullptr}};
  return {{"p50", s.quantile(0.5)}, {"p90", s.quantile(0.9)}, {"p99", s.quantile(0.99)}, {"mean", s.mean()}};
}
nlohmann::json counters_json(const InferenceCounters& c) {
  return {{"arrived", c.arrived},         {"completed", c.completed},       {"failed", c.failed},
          {"late", c.late},               {"rerouted_out", c.rerouted_out}, {"rerouted_in", c.rerouted_in},
          {"retried", c.retried},         {"preemptions", c.preemptions},   {"output_tokens", c.output_tokens},
          {"prompt_tokens", c.prompt_tokens}, {"timed_out", c.timed_out}};
}
}  // namespace

void InferenceModel::write_summary() {
  if (services_.empty()) return;
  const SimTime now = engine_.now();
  const double elapsed = now.seconds();
  auto& out = recorder_.summary()["inference"];
  out = nlohmann::json::object();
  const TableId outages = recorder_.table(spec_.table + "_outages",
                                          {"service", "region", "start_ns", "end_ns", "arrived", "served", "late",
                                           "failed", "rerouted", "ttft_p50_s", "ttft_p99_s", "timed_out"});
  for (const auto& sp : services_) {
    sp->sync();
    const Service& s = *sp;
    const auto& st = s.stats;
    nlohmann::json j;
    j["mode"] = s.spec.mode == InferenceMode::Fluid ? "fluid" : "request";
    j["requests"] = counters_json(st.counters);
    const double done = st.counters.completed + st.counters.failed;
    j["slo_attainment"] = done > 0 ? (st.counters.completed - st.counters.late) / done : 1.0;
    j["ttft_s"] = latency_json(st.ttft);
    j["tpot_s"] = latency_json(st.tpot);
    j["e2e_s"] = latency_json(st.e2e);
    j["output_tokens_per_s"] = elapsed > 0 ? st.counters.output_tokens / elapsed : 0.0;
    j["requests_per_s"] = elapsed > 0 ? st.counters.completed / elapsed : 0.0;
    if (s.spec.mode == InferenceMode::Request) {
      j["mean_queue"] = elapsed > 0 ? st.queue_time_weighted / elapsed : 0.0;
      j["mean_kv_utilization"] = st.kv_util_samples > 0 ? st.kv_util_sum / st.kv_util_samples : 0.0;
      j["iterations"] = st.iterations;
      j["engine_events_for_iterations"] = st.segments;
    }
    if (s.disagg) {
      j["disaggregation"] = {{"prefill_replicas", st.prefill_replicas},
                             {"decode_replicas", st.decode_replicas},
                             {"prefill_saturation_requests_per_s", st.prefill_saturation_rps},
                             {"decode_saturation_requests_per_s", st.decode_saturation_rps},
                             {"kv_transfers", st.kv_transfers},
                             {"kv_transfer_bytes", st.kv_transfer_bytes},
                             {"kv_transfer_mean_s", st.kv_transfers > 0 ? st.kv_transfer_seconds / st.kv_transfers : 0.0}};
    }
    j["replica"] = {{"gpus", s.gpr},
                    {"kv_capacity_tokens", st.kv_capacity_tokens},
                    {"weights_per_gpu_bytes", s.cost->weight_bytes_per_gpu()},
                    {"weight_load_s", st.weight_load_s},
                    {"saturation_requests_per_s", st.replica_saturation_rps},
                    {"max_batch", st.replica_max_batch},
                    {"decode_step_s_batch1", s.cost->step_seconds(0.0, 1.0, s.prompt.mean())}};
    nlohmann::json regions = nlohmann::json::object();
    for (const auto& r : st.regions) {
      regions[r.name] = {{"requests", counters_json(r.counters)},
                         {"ttft_s", latency_json(r.ttft)},
                         {"e2e_s", latency_json(r.e2e)},
                         {"tpot_s", latency_json(r.tpot)},
                         {"replicas", r.replicas},
                         {"max_extra_replicas", r.extra_replicas},
                         {"max_queue", r.max_queue}};
    }
    j["regions"] = regions;
    nlohmann::json ow = nlohmann::json::array();
    for (const auto& w : st.outages) {
      const std::string& rname = s.regions[w.region].name;
      nlohmann::json o = {{"region", rname},
                          {"start_ns", w.start.ticks()},
                          {"end_ns", w.end == SimTime::max() ? nlohmann::json(nullptr) : nlohmann::json(w.end.ticks())},
                          {"arrived", w.arrived},
                          {"served", w.served},
                          {"late", w.late},
                          {"failed", w.failed},
                          {"timed_out", w.timed_out},
                          {"rerouted", w.rerouted},
                          {"ttft_p99_s", quantile_or_empty(w.ttft, 0.99)}};
      ow.push_back(o);
      recorder_.row(outages, s.spec.name, rname, w.start, w.end == SimTime::max() ? CellView::null() : CellView(w.end),
                    w.arrived, w.served, w.late, w.failed, w.rerouted, quantile_or_empty(w.ttft, 0.5),
                    quantile_or_empty(w.ttft, 0.99), w.timed_out);
    }
    j["outages"] = ow;
    out[s.spec.name] = j;
  }
}

}  // namespace fleetsim
