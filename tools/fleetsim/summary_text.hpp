// SPDX-License-Identifier: Apache-2.0
// The short human summary `fleetsim run` prints on stdout when a run ends.
#pragma once

#include "models/scenario/scenario.hpp"
#include "tools/run/simulation.hpp"

#include <string>

namespace fleetsim::cli {

std::string format_run_summary(const Scenario& scenario, const SimulationResult& result, const std::string& dir);

}  // namespace fleetsim::cli
