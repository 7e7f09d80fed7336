// SPDX-License-Identifier: Apache-2.0
#include "tools/planner/evaluator.hpp"

#include "models/scenario/diagnostics.hpp"
#include "tools/run/simulation.hpp"
#include "tools/sweep/plan.hpp"
#include "tools/sweep/runner.hpp"
#include "tools/sweep/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

namespace fleetsim::planner {

using nlohmann::json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The p-th percentile by linear interpolation between order statistics (Hyndman and Fan's type 7,
// the default of R and NumPy), so "p90 over 10 seeds" means what a user computing it by hand gets.
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double h = (static_cast<double>(v.size()) - 1) * p / 100.0;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

std::string candidate_key(const Values& values) {
  std::string key;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) key += '\t';
    key += values[i].dump();
  }
  return key;
}

Evaluator::Evaluator(const PlanSpec& spec, std::string scenario_path, LoadOptions base, uint64_t base_seed,
                     size_t jobs, const std::atomic<bool>* interrupt)
    : spec_(spec),
      scenario_path_(std::move(scenario_path)),
      base_(std::move(base)),
      base_seed_(base_seed),
      jobs_(std::max<size_t>(1, jobs)),
      interrupt_(interrupt),
      metrics_(spec.metrics()) {
  std::vector<bool> needed(spec.variants.size(), false);
  needed[spec.objective.variant] = true;
  if (spec.second) needed[spec.second->variant] = true;
  for (const auto& c : spec.constraints)
    for (size_t v : c.variants) needed[v] = true;
  for (size_t v = 0; v < needed.size(); ++v)
    if (needed[v]) needed_variants_.push_back(v);
}

uint64_t Evaluator::seed_of(size_t replication) const { return sweep::replication_seed(base_seed_, replication); }

std::vector<Override> Evaluator::overrides(const Values& values) const {
  std::vector<Override> out;
  for (size_t i = 0; i < values.size() && i < spec_.variables.size(); ++i)
    out.push_back(Override{spec_.variables[i].pointer, Variable::text(values[i])});
  return out;
}

void Evaluator::preload(RunRecord record) {
  const auto slot = std::make_pair(record.variant, record.replication);
  cache_[record.key][slot] = std::move(record);
  ++reused_;
}

void Evaluator::run_missing(const Values& values, const std::vector<std::pair<size_t, size_t>>& wanted) {
  run_batch({{values, wanted}});
}

void Evaluator::prefetch(const std::vector<Values>& candidates) {
  std::vector<std::pair<Values, std::vector<std::pair<size_t, size_t>>>> batch;
  for (const auto& values : candidates) {
    std::vector<std::pair<size_t, size_t>> wanted;
    for (size_t v : needed_variants_)
      for (size_t r = 0; r < spec_.seeds_min; ++r) wanted.emplace_back(v, r);
    batch.emplace_back(values, std::move(wanted));
  }
  run_batch(batch);
}

