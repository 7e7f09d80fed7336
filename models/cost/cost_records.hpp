// SPDX-License-Identifier: Apache-2.0
// What the cost model publishes, each record declared once (sim/record.hpp): the `cost` table's row
// (cost.csv, docs/outputs.md) and summary.json's "cost" object. The writers make the files from these
// descriptions; the trace and the report read these names.
#pragma once

#include "sim/record.hpp"
#include "sim/time.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace fleetsim {

/// A row per (region, accelerator) group and sample: the state now and the amounts billed since the
/// previous row. The column order is a contract with readers of cost.csv (docs/outputs.md; a test pins
/// it): new fields go at the end.
struct CostSample {
  static constexpr std::string_view table = "cost";
  SimTime time;
  std::string_view region;
  std::string_view accelerator;
  uint64_t gpus_paid = 0, gpus_busy = 0, gpus_idle = 0, gpus_failed = 0;
  double power_kw = 0;
  double energy_kwh = 0, energy_usd = 0, compute_usd = 0, total_usd = 0;  ///< since the previous row
  double cumulative_usd = 0;
  Nullable<double> commitment_plan_usd;  ///< empty without a commitment
  double fleet_cumulative_usd = 0;
  Nullable<double> carbon_kg;  ///< empty when the site's carbon intensity is unknown
  double usd_per_gpu_hour = 0;
  static constexpr auto fields() {
    using S = CostSample;
    return std::tuple{field("time_ns", &S::time),
                      field("region", &S::region),
                      field("accelerator", &S::accelerator),
                      field("gpus_paid", &S::gpus_paid),
                      field("gpus_busy", &S::gpus_busy),
                      field("gpus_idle", &S::gpus_idle),
                      field("gpus_failed", &S::gpus_failed),
                      field("power_kw", &S::power_kw),
                      field("energy_kwh", &S::energy_kwh),
                      field("energy_usd", &S::energy_usd),
                      field("compute_usd", &S::compute_usd),
                      field("total_usd", &S::total_usd),
                      field("cumulative_usd", &S::cumulative_usd),
                      field("commitment_plan_usd", &S::commitment_plan_usd),
                      field("fleet_cumulative_usd", &S::fleet_cumulative_usd),
                      field("carbon_kg", &S::carbon_kg),
                      field("usd_per_gpu_hour", &S::usd_per_gpu_hour)};
  }
};

// ---- summary.json "cost"

struct CostGpuHours {
  double paid = 0, busy = 0, idle = 0, failed = 0;
  static constexpr auto fields() {
    return std::tuple{field("paid", &CostGpuHours::paid), field("busy", &CostGpuHours::busy),
                      field("idle", &CostGpuHours::idle), field("failed", &CostGpuHours::failed)};
  }
};

/// What one training job's GPUs cost.
struct CostJobSummary {
  double usd = 0, gpu_hours = 0, lost_work_usd = 0, usd_per_million_tokens = 0;
  bool done = false;
  static constexpr auto fields() {
    using S = CostJobSummary;
    return std::tuple{field("usd", &S::usd), field("gpu_hours", &S::gpu_hours),
                      field("lost_work_usd", &S::lost_work_usd),
                      field("usd_per_million_tokens", &S::usd_per_million_tokens), field("done", &S::done)};
  }
};

/// What one inference service's GPUs cost.
struct CostServiceSummary {
  double usd = 0, gpu_hours = 0, usd_per_million_output_tokens = 0;
  static constexpr auto fields() {
    using S = CostServiceSummary;
    return std::tuple{field("usd", &S::usd), field("gpu_hours", &S::gpu_hours),
                      field("usd_per_million_output_tokens", &S::usd_per_million_output_tokens)};
  }
};

/// Cost per million tokens served (prompt + output), per service and overall.
struct CostPerMillionTokens {
  Keyed<double> services;
  double overall = 0;
  static constexpr auto fields() {
    return std::tuple{field("services", &CostPerMillionTokens::services),
                      field("overall", &CostPerMillionTokens::overall)};
  }
};

