// SPDX-License-Identifier: Apache-2.0
#include "models/cost/cost_model.hpp"

#include "models/cost/commitment.hpp"
#include "models/cost/pricing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace fleetsim {

namespace {
constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kSecondsPerHour = 3600;

// A projected instant as UTC text, or null when it lies beyond what int64 nanoseconds can name.
Nullable<std::string> utc_or_null(int64_t start_unix_ns, std::optional<double> s) {
  if (!s || !std::isfinite(*s)) return {};
  const double ns = static_cast<double>(start_unix_ns) + *s * 1e9;
  if (ns >= 9.2e18 || ns <= -9.2e18) return {};
  return Nullable<std::string>::of(format_utc_ns(static_cast<int64_t>(ns)));
}

double per_million(double usd, double tokens) { return tokens > 0 ? usd / (tokens / 1e6) : 0.0; }
}  // namespace

const std::vector<std::string>& cost_csv_columns() {
  static const std::vector<std::string> cols = [] {
    constexpr auto names = field_names<CostSample>();
    return std::vector<std::string>(names.begin(), names.end());
  }();
  return cols;
}

CostModel::CostModel(const CostSpec& spec, const Fleet& fleet, Engine& engine, Recorder& recorder,
                     Duration sample_interval, int64_t start_unix_ns)
    : spec_(spec),
      fleet_(fleet),
      engine_(engine),
      recorder_(recorder),
      interval_(sample_interval),
      start_unix_ns_(start_unix_ns),
      kind_sample_(engine.register_kind("cost-sample")) {
  if (interval_ <= Duration::zero()) throw std::invalid_argument("cost: the sample interval must be positive");
  const auto& accs = fleet.accelerators();
  const size_t naccs = std::max<size_t>(1, accs.size());
  group_of_.assign(fleet.regions() * naccs, SIZE_MAX);
  // Every (region, accelerator) with a datacenter of that accelerator, installed or not.
  for (uint32_t r = 0; r < fleet.regions(); ++r) {
    const IndexRange dcs = fleet.range(RegionId{r}, Level::Datacenter);
    for (uint32_t a = 0; a < accs.size(); ++a) {
      bool any = false;
      for (uint32_t d = dcs.begin; d < dcs.end && !any; ++d) any = fleet.accelerator_of({Level::Datacenter, d}) == a;
      if (!any) continue;
      Group g;
      g.region = RegionId{r};
      g.acc = a;
      g.region_name = fleet.region_name(g.region);
      g.acc_name = accs[a];
      const auto price = std::find_if(spec_.groups.begin(), spec_.groups.end(), [&](const GroupPrice& p) {
        return p.region == g.region_name && p.accelerator == g.acc_name;
      });
      if (price == spec_.groups.end())
        throw std::invalid_argument("cost: no price for " + g.acc_name + " in " + g.region_name);
      g.on_demand = price->on_demand_usd_per_gpu_s;
      g.rule = match_rule(spec_.pricing, g.region_name, g.acc_name);
      const auto pw = std::find_if(spec_.energy.power.begin(), spec_.energy.power.end(),
                                   [&](const AcceleratorPower& p) { return p.accelerator == g.acc_name; });
      if (pw == spec_.energy.power.end()) throw std::invalid_argument("cost: no power figures for " + g.acc_name);
      g.power = *pw;
      const auto site = std::find_if(spec_.energy.sites.begin(), spec_.energy.sites.end(),
                                     [&](const EnergySite& s) { return s.region == g.region_name; });
      if (site == spec_.energy.sites.end()) throw std::invalid_argument("cost: no energy site for " + g.region_name);
      g.site = *site;
      if (!g.site.carbon_kg_per_j) carbon_known_ = false;
      group_of_[r * naccs + a] = groups_.size();
      groups_.push_back(std::move(g));
    }
  }
  if (spec_.commitment.enabled)
    commit_spent_ = spec_.commitment.spent_before_usd ? *spec_.commitment.spent_before_usd : plan_usd(spec_.commitment, 0.0);
  outage_depth_.assign(fleet.regions(), 0);
  outage_at_sample_.assign(fleet.regions(), 0);
  table_ = recorder_.table<CostSample>();
}

size_t CostModel::group_index(RegionId r, uint32_t acc) const {
  const size_t naccs = std::max<size_t>(1, fleet_.accelerators().size());
  const size_t i = r.value() * naccs + acc;
  return i < group_of_.size() ? group_of_[i] : SIZE_MAX;
}

uint32_t CostModel::add_consumer(std::string kind, std::string name) {
  consumers_.push_back(Consumer{std::move(kind), std::move(name)});
  return static_cast<uint32_t>(consumers_.size() - 1);
}

