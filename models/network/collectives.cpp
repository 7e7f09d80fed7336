// SPDX-License-Identifier: Apache-2.0
#include "models/network/collectives.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fleetsim {

// The ECMP key of a transfer: a pure function of the pair (and the run's key_base), so a pair keeps its
// path across steps, as an NCCL connection keeps its queue pair, and aggregate and detailed costing
// route identically.
uint64_t collective_transfer_key(uint64_t base, VertexId src, VertexId dst, uint32_t channel) {
  return ecmp_mix(base ^ ecmp_mix((uint64_t{src} << 32) | dst) ^ (uint64_t{channel} * 0x9e3779b97f4a7c15ull)) | 1;
}

namespace {
// All-to-all phases longer than this are costed on this many evenly spaced shifts.
constexpr uint32_t kSampledSteps = kCollectiveSampledSteps;
uint64_t transfer_key(uint64_t base, VertexId src, VertexId dst, uint32_t channel) {
  return collective_transfer_key(base, src, dst, channel);
}
}  // namespace

CollectivePlan::CollectivePlan(std::span<const VertexId> placement, const CollectiveSpec& spec, const Router& router)
    : ranks_(placement.begin(), placement.end()), spec_(spec), algorithm_(spec.algorithm) {
  n_ = static_cast<uint32_t>(ranks_.size());
  if (!(spec.bytes >= 0) || !std::isfinite(spec.bytes)) throw std::invalid_argument("collective bytes must be >= 0");
  if (n_ <= 1) return;
  auto add = [&](uint32_t steps, bool same) {
    if (steps == 0) return;
    phases_.push_back({total_steps_, steps, same});
    total_steps_ += steps;
  };
  switch (spec.op) {
    case CollectiveOp::PointToPoint: add(1, true); return;
    case CollectiveOp::AllToAll: add(n_ - 1, false); return;
    case CollectiveOp::AllGather:
    case CollectiveOp::ReduceScatter:
      algorithm_ = Algorithm::Ring;
      add(n_ - 1, true);
      return;
    case CollectiveOp::AllReduce: break;
  }
  if (algorithm_ == Algorithm::Tree) {
    while ((2u << depth_) - 1 < n_) ++depth_;  // nodes at depth d: [2^d - 1, 2^(d+1) - 1)
    for (uint32_t k = 0; k < 2 * depth_; ++k) add(1, true);
    return;
  }
  if (algorithm_ == Algorithm::Hierarchical) {
    // Group by scale-up domain, in order of first appearance.
    std::vector<VertexId> keys;
    std::vector<std::vector<VertexId>> groups;
    for (VertexId v : ranks_) {
      const auto sw = router.topology().nvswitch_of(v);
      const VertexId k = sw ? *sw : v;
      auto it = std::find(keys.begin(), keys.end(), k);
      if (it == keys.end()) {
        keys.push_back(k);
        groups.emplace_back();
        it = keys.end() - 1;
      }
      groups[static_cast<size_t>(it - keys.begin())].push_back(v);
    }
    bool equal = true;
    for (const auto& g : groups) equal = equal && g.size() == groups[0].size();
    if (equal && groups.size() > 1 && groups[0].size() > 1) {
      g_ = static_cast<uint32_t>(groups[0].size());
      m_ = static_cast<uint32_t>(groups.size());
      ranks_.clear();
      for (const auto& g : groups) ranks_.insert(ranks_.end(), g.begin(), g.end());
      add(g_ - 1, true);
      add(2 * (m_ - 1), true);
      add(g_ - 1, true);
      return;
    }
    algorithm_ = Algorithm::Ring;
  }
  algorithm_ = Algorithm::Ring;
  add(2 * (n_ - 1), true);
}