/// What scheduled outages cost.
struct CostOutageSummary {
  double paid_idle_usd = 0, paid_failed_usd = 0, lost_work_usd = 0, slo_penalty_usd = 0, total_usd = 0;
  static constexpr auto fields() {
    using S = CostOutageSummary;
    return std::tuple{field("paid_idle_usd", &S::paid_idle_usd), field("paid_failed_usd", &S::paid_failed_usd),
                      field("lost_work_usd", &S::lost_work_usd), field("slo_penalty_usd", &S::slo_penalty_usd),
                      field("total_usd", &S::total_usd)};
  }
};

/// The commitment's burn against its plan; instants as UTC text, null beyond what int64 ns can name.
struct CostCommitmentSummary {
  std::string_view name;
  double amount_usd = 0;
  Nullable<std::string> start, end;
  bool take_or_pay = false;
  double plan_to_date_usd = 0, spent_usd = 0, spent_in_run_usd = 0, shortfall_usd = 0, overrun_usd = 0,
         remaining_usd = 0, burn_usd_per_day = 0, plan_usd_per_day = 0;
  Nullable<std::string> projected_exhaustion;
  double projected_at_term_end_usd = 0, take_or_pay_due_usd = 0;
  static constexpr auto fields() {
    using S = CostCommitmentSummary;
    return std::tuple{field("name", &S::name),
                      field("amount_usd", &S::amount_usd),
                      field("start", &S::start),
                      field("end", &S::end),
                      field("take_or_pay", &S::take_or_pay),
                      field("plan_to_date_usd", &S::plan_to_date_usd),
                      field("spent_usd", &S::spent_usd),
                      field("spent_in_run_usd", &S::spent_in_run_usd),
                      field("shortfall_usd", &S::shortfall_usd),
                      field("overrun_usd", &S::overrun_usd),
                      field("remaining_usd", &S::remaining_usd),
                      field("burn_usd_per_day", &S::burn_usd_per_day),
                      field("plan_usd_per_day", &S::plan_usd_per_day),
                      field("projected_exhaustion", &S::projected_exhaustion),
                      field("projected_at_term_end_usd", &S::projected_at_term_end_usd),
                      field("take_or_pay_due_usd", &S::take_or_pay_due_usd)};
  }
};

struct CostSummary {
  static constexpr std::string_view key = "cost";
  double total_usd = 0, compute_usd = 0, energy_usd = 0;
  bool energy_billed_separately = false;
  double energy_mwh = 0;
  Nullable<double> carbon_t;  ///< when every site's carbon intensity is known
  CostGpuHours gpu_hours;
  double paid_idle_usd = 0, paid_failed_usd = 0;
  Keyed<CostJobSummary> training;
  double useful_gpu_hours = 0, usd_per_useful_gpu_hour = 0, lost_work_usd = 0;
  CostPerMillionTokens usd_per_million_tokens;
  Nullable<Keyed<CostServiceSummary>> inference;  ///< when there are services
  double slo_penalty_usd = 0;
  CostOutageSummary outage;
  Nullable<CostCommitmentSummary> commitment;
  static constexpr auto fields() {
    using S = CostSummary;
    return std::tuple{field("total_usd", &S::total_usd),
                      field("compute_usd", &S::compute_usd),
                      field("energy_usd", &S::energy_usd),
                      field("energy_billed_separately", &S::energy_billed_separately),
                      field("energy_mwh", &S::energy_mwh),
                      field_if("carbon_t", &S::carbon_t),
                      field("gpu_hours", &S::gpu_hours),
                      field("paid_idle_usd", &S::paid_idle_usd),
                      field("paid_failed_usd", &S::paid_failed_usd),
                      field("training", &S::training),
                      field("useful_gpu_hours", &S::useful_gpu_hours),
                      field("usd_per_useful_gpu_hour", &S::usd_per_useful_gpu_hour),
                      field("lost_work_usd", &S::lost_work_usd),
                      field("usd_per_million_tokens", &S::usd_per_million_tokens),
                      field_if("inference", &S::inference),
                      field("slo_penalty_usd", &S::slo_penalty_usd),
                      field("outage", &S::outage),
                      field_if("commitment", &S::commitment)};
  }
};

}  // namespace fleetsim
