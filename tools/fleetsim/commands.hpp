// SPDX-License-Identifier: Apache-2.0
// One function per `fleetsim` subcommand. Each takes the arguments after the subcommand name and
// returns an exit code (exit_codes.hpp); errors are printed to stderr, results to stdout.
#pragma once

#include <string>
#include <vector>

namespace fleetsim::cli {

using Args = std::vector<std::string>;

int cmd_run(const Args& args);
int cmd_validate(const Args& args);
int cmd_schema(const Args& args);
int cmd_version(const Args& args);
int cmd_sweep(const Args& args);    // cmd_sweep.cpp
int cmd_compare(const Args& args);  // cmd_compare.cpp
int cmd_report(const Args& args);
int cmd_validation(const Args& args);
int cmd_topology(const Args& args);  // cmd_topology.cpp
int cmd_init(const Args& args);     // cmd_init.cpp
int cmd_plan(const Args& args);     // cmd_plan.cpp

/// The program name and version line, e.g. "fleetsim 0.1.0".
std::string version_line();

}  // namespace fleetsim::cli