void CostModel::outage(RegionId region, bool begins) {
  int& d = outage_depth_.at(region.value());
  d = std::max(0, d + (begins ? 1 : -1));
  changed();
}

void CostModel::changed() {
  if (!started_ || !last_) return;
  const SimTime now = engine_.now();
  if (now > *last_) bill(now);
  if (refresh_pending_) return;
  refresh_pending_ = true;
  // Sample is the last phase of an instant: the refresh sees every change made at it.
  engine_.schedule_at(now, Phase::Sample, [this] {
    refresh_pending_ = false;
    refresh_state();
  }, kind_sample_);
}

void CostModel::start() {
  if (started_) throw std::logic_error("CostModel::start called twice");
  started_ = true;
  engine_.schedule_at(engine_.now(), Phase::Sample, [this] { sample(); }, kind_sample_);
}

void CostModel::sample() {
  const SimTime now = engine_.now();
  if (last_ && now > *last_) bill(now);
  refresh_state();
  write_rows(now);
  engine_.schedule_in(interval_, Phase::Sample, [this] { sample(); }, kind_sample_);
}

void CostModel::finish() {
  if (!last_ || engine_.now() <= *last_) return;
  bill(engine_.now());
  refresh_state();
  write_rows(engine_.now());
}

void CostModel::bill(SimTime now) {
  const double t1 = seconds(now);
  const double t0 = last_ ? seconds(*last_) : t1;
  const double dt = t1 - t0;
  last_ = now;
  const bool billed = spec_.energy.billed_separately;
  const CommitmentSpec& c = spec_.commitment;
  double interval_total = 0;
  std::vector<double>& row_amounts = row_amounts_;
  row_amounts.resize(groups_.size() * 5, 0.0);
  for (size_t i = 0; i < groups_.size() && dt > 0; ++i) {
    Group& g = groups_[i];
    const double per_gpu = gpu_cost_usd(g.on_demand, g.rule, t0, t1);  // USD of one GPU over the interval
    const double compute = static_cast<double>(g.paid) * per_gpu;
    const double facility_w = group_it_power_w(g.power, g.state, spec_.energy.busy_utilization) * g.site.pue;
    const double joules = facility_w * dt;
    const double e_usd = joules * g.site.usd_per_j;
    const double carbon = g.site.carbon_kg_per_j ? joules * *g.site.carbon_kg_per_j : 0.0;
    const double total = compute + (billed ? e_usd : 0.0);
    compute_usd_ += compute;
    energy_usd_ += e_usd;
    energy_j_ += joules;
    carbon_kg_ += carbon;
    total_usd_ += total;
    g.cumulative_usd += total;
    interval_total += total;
    paid_gpu_s_ += static_cast<double>(g.paid) * dt;
    busy_gpu_s_ += static_cast<double>(g.state.busy) * dt;
    idle_gpu_s_ += static_cast<double>(g.state.idle) * dt;
    failed_gpu_s_ += static_cast<double>(g.state.unusable) * dt;
    // Paid for but not working: the GPU's price plus, when billed, its idle draw.
    const double idle_gpu_energy = billed ? (gpu_power_w(g.power, 0.0) + g.power.overhead_w) * g.site.pue * dt * g.site.usd_per_j : 0.0;
    const double idle_usd = static_cast<double>(g.state.idle) * (per_gpu + idle_gpu_energy);
    const double failed_usd = static_cast<double>(g.state.unusable) * (per_gpu + idle_gpu_energy);
    paid_idle_usd_ += idle_usd;
    paid_failed_usd_ += failed_usd;
    if (outage_at_sample_[g.region.value()]) {
      outage_idle_usd_ += idle_usd;
      outage_failed_usd_ += failed_usd;
    }
    row_amounts[i * 5 + 0] += joules / kJoulesPerKwh;
    row_amounts[i * 5 + 1] += e_usd;
    row_amounts[i * 5 + 2] += compute;
    row_amounts[i * 5 + 3] += total;
    row_amounts[i * 5 + 4] += carbon;
  }
  // Consumers pay for the GPUs they held, at their group's price (and busy power when billed).
  for (const Use& u : uses_) {
    const size_t gi = group_index(u.region, u.accelerator);
    if (gi == SIZE_MAX || u.consumer >= consumers_.size() || dt <= 0) continue;
    const Group& g = groups_[gi];
    double usd = static_cast<double>(u.gpus) * gpu_cost_usd(g.on_demand, g.rule, t0, t1);
    if (billed)
      usd += static_cast<double>(u.gpus) * (gpu_power_w(g.power, spec_.energy.busy_utilization) + g.power.overhead_w) *
             g.site.pue * dt * g.site.usd_per_j;
    consumers_[u.consumer].usd += usd;
    consumers_[u.consumer].gpu_s += static_cast<double>(u.gpus) * dt;
  }
  // The commitment counts spend inside its term; an interval straddling an edge counts pro rata.
  if (c.enabled && dt > 0) {
    const double inside = std::max(0.0, std::min(t1, c.start_s + c.term_s) - std::max(t0, c.start_s));
    const double counted = interval_total * inside / dt;
    const double before = commit_spent_;
    commit_spent_ += counted;
    commit_in_run_ += counted;
    commit_elapsed_s_ += inside;
    if (!commit_crossed_s_ && before < c.amount_usd && commit_spent_ >= c.amount_usd && counted > 0)
      commit_crossed_s_ = std::max(t0, c.start_s) + inside * (c.amount_usd - before) / counted;
  }
}