void Evaluator::run_batch(const std::vector<std::pair<Values, std::vector<std::pair<size_t, size_t>>>>& batch) {
  std::vector<RunRecord> done;
  for (const auto& [values, wanted] : batch) {
    const std::string key = candidate_key(values);
    for (const auto& w : wanted) {
      if (cache_[key].contains(w)) continue;
      bool repeated = false;  // the same candidate twice in one batch
      for (const auto& r : done) repeated = repeated || (r.key == key && r.variant == w.first && r.replication == w.second);
      if (repeated) continue;
      RunRecord r;
      r.key = key;
      r.values = values;
      r.variant = w.first;
      r.replication = w.second;
      r.seed = seed_of(r.replication);
      r.metrics.assign(metrics_.size(), kNaN);
      done.push_back(std::move(r));
    }
  }
  if (done.empty()) return;
  std::vector<size_t> indices;  // the runs of this batch this process runs
  for (size_t i = 0; i < done.size(); ++i)
    if (ranks_ <= 1 || static_cast<int>(i % static_cast<size_t>(ranks_)) == rank_) indices.push_back(i);
  auto one = [&](size_t i) {
    RunRecord& r = done[i];
    LoadOptions load = base_;
    for (const auto& o : spec_.variants[r.variant].overrides) load.overrides.push_back(o);
    for (auto& o : overrides(r.values)) load.overrides.push_back(std::move(o));
    load.seed = r.seed;
    try {
      const Scenario scenario = load_scenario(scenario_path_, load);
      SimulationOptions sim;  // no directory, and only the summary is kept: that is all a search reads
      sim.summary_only = true;
      sim.interrupt = interrupt_;
      const SimulationResult result = simulate(scenario, sim);
      if (!result.complete) {
        r.error = "interrupted";
      } else {
        r.ok = true;
        for (size_t m = 0; m < metrics_.size(); ++m)
          if (auto v = metric_value(result.summary, metrics_[m])) r.metrics[m] = *v;
      }
    } catch (const std::exception& e) {
      std::string what = e.what();
      r.error = what.substr(0, what.find('\n'));
    }
    sweep::RunOutcome o;
    o.status = r.ok ? sweep::RunStatus::Ok : sweep::RunStatus::Failed;
    return o;
  };
  (void)sweep::run_parallel(indices, jobs_, one, interrupt_);
  runs_here_ += indices.size();
  bool stopped = interrupt_ && interrupt_->load();
  if (ranks_ > 1) stopped = share(done, indices, stopped);
  if (stopped) {
    // Keep what finished; an interrupted run is not a result.
    for (auto& r : done)
      if (r.ok || (!r.error.empty() && r.error != "interrupted")) {
        if (on_run) on_run(r);
        ++runs_;
        cache_[r.key][{r.variant, r.replication}] = std::move(r);
      }
    throw SearchStopped("interrupted");
  }
  for (auto& r : done) {
    if (on_run) on_run(r);
    ++runs_;
    cache_[r.key][{r.variant, r.replication}] = std::move(r);
  }
}

void Evaluator::distribute(int rank, int ranks, std::function<std::vector<std::string>(const std::string&)> allgather) {
  rank_ = rank;
  ranks_ = ranks;
  allgather_ = std::move(allgather);
}

bool Evaluator::share(std::vector<RunRecord>& batch, const std::vector<size_t>& mine, bool stopped) const {
  // JSON carries each result exactly (doubles are written shortest round-trip; NaN as null).
  nlohmann::json out = {{"stopped", stopped}, {"runs", nlohmann::json::array()}};
  for (size_t i : mine) {
    const RunRecord& r = batch[i];
    nlohmann::json metrics = nlohmann::json::array();
    for (double v : r.metrics)
      metrics.push_back(std::isnan(v) ? nlohmann::json(nullptr) : std::isinf(v) ? nlohmann::json(v > 0 ? "inf" : "-inf") : nlohmann::json(v));
    out["runs"].push_back({{"i", i}, {"ok", r.ok}, {"error", r.error}, {"metrics", std::move(metrics)}});
  }
  bool any_stopped = false;
  for (const std::string& text : allgather_(out.dump())) {
    const nlohmann::json in = nlohmann::json::parse(text);
    any_stopped = any_stopped || in.at("stopped").get<bool>();
    for (const auto& run : in.at("runs")) {
      RunRecord& r = batch.at(run.at("i").get<size_t>());
      r.ok = run.at("ok").get<bool>();
      r.error = run.at("error").get<std::string>();
      const auto& metrics = run.at("metrics");
      for (size_t m = 0; m < r.metrics.size() && m < metrics.size(); ++m)
        r.metrics[m] = metrics[m].is_number()   ? metrics[m].get<double>()
                       : metrics[m].is_string() ? (metrics[m] == "inf" ? 1.0 : -1.0) * std::numeric_limits<double>::infinity()
                                                : kNaN;
    }
  }
  return any_stopped;
}

std::vector<double> Evaluator::metric_over_seeds(const std::string& key, size_t metric, size_t variant,
                                                 size_t seeds) const {
  std::vector<double> out;
  const auto& runs = cache_.at(key);
  for (size_t r = 0; r < seeds; ++r) out.push_back(runs.at({variant, r}).metrics[metric]);
  return out;
}

