// SPDX-License-Identifier: Apache-2.0
#include "models/network/fabric_failures.hpp"

#include "models/network/routing.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fleetsim {

namespace {

// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): the state advances by the golden-ratio constant and
// ecmp_mix is its output function.
uint64_t next_u64(uint64_t& state) {
  const uint64_t out = ecmp_mix(state);
  state += 0x9e3779b97f4a7c15ull;
  return out;
}

/// Uniform in [0, 1) with 53 random bits.
double next_unit(uint64_t& state) { return double(next_u64(state) >> 11) * 0x1.0p-53; }

/// Uniform integer in [0, n) for n < 2^32 (Lemire's multiply-shift on 32 random bits; the bias,
/// below n / 2^32, is far below anything a study could see, and the result is the same everywhere).
uint64_t next_below(uint64_t& state, uint64_t n) { return ((next_u64(state) >> 32) * n) >> 32; }

uint64_t spec_seed(uint64_t seed, size_t index) { return ecmp_mix(seed ^ ecmp_mix(0x6661627269630000ull + index)); }

uint32_t link_cluster(const Topology& topo, uint32_t link) {
  const Topology::EdgeRec& e = topo.edge(link * 2);
  const uint32_t a = topo.vertex(e.source).cluster, b = topo.vertex(e.target).cluster;
  return a != UINT32_MAX ? a : b;  // WAN router-router links: UINT32_MAX
}

}  // namespace

std::vector<uint32_t> eligible_links(const Topology& topo, const LinkFailureSpec& spec) {
  uint32_t cluster = UINT32_MAX;
  if (!spec.cluster.empty()) {
    const auto c = topo.find_cluster(spec.cluster);
    if (!c) throw std::invalid_argument(fmt::format("link failures: no cluster \"{}\" in the network", spec.cluster));
    cluster = *c;
  }
  std::vector<uint32_t> out;
  const uint32_t links = topo.directed_edges() / 2;
  for (uint32_t l = 0; l < links; ++l) {
    const LinkKind k = topo.edge(l * 2).kind;
    if (std::find(spec.kinds.begin(), spec.kinds.end(), k) == spec.kinds.end()) continue;
    if (cluster != UINT32_MAX && link_cluster(topo, l) != cluster) continue;
    out.push_back(l);
  }
  return out;
}

std::vector<uint32_t> choose_links(const std::vector<uint32_t>& eligible, const LinkFailureSpec& spec, uint64_t seed) {
  const size_t n = eligible.size();
  size_t k = spec.count > 0 ? std::min<size_t>(spec.count, n) : static_cast<size_t>(std::llround(spec.fraction * double(n)));
  k = std::min(k, n);
  // Partial Fisher-Yates: the first k positions of a uniformly random permutation.
  std::vector<uint32_t> pool = eligible;
  uint64_t state = seed;
  for (size_t i = 0; i < k; ++i) std::swap(pool[i], pool[i + next_below(state, n - i)]);
  pool.resize(k);
  std::sort(pool.begin(), pool.end());
  return pool;
}

FabricFailures::FabricFailures(const Topology& topo, FlowModel& flows, Engine& engine, Recorder* recorder,
                               std::vector<LinkFailureSpec> specs, uint64_t default_seed)
    : topo_(topo),
      flows_(flows),
      engine_(engine),
      recorder_(recorder),
      specs_(std::move(specs)),
      holds_(topo.directed_edges() / 2, 0) {
  kind_fail_ = engine_.register_kind("fabric-link-failure");
  kind_repair_ = engine_.register_kind("fabric-link-repair");
  std::vector<uint8_t> counted(holds_.size(), 0);
  sets_.resize(specs_.size());
  for (size_t i = 0; i < specs_.size(); ++i) {
    const LinkFailureSpec& s = specs_[i];
    seeds_.push_back(spec_seed(s.seed.value_or(default_seed), i));
    std::vector<uint32_t> eligible = eligible_links(topo, s);
    for (uint32_t l : eligible)
      if (!counted[l]) {
        counted[l] = 1;
        ++eligible_kind_[static_cast<size_t>(topo.edge(l * 2).kind)];
      }
    if (s.mtbf > Duration::zero()) {
      processes_.push_back(Process{i, std::move(eligible), seeds_[i], EventHandle{}});
    } else {
      sets_[i] = choose_links(eligible, s, seeds_[i]);
    }
  }
}