void CollectivePlan::step(uint32_t k, std::vector<Transfer>& out) const {
  out.clear();
  if (k >= total_steps_) return;
  const double S = spec_.bytes;
  switch (spec_.op) {
    case CollectiveOp::PointToPoint: out.push_back({ranks_[0], ranks_[1], S}); return;
    case CollectiveOp::AllToAll:
      for (uint32_t i = 0; i < n_; ++i) out.push_back({ranks_[i], ranks_[(i + k + 1) % n_], S / n_});
      return;
    case CollectiveOp::AllGather:
    case CollectiveOp::ReduceScatter:
      for (uint32_t i = 0; i < n_; ++i) out.push_back({ranks_[i], ranks_[(i + 1) % n_], S / n_});
      return;
    case CollectiveOp::AllReduce: break;
  }
  if (algorithm_ == Algorithm::Tree) {
    const bool up = k < depth_;
    const uint32_t d = up ? depth_ - k : k - depth_ + 1;
    const uint32_t lo = (1u << d) - 1, hi = std::min(n_, (2u << d) - 1);
    for (uint32_t i = lo; i < hi; ++i) {
      const uint32_t parent = (i - 1) / 2;
      if (up)
        out.push_back({ranks_[i], ranks_[parent], S});
      else
        out.push_back({ranks_[parent], ranks_[i], S});
    }
    return;
  }
  if (algorithm_ == Algorithm::Hierarchical) {
    const bool inside = k < g_ - 1 || k >= (g_ - 1) + 2 * (m_ - 1);
    if (inside) {
      for (uint32_t j = 0; j < m_; ++j)
        for (uint32_t l = 0; l < g_; ++l) out.push_back({ranks_[j * g_ + l], ranks_[j * g_ + (l + 1) % g_], S / g_});
    } else {
      for (uint32_t j = 0; j < m_; ++j)
        for (uint32_t l = 0; l < g_; ++l)
          out.push_back({ranks_[j * g_ + l], ranks_[((j + 1) % m_) * g_ + l], S / (static_cast<double>(g_) * m_)});
    }
    return;
  }
  for (uint32_t i = 0; i < n_; ++i) out.push_back({ranks_[i], ranks_[(i + 1) % n_], S / n_});
}

std::vector<double> max_min_fair(std::span<const std::vector<EdgeIndex>> paths, std::span<const double> capacity) {
  const size_t F = paths.size();
  std::vector<double> rate(F, std::numeric_limits<double>::infinity());
  std::vector<double> residual(capacity.begin(), capacity.end());
  std::vector<uint32_t> count(capacity.size(), 0);
  std::vector<std::vector<uint32_t>> on(capacity.size());
  for (uint32_t f = 0; f < F; ++f)
    for (EdgeIndex e : paths[f]) {
      ++count[e];
      on[e].push_back(f);
    }
  std::vector<char> frozen(F, 0);
  size_t left = 0;
  for (uint32_t f = 0; f < F; ++f) left += paths[f].empty() ? 0 : 1;
  // Textbook progressive filling (Bertsekas and Gallager 6.5.2): find the link with the least fair
  // share among links with unfrozen flows, freeze its flows at that share, repeat. O(L) per round.
  while (left > 0) {
    double best = std::numeric_limits<double>::infinity();
    size_t arg = SIZE_MAX;
    for (size_t e = 0; e < capacity.size(); ++e) {
      if (count[e] == 0) continue;
      const double s = std::max(0.0, residual[e]) / count[e];
      if (s < best) {
        best = s;
        arg = e;
      }
    }
    if (arg == SIZE_MAX) break;
    for (uint32_t f : on[arg]) {
      if (frozen[f]) continue;
      frozen[f] = 1;
      rate[f] = best;
      --left;
      for (EdgeIndex e : paths[f]) {
        residual[e] -= best;
        --count[e];
      }
    }
  }
  return rate;
}