void CostModel::refresh_state() {
  for (size_t r = 0; r < outage_depth_.size(); ++r) outage_at_sample_[r] = outage_depth_[r] > 0 ? 1 : 0;
  for (Group& g : groups_) {
    g.paid = fleet_.installed_gpus(g.region, g.acc);
    const uint64_t usable = std::min<uint64_t>(g.paid, fleet_.usable_gpus(g.region, g.acc));
    g.state.busy = std::min<uint64_t>(busy_ ? busy_(g.region, g.acc) : 0, usable);
    g.state.idle = usable - g.state.busy;
    g.state.unusable = g.paid - usable;
  }
  uses_next_.clear();
  if (usage_) usage_(uses_next_);
  std::swap(uses_, uses_next_);
  if (!last_) last_ = engine_.now();
}

// One row per group: the state now and the amounts billed since the previous row.
void CostModel::write_rows(SimTime now) {
  ++samples_;
  const CommitmentSpec& c = spec_.commitment;
  row_amounts_.resize(groups_.size() * 5, 0.0);
  double fleet_cumulative = 0;
  for (const Group& g : groups_) fleet_cumulative += g.cumulative_usd;
  const double plan = c.enabled ? plan_usd(c, seconds(now)) : 0.0;
  for (size_t i = 0; i < groups_.size(); ++i) {
    const Group& g = groups_[i];
    const double power_kw = group_it_power_w(g.power, g.state, spec_.energy.busy_utilization) * g.site.pue / 1000;
    const double rate_h = gpu_rate_at(g.on_demand, g.rule, seconds(now)) * kSecondsPerHour;
    const double* a = &row_amounts_[i * 5];
    recorder_.row(table_, CostSample{.time = now,
                                     .region = g.region_name,
                                     .accelerator = g.acc_name,
                                     .gpus_paid = g.paid,
                                     .gpus_busy = g.state.busy,
                                     .gpus_idle = g.state.idle,
                                     .gpus_failed = g.state.unusable,
                                     .power_kw = power_kw,
                                     .energy_kwh = a[0],
                                     .energy_usd = a[1],
                                     .compute_usd = a[2],
                                     .total_usd = a[3],
                                     .cumulative_usd = g.cumulative_usd,
                                     .commitment_plan_usd = c.enabled ? Nullable<double>::of(plan) : Nullable<double>{},
                                     .fleet_cumulative_usd = fleet_cumulative,
                                     .carbon_kg = g.site.carbon_kg_per_j ? Nullable<double>::of(a[4]) : Nullable<double>{},
                                     .usd_per_gpu_hour = rate_h});
  }
  std::fill(row_amounts_.begin(), row_amounts_.end(), 0.0);
}

