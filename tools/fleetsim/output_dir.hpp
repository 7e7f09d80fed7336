// SPDX-License-Identifier: Apache-2.0
// The output directory of a command (`run`, `sweep`): created if missing; a non-empty one is refused
// without --force, and with --force only what a previous run of the same command wrote is removed, so
// no stale file mixes with the new ones and nothing else in the directory is touched.
#pragma once

#include "tools/fleetsim/commands.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace fleetsim::cli {

/// Returns an exit code (73, with the message printed) if the directory cannot be used.
/// `command` names the command in the message ("run", "sweep").
std::optional<int> prepare_output_directory(const std::filesystem::path& dir, bool force, std::string_view command,
                                            const std::function<bool(const std::filesystem::directory_entry&)>&
                                                is_previous_output);

/// `fleetsim run`'s output directory, held for the whole run: a lock file (kLockName) holding an
/// flock(2), so a second run into the same directory is refused (exit 73) instead of racing the
/// emptiness check (issue 19: two runs both exited 0 with one's outputs lost). The kernel drops the
/// lock when the process dies, so a killed run leaves no stale claim. Destroying it removes the file.
class DirectoryClaim {
 public:
  static constexpr const char* kLockName = ".fleetsim.lock";
  DirectoryClaim() = default;
  ~DirectoryClaim();
  DirectoryClaim(const DirectoryClaim&) = delete;
  DirectoryClaim& operator=(const DirectoryClaim&) = delete;
  /// Creates and locks DIR/kLockName; false (errno set) when another process holds it.
  bool acquire(const std::filesystem::path& dir);
  void release() noexcept;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

/// Prepares and claims `fleetsim run`'s output directory: created if missing, locked (DirectoryClaim),
/// refused if it holds anything without --force. With --force only what the previous run listed in
/// its manifest.json ("files") is removed, with the temporaries (NAME.tmp.PID) of those names or of a
/// *.csv that a killed run left; anything else (a user's my-measurements.csv, a symlink) stays.
/// Returns an exit code (73, the message printed) if the directory cannot be used.
std::optional<int> claim_run_directory(const std::filesystem::path& dir, bool force, DirectoryClaim& claim);

/// "fleetsim <command> <args...>", for manifests.
std::string join_command_line(std::string_view command, const Args& args);

}  // namespace fleetsim::cli
