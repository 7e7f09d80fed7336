// SPDX-License-Identifier: Apache-2.0
// CostModel: what the fleet costs and draws over time. One engine event per sample interval (the
// state between samples is taken as constant: a left-Riemann sum, docs/cost.md), whatever the fleet
// size; per sample it reads O(1) counters per (region, accelerator) group.
//
//   CostModel cost(spec, fleet, engine, recorder, run.sample_interval, run.start_unix_ns);
//   cost.set_busy([&](RegionId r, uint32_t acc) { return sched.gang_gpus(r, acc); });
//   uint32_t chat = cost.add_consumer("inference", "chat");
//   cost.set_usage([&](std::vector<CostModel::Use>& out) { out.push_back({chat, RegionId{0}, 1, 256}); });
//   cost.start();                          // first sample at the current time
//   engine.run(horizon);
//   cost.finish();                         // bills the last partial interval, writes its row
//   cost.write_summary(inputs);            // recorder.summary()["cost"]
//
// Per group and sample (docs/outputs.md, cost.csv): paid = installed GPUs (capacity held is paid
// for, used or not); busy = min(busy callback, usable): GPUs of running gangs (training jobs and
// inference replicas, from the scheduler); idle = usable - busy; failed = paid - usable (failed,
// repairing, or in a domain that is down). Amounts of a row cover the interval that ends at its
// time, at the state of the previous sample. The upper floors (training, inference) reach this
// model only through the callbacks and the CostInputs of write_summary.
#pragma once

#include "models/cost/cost_records.hpp"
#include "models/cost/cost_spec.hpp"
#include "models/cost/energy.hpp"
#include "models/hardware/fleet.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace fleetsim {

/// The columns of cost.csv, in order (docs/outputs.md).
const std::vector<std::string>& cost_csv_columns();

/// What the upper floors report at the end of a run, for the unit economics.
struct CostInputs {
  struct Service {
    std::string name;
    double prompt_tokens = 0, output_tokens = 0;
    double failed = 0, late = 0;                 ///< requests, whole run
    double outage_failed = 0, outage_late = 0;   ///< requests during its regions' outage windows
  };
  struct Job {
    std::string name;
    double gpus = 0;               ///< GPUs of the gang
    double lost_gpu_s = 0;         ///< GPU-seconds of work rolled back plus time down, all causes
    /// Lost to scheduled outages (rolled back and down), less its dark part: the outage's cost on top
    /// of its paid_failed capacity.
    double outage_lost_gpu_s = 0;
    double tokens = 0;             ///< tokens trained (durable) by the end
    bool done = false;
    /// The part of lost_gpu_s spent down with GPUs under a full outage: paid but unusable, so out of
    /// the busy GPU-hours and in the outage's paid_failed already.
    double dark_gpu_s = 0;
  };
  std::vector<Service> services;
  std::vector<Job> jobs;
};

class CostModel {
 public:
  /// GPUs of (region, accelerator) doing work now.
  using BusyFn = std::function<uint64_t(RegionId, uint32_t)>;
  /// GPUs a consumer (a training job, an inference service) holds in a group now.
  struct Use {
    uint32_t consumer = 0;
    RegionId region;
    uint32_t accelerator = 0;
    uint64_t gpus = 0;
  };
  using UsageFn = std::function<void(std::vector<Use>&)>;

  /// Throws std::invalid_argument if the spec lacks a price or power figures for a group of the fleet
  /// (the loader reports these first, with pointers).
  CostModel(const CostSpec& spec, const Fleet& fleet, Engine& engine, Recorder& recorder, Duration sample_interval,
            int64_t start_unix_ns);
  CostModel(const CostModel&) = delete;
  CostModel& operator=(const CostModel&) = delete;