void CostModel::write_summary(const CostInputs& in) {
  finish();
  CostSummary s;
  const double hours = 1.0 / kSecondsPerHour;
  s.total_usd = total_usd_;
  s.compute_usd = compute_usd_;
  s.energy_usd = energy_usd_;
  s.energy_billed_separately = spec_.energy.billed_separately;
  s.energy_mwh = energy_j_ / kJoulesPerKwh / 1000;
  if (carbon_known_ && !groups_.empty()) s.carbon_t = Nullable<double>::of(carbon_kg_ / 1000);
  s.gpu_hours = {.paid = paid_gpu_s_ * hours, .busy = busy_gpu_s_ * hours, .idle = idle_gpu_s_ * hours, .failed = failed_gpu_s_ * hours};
  s.paid_idle_usd = paid_idle_usd_;
  s.paid_failed_usd = paid_failed_usd_;

  // Useful GPU-hours: busy minus what training lost (work rolled back, time down while holding GPUs),
  // less the dark part of that down time, which is not in the busy GPU-hours.
  double lost_busy_gpu_s = 0, outage_lost_usd = 0, lost_usd = 0;
  for (const auto& j : in.jobs) {
    const auto it = std::find_if(consumers_.begin(), consumers_.end(),
                                 [&](const Consumer& cs) { return cs.kind == "training" && cs.name == j.name; });
    const double usd = it != consumers_.end() ? it->usd : 0.0;
    const double gpu_s = it != consumers_.end() ? it->gpu_s : 0.0;
    const double usd_per_gpu_s = gpu_s > 0 ? usd / gpu_s : 0.0;
    lost_busy_gpu_s += std::max(0.0, j.lost_gpu_s - j.dark_gpu_s);
    lost_usd += j.lost_gpu_s * usd_per_gpu_s;
    outage_lost_usd += j.outage_lost_gpu_s * usd_per_gpu_s;
    s.training[j.name] = {.usd = usd,
                          .gpu_hours = gpu_s * hours,
                          .lost_work_usd = j.lost_gpu_s * usd_per_gpu_s,
                          .usd_per_million_tokens = per_million(usd, j.tokens),
                          .done = j.done};
  }
  const double useful_gpu_h = std::max(0.0, busy_gpu_s_ - lost_busy_gpu_s) * hours;
  s.useful_gpu_hours = useful_gpu_h;
  s.usd_per_useful_gpu_hour = useful_gpu_h > 0 ? total_usd_ / useful_gpu_h : 0.0;
  s.lost_work_usd = lost_usd;

  // Cost per million tokens served: what each service's GPUs cost, over its prompt + output tokens.
  double svc_usd = 0, svc_tokens = 0, penalty = 0, outage_penalty = 0;
  for (const auto& sv : in.services) {
    const auto it = std::find_if(consumers_.begin(), consumers_.end(),
                                 [&](const Consumer& cs) { return cs.kind == "inference" && cs.name == sv.name; });
    const double usd = it != consumers_.end() ? it->usd : 0.0;
    const double tokens = sv.prompt_tokens + sv.output_tokens;
    svc_usd += usd;
    svc_tokens += tokens;
    s.usd_per_million_tokens.services[sv.name] = per_million(usd, tokens);
    s.inference.has = true;
    s.inference.value[sv.name] = {.usd = usd,
                                  .gpu_hours = it != consumers_.end() ? it->gpu_s * hours : 0.0,
                                  .usd_per_million_output_tokens = per_million(usd, sv.output_tokens)};
    penalty += sv.failed * spec_.slo_penalty.usd_per_failed_request + sv.late * spec_.slo_penalty.usd_per_late_request;
    outage_penalty += sv.outage_failed * spec_.slo_penalty.usd_per_failed_request +
                      sv.outage_late * spec_.slo_penalty.usd_per_late_request;
  }
  s.usd_per_million_tokens.overall = per_million(svc_usd, svc_tokens);
  s.slo_penalty_usd = penalty;

  s.outage = {.paid_idle_usd = outage_idle_usd_,
              .paid_failed_usd = outage_failed_usd_,
              .lost_work_usd = outage_lost_usd,
              .slo_penalty_usd = outage_penalty,
              .total_usd = outage_idle_usd_ + outage_failed_usd_ + outage_lost_usd + outage_penalty};

  const CommitmentSpec& c = spec_.commitment;
  if (c.enabled) {
    const double now_s = last_ ? seconds(*last_) : 0.0;
    const double rate = commit_elapsed_s_ > 0 ? commit_in_run_ / commit_elapsed_s_ : 0.0;
    const CommitmentStatus st = commitment_status(c, commit_spent_, now_s, rate, commit_crossed_s_);
    s.commitment = Nullable<CostCommitmentSummary>::of({
        .name = c.name,
        .amount_usd = c.amount_usd,
        .start = utc_or_null(start_unix_ns_, c.start_s),
        .end = utc_or_null(start_unix_ns_, c.start_s + c.term_s),
        .take_or_pay = c.take_or_pay,
        .plan_to_date_usd = st.plan_usd,
        .spent_usd = st.spent_usd,
        .spent_in_run_usd = commit_in_run_,
        .shortfall_usd = st.shortfall_usd,
        .overrun_usd = st.overrun_usd,
        .remaining_usd = st.remaining_usd,
        .burn_usd_per_day = rate * 86400,
        .plan_usd_per_day = c.term_s > 0 ? c.amount_usd / c.term_s * 86400 : 0.0,
        .projected_exhaustion = utc_or_null(start_unix_ns_, st.exhaustion_s),
        .projected_at_term_end_usd = st.projected_at_term_end_usd,
        .take_or_pay_due_usd = st.take_or_pay_due_usd});
  }
  recorder_.summarize(s);
}

}  // namespace fleetsim
