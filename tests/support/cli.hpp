// SPDX-License-Identifier: Apache-2.0
// Running the fleetsim binary from a test (tests_tools, which defines FLEETSIM_EXE): exit code, stdout
// and stderr, from the project root so relative scenario paths work.
//
//   fleetsim::test::TempDir tmp("cli");
//   auto r = fleetsim::test::run_fleetsim("validate scenarios/quickstart.json", tmp);
//   CHECK(r.code == 0);
#pragma once

#include "tests/support/files.hpp"

#include <fmt/format.h>

#include <sys/wait.h>

#include <cstdlib>
#include <string>

namespace fleetsim::test {

struct CliResult {
  int code = -1;  ///< exit code; -1 if the process did not exit normally
  std::string out, err;
};

/// Runs `fleetsim ARGS` through the shell (ARGS is shell text: quote paths) with stdout and stderr
/// captured in files under tmp.
inline CliResult run_fleetsim(const std::string& args, const TempDir& tmp) {
  const auto out = tmp.path / "stdout.txt", err = tmp.path / "stderr.txt";
  const std::string cmd = fmt::format("cd '{}' && '{}' {} >'{}' 2>'{}'", FLEETSIM_SOURCE_DIR, FLEETSIM_EXE, args,
                                      out.string(), err.string());
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_all(out);
  r.err = read_all(err);
  return r;
}

}  // namespace fleetsim::test
