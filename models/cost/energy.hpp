// SPDX-License-Identifier: Apache-2.0
// Power of a group of GPUs in one state mix, and energy as the integral of power over time.
//
//   GroupPower p = group_power_w(h100, {.busy = 900, .idle = 100, .unusable = 24}, /*busy_utilization=*/1.0);
//   double facility_w = p.it_w * site.pue;
//   EnergyIntegral e;  e.add(facility_w, dt_s);      // joules accumulate
//
// Per GPU: P(u) = idle + (tdp - idle) x u (linear in utilization between the catalog's idle and TDP
// figures), plus the host's share `overhead` while the GPU is powered. Busy GPUs run at the
// scenario's busy_utilization, idle ones at u = 0; unusable GPUs (failed, repairing, or in a domain
// that is down) are assumed powered and idle: a failed part is drained and serviced in its rack, and
// an outage of a cloud's control plane leaves the servers running (docs/cost.md, assumption [A]).
// Facility power = IT power x PUE.
#pragma once

#include "models/cost/cost_spec.hpp"

#include <cstdint>

namespace fleetsim {

struct GpuStates {
  uint64_t busy = 0;
  uint64_t idle = 0;      ///< usable, not busy
  uint64_t unusable = 0;  ///< paid for, cannot run work
};

/// Watts of one GPU at utilization u in [0, 1] (GPU only, no overhead).
inline double gpu_power_w(const AcceleratorPower& p, double u) { return p.idle_w + (p.tdp_w - p.idle_w) * u; }

/// IT power (GPUs + host overhead) of a group in state mix s.
double group_it_power_w(const AcceleratorPower& p, const GpuStates& s, double busy_utilization);

/// Left-Riemann integral of a piecewise-constant power: each add() is one step of constant power.
class EnergyIntegral {
 public:
  void add(double power_w, double seconds) { joules_ += power_w * seconds; }
  double joules() const { return joules_; }
  double kwh() const { return joules_ / 3.6e6; }

 private:
  double joules_ = 0;
};

}  // namespace fleetsim
