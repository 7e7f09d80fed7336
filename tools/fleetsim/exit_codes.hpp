// SPDX-License-Identifier: Apache-2.0
// The exit codes of the fleetsim command line, aligned with sysexits.h where it fits. Documented in
// README.md ("Exit codes"); scripts depend on them, so they never change meaning. An error maps to its
// code through the one taxonomy of sim/error.hpp (error_exit); exit_with() is every command's catch.
#pragma once

#include "sim/error.hpp"

#include <fmt/format.h>

#include <exception>

namespace fleetsim::exit_code {
inline constexpr int ok = 0;
inline constexpr int runs_failed = 1;    // sweep: one or more runs failed (each recorded in runs.csv)
inline constexpr int compare_outside = 1;  // compare: a metric outside the tolerance (GNU diff's "different")
inline constexpr int compare_trouble = 2;  // compare: the comparison could not be made (GNU diff's "trouble")
inline constexpr int validation_failed = 1;
inline constexpr int plan_infeasible = 1;  // `fleetsim plan`: no candidate meets every constraint  // `fleetsim validation`: a figure left its tolerance
inline constexpr int usage = 2;          // bad command line
inline constexpr int data_error = 65;    // EX_DATAERR: invalid scenario (syntax, schema or semantics)
inline constexpr int no_input = 66;      // EX_NOINPUT: scenario missing or unreadable
inline constexpr int software = 70;      // EX_SOFTWARE: simulation error or internal bug
inline constexpr int cant_create = 73;   // EX_CANTCREAT: output directory cannot be created or is not empty
inline constexpr int io_error = 74;      // EX_IOERR: writing an output failed
inline constexpr int limit_reached = 75; // EX_TEMPFAIL: --max-events/--max-wall stopped the run; "complete": false
inline constexpr int interrupted = 130;  // SIGINT: outputs written with "complete": false
inline constexpr int terminated = 143;   // SIGTERM (128 + 15): outputs written with "complete": false

// The taxonomy's codes are these.
static_assert(exit_code_of(ErrorKind::Usage) == usage && exit_code_of(ErrorKind::InvalidInput) == data_error &&
              exit_code_of(ErrorKind::MissingInput) == no_input && exit_code_of(ErrorKind::Internal) == software &&
              exit_code_of(ErrorKind::CannotCreate) == cant_create && exit_code_of(ErrorKind::Io) == io_error &&
              exit_code_of(ErrorKind::Interrupted) == interrupted);
}  // namespace fleetsim::exit_code

namespace fleetsim::cli {
/// Prints error_exit(e)'s message on stderr and returns its exit code.
inline int exit_with(const std::exception& e) {
  const ErrorExit x = error_exit(e);
  fmt::print(stderr, "{}\n", x.message);
  return x.code;
}
}  // namespace fleetsim::cli