namespace {
// The same max-min rates as max_min_fair, fast: only the links the flows use, a lazy min-heap of fair
// shares (a share only rises as flows freeze elsewhere, so stale keys are lower bounds), links crossed
// by one flow folded into that flow's cap. O(sum of path lengths x log). Used by the aggregate costing,
// whose steps at 16,384 GPUs have 16,384 to 65,536 flows on 130,000 directed edges.
struct FastMaxMin {
  std::vector<uint32_t> local;  // per edge: index into used links, or UINT32_MAX
  std::vector<EdgeIndex> used;
  std::vector<double> residual;
  std::vector<uint32_t> count, first, next_flow, link_flows;
  std::vector<double> weight;  // per used link: sum of the unfrozen flows' fractions there
  struct Entry {
    double share;
    uint32_t id;  // link, or flow | 0x80000000
  };
  std::vector<Entry> heap;

  // `fractions` (optional, per flow, empty for 1 on every link): a sprayed flow's share of its rate on
  // each link of its path (Router::spray). Weighted progressive filling; all fractions 1 is the
  // unweighted solve to the bit (the weights then sum to the flow counts exactly).
  void solve(std::span<const std::vector<EdgeIndex>> paths, std::span<const double> capacity, std::vector<double>& rate,
             std::span<const std::vector<double>> fractions = {}) {
    const auto frac = [&](uint32_t f, size_t i) {
      return fractions.empty() || fractions[f].empty() ? 1.0 : fractions[f][i];
    };
    const bool weighted = !fractions.empty();
    constexpr uint32_t kFlow = 0x80000000u;
    const auto greater = [](const Entry& a, const Entry& b) { return a.share > b.share || (a.share == b.share && a.id > b.id); };
    if (local.size() != capacity.size()) local.assign(capacity.size(), UINT32_MAX);
    used.clear();
    for (const auto& p : paths)
      for (EdgeIndex e : p)
        if (local[e] == UINT32_MAX) {
          local[e] = static_cast<uint32_t>(used.size());
          used.push_back(e);
        }
    const size_t L = used.size(), F = paths.size();
    residual.assign(L, 0);
    count.assign(L, 0);
    for (size_t l = 0; l < L; ++l) residual[l] = capacity[used[l]];
    weight.assign(L, 0);
    for (uint32_t f = 0; f < F; ++f)
      for (size_t i = 0; i < paths[f].size(); ++i) {
        ++count[local[paths[f][i]]];
        weight[local[paths[f][i]]] += frac(f, i);
      }
    // Flows per link as CSR.
    first.assign(L + 1, 0);
    for (const auto& p : paths)
      for (EdgeIndex e : p) ++first[local[e] + 1];
    for (size_t l = 0; l < L; ++l) first[l + 1] += first[l];
    link_flows.resize(first[L]);
    next_flow.assign(first.begin(), first.end() - 1);
    for (uint32_t f = 0; f < F; ++f)
      for (EdgeIndex e : paths[f]) link_flows[next_flow[local[e]]++] = f;
    rate.assign(F, std::numeric_limits<double>::infinity());
    std::vector<char> frozen(F, 0);
    heap.clear();
    for (uint32_t l = 0; l < L; ++l)
      if (count[l] > 1) heap.push_back({residual[l] / weight[l], l});
    size_t left = 0;
    for (uint32_t f = 0; f < F; ++f) {
      if (paths[f].empty()) {
        frozen[f] = 1;
        continue;
      }
      ++left;
      double cap = std::numeric_limits<double>::infinity();
      for (size_t i = 0; i < paths[f].size(); ++i)
        if (count[local[paths[f][i]]] == 1) cap = std::min(cap, capacity[paths[f][i]] / frac(f, i));
      if (std::isfinite(cap)) heap.push_back({cap, f | kFlow});
    }
    std::make_heap(heap.begin(), heap.end(), greater);
    auto freeze = [&](uint32_t f, double r) {
      frozen[f] = 1;
      rate[f] = r;
      --left;
      for (size_t i = 0; i < paths[f].size(); ++i) {
        const uint32_t l = local[paths[f][i]];
        residual[l] -= r * frac(f, i);
        weight[l] -= frac(f, i);
        --count[l];
      }
    };
    while (!heap.empty() && left > 0) {
      std::pop_heap(heap.begin(), heap.end(), greater);
      const Entry top = heap.back();
      heap.pop_back();
      if ((top.id & kFlow) != 0) {
        if (!frozen[top.id & ~kFlow]) freeze(top.id & ~kFlow, top.share);
        continue;
      }
      const uint32_t l = top.id;
      if (count[l] == 0) continue;
      if (weighted && (count[l] == 1 || weight[l] <= 0)) {
        // The last unfrozen flows' fractions, not a running difference that may have drifted.
        weight[l] = 0;
        for (uint32_t k = first[l]; k < first[l + 1]; ++k) {
          const uint32_t f = link_flows[k];
          if (frozen[f]) continue;
          for (size_t i = 0; i < paths[f].size(); ++i)
            if (local[paths[f][i]] == l) weight[l] += frac(f, i);
        }
      }
      const double share = std::max(0.0, residual[l]) / weight[l];
      if (share > top.share * (1 + 1e-12)) {
        heap.push_back({share, l});
        std::push_heap(heap.begin(), heap.end(), greater);
        continue;
      }
      for (uint32_t k = first[l]; k < first[l + 1]; ++k)
        if (!frozen[link_flows[k]]) freeze(link_flows[k], share);
    }
    for (EdgeIndex e : used) local[e] = UINT32_MAX;
  }
};
}  // namespace