  void set_busy(BusyFn fn) { busy_ = std::move(fn); }
  uint32_t add_consumer(std::string kind, std::string name);
  void set_usage(UsageFn fn) { usage_ = std::move(fn); }
  /// A scheduled outage began (true) or ended in `region`: paid capacity idle or unusable meanwhile
  /// is counted as the outage's cost.
  void outage(RegionId region, bool begins);
  /// Paid, usable, busy GPUs or a consumer's holding may change now (a failure, a repair, an install,
  /// a gang placed or released). Bills the time since the last change at the state then, and re-reads
  /// the state once, after every change of this instant (one Sample-phase event per changing instant).
  /// Without these calls the model bills each sample interval at the state of its start, which misses
  /// what happens between samples (a 14.5 h outage between daily samples cost nothing).
  void changed();

  void start();
  /// Bills the interval from the last sample to now (a row at now) if there is one. Idempotent.
  void finish();
  void write_summary(const CostInputs& inputs);

  // ---- totals so far (tests, benchmarks) ----
  double total_usd() const { return total_usd_; }
  double compute_usd() const { return compute_usd_; }
  double energy_usd() const { return energy_usd_; }
  double energy_j() const { return energy_j_; }
  double commitment_spent_usd() const { return commit_spent_; }
  double consumer_usd(uint32_t c) const { return consumers_.at(c).usd; }
  double consumer_gpu_s(uint32_t c) const { return consumers_.at(c).gpu_s; }
  uint64_t samples() const { return samples_; }

 private:
  struct Group {
    RegionId region;
    uint32_t acc = 0;
    std::string region_name, acc_name;
    double on_demand = 0;               // USD per GPU-second
    const PricingRule* rule = nullptr;
    AcceleratorPower power;
    EnergySite site;
    GpuStates state;                    // since the last change
    uint64_t paid = 0;
    double cumulative_usd = 0;
  };
  struct Consumer {
    std::string kind, name;
    double usd = 0, gpu_s = 0;
  };
  void sample();
  /// Bills [last change, now) at the state read then; amounts add up in row_amounts_ until the next row.
  void bill(SimTime now);
  /// Reads the state billed from now on: paid, usable, busy GPUs, outages, consumers' holdings.
  void refresh_state();
  void write_rows(SimTime now);
  double seconds(SimTime t) const { return static_cast<double>(t.ticks()) * 1e-9; }
  size_t group_index(RegionId r, uint32_t acc) const;

  const CostSpec spec_;
  const Fleet& fleet_;
  Engine& engine_;
  Recorder& recorder_;
  Duration interval_;
  int64_t start_unix_ns_;
  BusyFn busy_;
  UsageFn usage_;
  std::vector<Group> groups_;
  std::vector<size_t> group_of_;       // (region * accelerators + acc) -> group index or SIZE_MAX
  std::vector<Consumer> consumers_;
  std::vector<Use> uses_, uses_next_;  // held since the last change; reused buffers
  std::vector<int> outage_depth_;      // per region
  std::vector<char> outage_at_sample_; // per region, since the last change
  std::vector<double> row_amounts_;    // per group: amounts since the last row (5 per group)
  TableOf<CostSample> table_;
  EventKind kind_sample_;
  bool started_ = false;
  std::optional<SimTime> last_;        // billed up to here
  bool refresh_pending_ = false;       // a state refresh is scheduled at the current instant
  uint64_t samples_ = 0;

  double total_usd_ = 0, compute_usd_ = 0, energy_usd_ = 0, energy_j_ = 0, carbon_kg_ = 0;
  bool carbon_known_ = true;
  double paid_gpu_s_ = 0, busy_gpu_s_ = 0, idle_gpu_s_ = 0, failed_gpu_s_ = 0;
  double paid_idle_usd_ = 0, paid_failed_usd_ = 0;
  double outage_idle_usd_ = 0, outage_failed_usd_ = 0;
  double commit_spent_ = 0, commit_in_run_ = 0, commit_elapsed_s_ = 0;
  std::optional<double> commit_crossed_s_;
};

}  // namespace fleetsim
