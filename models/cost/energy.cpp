// SPDX-License-Identifier: Apache-2.0
#include "models/cost/energy.hpp"

namespace fleetsim {

double group_it_power_w(const AcceleratorPower& p, const GpuStates& s, double busy_utilization) {
  const double powered = static_cast<double>(s.busy + s.idle + s.unusable);
  return static_cast<double>(s.busy) * gpu_power_w(p, busy_utilization) +
         static_cast<double>(s.idle + s.unusable) * gpu_power_w(p, 0.0) + powered * p.overhead_w;
}

}  // namespace fleetsim