std::vector<double> max_min_fair_fast(std::span<const std::vector<EdgeIndex>> paths, std::span<const double> capacity) {
  FastMaxMin m;
  std::vector<double> rate;
  m.solve(paths, capacity, rate);
  return rate;
}

Duration ring_allreduce_time(uint32_t n, double bytes, double bytes_per_s, Duration alpha) {
  if (n <= 1) return Duration::zero();
  const double steps = 2.0 * (n - 1);
  return Duration::from_seconds(steps * (alpha.seconds() + bytes / n / bytes_per_s));
}

CollectiveCost estimate_collective(Router& router, std::span<const double> capacity, std::span<const VertexId> placement,
                                   const CollectiveSpec& spec, std::span<const double> background) {
  const std::vector<std::vector<VertexId>> one{std::vector<VertexId>(placement.begin(), placement.end())};
  return estimate_concurrent(router, capacity, one, spec, background);
}

CollectiveCost estimate_concurrent(Router& router, std::span<const double> capacity,
                                   std::span<const std::vector<VertexId>> placements, const CollectiveSpec& spec,
                                   std::span<const double> background) {
  std::vector<CollectivePlan> plans;
  for (const auto& p : placements) plans.emplace_back(p, spec, router);
  if (plans.empty()) return CollectiveCost{};
  const CollectivePlan& plan = plans[0];
  for (const auto& p : plans) {
    bool same = p.phases().size() == plan.phases().size();
    for (size_t i = 0; same && i < p.phases().size(); ++i)
      same = p.phases()[i].first_step == plan.phases()[i].first_step && p.phases()[i].steps == plan.phases()[i].steps;
    if (!same) throw std::invalid_argument("estimate_concurrent: the collectives must have the same step structure");
  }
  if (spec.channels == 0) throw std::invalid_argument("collective channels must be at least 1");
  std::vector<Transfer> one_plan;
  std::vector<uint32_t> channel_of;
  auto step_of_all = [&](uint32_t k, std::vector<Transfer>& out) {
    out.clear();
    channel_of.clear();
    for (const auto& p : plans) {
      p.step(k, one_plan);
      for (const Transfer& t : one_plan)
        for (uint32_t ch = 0; ch < spec.channels; ++ch) {
          out.push_back({t.src, t.dst, t.bytes / spec.channels});
          channel_of.push_back(ch);
        }
    }
  };
  CollectiveCost cost;
  cost.steps = plan.steps();
  cost.bottleneck_bytes_per_s = std::numeric_limits<double>::infinity();
  // The capacities the flows see: the fabric's own, or (with background traffic) what it leaves. A
  // fabric has up to millions of links and a job restart costs a collective or two, so the fabric's
  // array is used in place rather than copied per call.
  std::vector<double> left_over;
  if (!background.empty()) {
    left_over.assign(capacity.begin(), capacity.end());
    for (size_t e = 0; e < left_over.size(); ++e) left_over[e] = std::max(left_over[e] * 1e-9, left_over[e] - background[e]);
  }
  const std::span<const double> cap = background.empty() ? capacity : std::span<const double>(left_over);
  const Topology& t = router.topology();
  // The solver's per-link index (one entry per fabric link, reset after each solve to only the links
  // it touched) is kept per thread: allocating and clearing it per call cost more than the solve.
  thread_local FastMaxMin solver;
  std::vector<double> rate;
  std::vector<Transfer> tr;
  std::vector<std::vector<EdgeIndex>> paths;
  // Policies (routing_policy.hpp): spray gives a transfer fractions on the equal-cost DAG; adaptive routes
  // a step's transfers in order, each onto the least loaded equal-cost path given those before it (the
  // flows of a step start together; the order is the plan's, so it is deterministic).
  std::vector<std::vector<double>> fracs;
  std::vector<Duration> spray_latency;
  std::vector<uint32_t> step_flows;
  std::vector<EdgeIndex> counted;
  const bool policies = router.any_policy();
  double total_s = 0;
  Duration worst_latency;
  for (const auto& ph : plan.phases()) {
    std::vector<uint32_t> sample;
    if (ph.same_pattern || ph.steps <= kSampledSteps) {
      if (ph.same_pattern)
        sample.push_back(ph.first_step);
      else
        for (uint32_t k = 0; k < ph.steps; ++k) sample.push_back(ph.first_step + k);
    } else {
      for (uint32_t j = 0; j < kSampledSteps; ++j)
        sample.push_back(ph.first_step + static_cast<uint32_t>(uint64_t{ph.steps - 1} * j / (kSampledSteps - 1)));
    }
    double sum_s = 0;
    for (uint32_t k : sample) {
      step_of_all(k, tr);
      paths.resize(tr.size());
      if (policies) {
        fracs.assign(tr.size(), {});
        spray_latency.assign(tr.size(), Duration::zero());
        if (step_flows.size() != cap.size()) step_flows.assign(cap.size(), 0);
        for (EdgeIndex e : counted) step_flows[e] = 0;
        counted.clear();
      }
      for (size_t i = 0; i < tr.size(); ++i) {
        const uint64_t key = transfer_key(spec.key_base, tr[i].src, tr[i].dst, channel_of[i]);
        bool ok = false;
        switch (policies ? router.policy(tr[i].src) : RoutingPolicy::Ecmp) {
          case RoutingPolicy::Spray:
            ok = router.spray(tr[i].src, tr[i].dst, paths[i], fracs[i], &spray_latency[i]);
            break;
          case RoutingPolicy::Adaptive:
            ok = router.route_least_loaded(
                tr[i].src, tr[i].dst, key,
                [&](EdgeIndex e) { return cap[e] / static_cast<double>(step_flows[e] + 1); }, paths[i]);
            for (EdgeIndex e : paths[i]) {
              if (step_flows[e]++ == 0) counted.push_back(e);
            }
            break;
          case RoutingPolicy::Ecmp:
          case RoutingPolicy::Pinned:
            ok = router.route(tr[i].src, tr[i].dst, key, paths[i]);
            break;
        }
        if (!ok) {
          cost.connected = false;
          cost.time = Duration::max();
          return cost;
        }
      }
      // The step as a fluid: solve max-min, advance to the first flow that drains, remove it, re-solve
      // (rates of the others rise), until all have drained; the step ends when the last byte of the
      // slowest flow has arrived (drain + its path latency). Usually one round: ring steps are uniform.
      std::vector<double> left(tr.size());
      std::vector<char> live(tr.size(), 0);
      std::vector<Duration> lat(tr.size());
      size_t alive = 0;
      double step_s = 0;
      for (size_t i = 0; i < tr.size(); ++i) {
        if (policies && !fracs[i].empty())
          lat[i] = spray_latency[i];
        else
          for (EdgeIndex e : paths[i]) lat[i] += t.edge(e).latency;
        worst_latency = std::max(worst_latency, lat[i]);
        left[i] = tr[i].bytes;
        live[i] = !paths[i].empty() && tr[i].bytes > 0;
        alive += live[i];
        if (!live[i]) step_s = std::max(step_s, lat[i].seconds());
      }
      // Drained (and zero-byte) transfers get an empty path: the solver gives them no share.
      for (size_t i = 0; i < tr.size(); ++i)
        if (!live[i]) paths[i].clear();
      double now_s = 0;
      bool first_round = true;
      while (alive > 0) {
        solver.solve(paths, cap, rate, policies ? std::span<const std::vector<double>>(fracs) : std::span<const std::vector<double>>{});
        double dt = std::numeric_limits<double>::infinity();
        for (size_t i = 0; i < tr.size(); ++i) {
          if (!live[i]) continue;
          dt = std::min(dt, left[i] / rate[i]);
          if (first_round) cost.bottleneck_bytes_per_s = std::min(cost.bottleneck_bytes_per_s, rate[i]);
        }
        first_round = false;
        now_s += dt;
        for (size_t i = 0; i < tr.size(); ++i) {
          if (!live[i]) continue;
          left[i] -= rate[i] * dt;
          if (left[i] <= tr[i].bytes * 1e-12) {
            live[i] = 0;
            --alive;
            paths[i].clear();
            step_s = std::max(step_s, now_s + lat[i].seconds());
          }
        }
      }
      sum_s += spec.alpha.seconds() + step_s;
    }
    total_s += sum_s / static_cast<double>(sample.size()) * ph.steps;
  }
  cost.time = Duration::from_seconds(total_s);
  cost.step_latency = spec.alpha + worst_latency;
  if (!std::isfinite(cost.bottleneck_bytes_per_s)) cost.bottleneck_bytes_per_s = 0;
  return cost;
}

