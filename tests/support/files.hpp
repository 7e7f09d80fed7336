// SPDX-License-Identifier: Apache-2.0
// File helpers shared by the tests that write outputs: a scratch directory and whole-file reads.
//
//   fleetsim::test::TempDir dir("recorder");      // /tmp/fleetsim-test-recorder-<pid>-<n>, removed at scope exit
//   CHECK(fleetsim::test::read_all(dir.path / "a.csv") == "time_ns\n");
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace fleetsim::test {

/// A fresh directory under the system temp directory, removed with everything in it at scope exit.
/// Names carry the process id and a counter, so tests running in parallel never share one.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(std::string_view purpose) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("fleetsim-test-" + std::string(purpose) + "-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

/// The whole file, bytes as they are ("" if it cannot be read).
inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace fleetsim::test