Figure Evaluator::figure(const std::vector<double>& per_seed, const OverSeeds& over) const {
  Figure f;
  for (double v : per_seed)
    if (!std::isfinite(v)) {
      f.value = kNaN;
      f.half_width = kNaN;
      return f;
    }
  const sweep::CellStats s = sweep::summarize(per_seed);
  f.value = over.percentile ? percentile(per_seed, over.p) : s.mean;
  f.half_width = s.half_width;
  return f;
}

Assessment Evaluator::assess(const Values& values, size_t seeds) {
  const std::string key = candidate_key(values);
  std::vector<std::pair<size_t, size_t>> wanted;
  for (size_t v : needed_variants_)
    for (size_t r = 0; r < seeds; ++r) wanted.emplace_back(v, r);
  run_missing(values, wanted);

  Assessment a;
  a.seeds = seeds;
  a.ran = true;
  for (const auto& w : wanted) {
    const RunRecord& r = cache_.at(key).at(w);
    if (!r.ok) {
      a.ran = false;
      if (a.error.empty()) a.error = fmt::format("variant \"{}\", seed {}: {}", spec_.variants[r.variant].name, r.seed, r.error);
    }
  }
  auto index_of = [&](const std::string& m) {
    return static_cast<size_t>(std::find(metrics_.begin(), metrics_.end(), m) - metrics_.begin());
  };
  if (!a.ran) {
    a.objective.value = a.second.value = kNaN;
    a.constraints.assign(spec_.constraints.size(), Figure{kNaN, kNaN, 0, false, true});
    a.certain = true;  // a run that fails to load or simulate fails with every seed
    return a;
  }
  a.objective = figure(metric_over_seeds(key, index_of(spec_.objective.metric), spec_.objective.variant, seeds),
                       spec_.objective.over);
  a.objective.variant = spec_.objective.variant;
  if (spec_.second) {
    a.second = figure(metric_over_seeds(key, index_of(spec_.second->metric), spec_.second->variant, seeds),
                      spec_.second->over);
    a.second.variant = spec_.second->variant;
  }
  a.feasible = true;
  a.certain = true;
  for (const auto& c : spec_.constraints) {
    Figure worst;
    double worst_margin = std::numeric_limits<double>::infinity();
    bool all_clear = true, all_hold = true;
    for (size_t v : c.variants) {
      Figure f = figure(metric_over_seeds(key, index_of(c.metric), v, seeds), c.over);
      f.variant = v;
      const double margin = c.at_least ? f.value - c.bound : c.bound - f.value;  // >= 0 holds
      f.satisfied = std::isfinite(margin) && margin >= 0;
      // One seed has no interval: undecided unless every value is already settled (a zero-width
      // spread, such as a deterministic model, counts as settled from two seeds on).
      f.clear = std::isfinite(f.half_width) && std::fabs(margin) > f.half_width;
      all_clear = all_clear && f.clear;
      all_hold = all_hold && f.satisfied;
      if (!(margin >= worst_margin)) {
        worst_margin = margin;
        worst = f;
      }
    }
    worst.satisfied = all_hold;
    worst.clear = all_clear;
    a.constraints.push_back(worst);
    a.feasible = a.feasible && all_hold;
    a.certain = a.certain && all_clear;
  }
  return a;
}

Assessment Evaluator::evaluate(const Values& values, const std::string& phase, size_t at_least_seeds) {
  if (interrupt_ && interrupt_->load()) throw SearchStopped("interrupted");
  const std::string key = candidate_key(values);
  if (!seen_.contains(key)) {
    if (seen_.size() >= spec_.max_evaluations) throw SearchStopped("max_evaluations");
    seen_[key] = true;
    ++candidates_;
  }
  size_t n = std::min(spec_.seeds_max, std::max(spec_.seeds_min, at_least_seeds));
  Assessment a = assess(values, n);
  while (!a.certain && n < spec_.seeds_max) {
    n = std::min(spec_.seeds_max, 2 * n);
    a = assess(values, n);
  }
  path_.push_back(PathEntry{path_.size(), values, a, phase});
  return a;
}

}  // namespace fleetsim::planner