CollectiveRun::CollectiveRun(FlowModel& flows, Router& router, Engine& engine, std::span<const VertexId> placement,
                             const CollectiveSpec& spec, std::function<void()> on_done)
    : flows_(flows), engine_(engine), plan_(placement, spec, router), spec_(spec), on_done_(std::move(on_done)) {}

CollectiveRun::~CollectiveRun() {
  engine_.cancel(wait_);
  for (FlowId f : current_) flows_.abort(f);
}

void CollectiveRun::start() {
  if (started_) throw std::logic_error("CollectiveRun::start called twice");
  started_ = true;
  begin_ = end_ = engine_.now();
  step_ = 0;
  begin_step();
}

void CollectiveRun::begin_step() {
  if (step_ >= plan_.steps()) {
    finish();
    return;
  }
  if (spec_.alpha > Duration::zero()) {
    wait_ = engine_.schedule_in(spec_.alpha, Phase::Completion, [this] { launch_step(); });
  } else {
    launch_step();
  }
}

void CollectiveRun::launch_step() {
  plan_.step(step_, transfers_);
  outstanding_ = static_cast<uint32_t>(transfers_.size());
  current_.clear();
  if (outstanding_ == 0) {
    ++step_;
    begin_step();
    return;
  }
  const uint32_t ch = std::max(1u, spec_.channels);
  outstanding_ *= ch;
  for (const Transfer& t : transfers_)
    for (uint32_t c = 0; c < ch; ++c)
      current_.push_back(flows_.start(t.src, t.dst, t.bytes / ch, [this] { flow_done(); },
                                      transfer_key(spec_.key_base, t.src, t.dst, c)));
}

void CollectiveRun::flow_done() {
  if (flows_.finishing_failed()) failed_ = true;
  if (--outstanding_ > 0) return;
  current_.clear();
  if (failed_) {
    finish();
    return;
  }
  ++step_;
  begin_step();
}

void CollectiveRun::finish() {
  end_ = engine_.now();
  done_ = true;
  if (on_done_) on_done_();
}

}  // namespace fleetsim