void FabricFailures::start() {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].mtbf > Duration::zero()) continue;
    if (specs_[i].at == Duration::zero()) {
      fail_set(i);  // before any job is placed: its first step is costed on the degraded fabric
    } else {
      engine_.schedule_at(SimTime::zero() + specs_[i].at, Phase::Failure, [this, i] { fail_set(i); }, kind_fail_);
    }
  }
  for (size_t p = 0; p < processes_.size(); ++p) schedule_next(p);
}

void FabricFailures::take_down(uint32_t link) {
  if (holds_[link]++ == 0) {
    ++links_down_;
    ++failures_[static_cast<size_t>(topo_.edge(link * 2).kind)];
    flows_.set_link_up(link, false);
    if (on_link) on_link(link, false);
  }
}

void FabricFailures::bring_up(uint32_t link) {
  if (holds_[link] == 0) return;
  if (--holds_[link] == 0) {
    --links_down_;
    flows_.set_link_up(link, true);
    if (on_link) on_link(link, true);
  }
}

template <class R>
void FabricFailures::changed(bool repaired, size_t spec, uint32_t links) {
  if (recorder_ != nullptr) recorder_->publish(engine_.now(), R{.spec = spec, .links = links, .links_down = links_down_});
  if (on_change) on_change(repaired);
}

void FabricFailures::fail_set(size_t i) {
  for (uint32_t l : sets_[i]) take_down(l);
  changed<FabricLinksDown>(false, i, static_cast<uint32_t>(sets_[i].size()));
  const LinkFailureSpec& s = specs_[i];
  if (s.duration != Duration::max())
    engine_.schedule_in(s.duration, Phase::Repair, [this, i] { repair_set(i); }, kind_repair_);
}

void FabricFailures::repair_set(size_t i) {
  for (uint32_t l : sets_[i]) bring_up(l);
  changed<FabricLinksUp>(true, i, static_cast<uint32_t>(sets_[i].size()));
}

void FabricFailures::schedule_next(size_t p) {
  Process& pr = processes_[p];
  engine_.cancel(pr.next);  // memoryless: re-drawing the first failure with the new count is exact
  pr.next = {};
  if (pr.up.empty()) return;
  // Superposition of independent exponential clocks: the first of n fires after Exp(n / mtbf).
  const double mean_s = specs_[pr.spec].mtbf.seconds() / double(pr.up.size());
  const double wait_s = -mean_s * std::log1p(-next_unit(pr.rng));
  const Duration wait = Duration::from_seconds(wait_s);
  if (wait == Duration::max()) return;
  pr.next = engine_.schedule_in(wait, Phase::Failure, [this, p] { process_failure(p); }, kind_fail_);
}

void FabricFailures::process_failure(size_t p) {
  Process& pr = processes_[p];
  const size_t k = next_below(pr.rng, pr.up.size());
  const uint32_t link = pr.up[k];
  pr.up[k] = pr.up.back();
  pr.up.pop_back();
  take_down(link);
  changed<FabricLinkDown>(false, pr.spec, 1);
  engine_.schedule_in(specs_[pr.spec].repair, Phase::Repair, [this, p, link] {
    bring_up(link);
    processes_[p].up.push_back(link);
    changed<FabricLinkUp>(true, processes_[p].spec, 1);
    schedule_next(p);  // one more link up: a higher rate
  }, kind_repair_);
  schedule_next(p);
}

FabricFailureSummary FabricFailures::summary() const {
  FabricFailureSummary s;
  for (int k = 0; k < kLinkKinds; ++k) {
    if (eligible_kind_[k] == 0) continue;
    s.by_kind[std::string(link_kind_name(static_cast<LinkKind>(k)))] = {.eligible_links = eligible_kind_[k],
                                                                        .failures = failures_[k]};
  }
  s.links_down_at_end = links_down_;
  return s;
}

}  // namespace fleetsim
