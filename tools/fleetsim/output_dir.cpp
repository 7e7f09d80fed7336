// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/output_dir.hpp"

#include "tools/fleetsim/exit_codes.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>
#include <vector>

namespace fleetsim::cli {

namespace fs = std::filesystem;

std::optional<int> prepare_output_directory(const fs::path& dir, bool force, std::string_view command,
                                            const std::function<bool(const fs::directory_entry&)>& is_previous_output) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      fmt::print(stderr, "error: output path {} exists and is not a directory\n", dir.string());
      return exit_code::cant_create;
    }
    if (!fs::is_empty(dir, ec)) {
      if (!force) {
        fmt::print(stderr, "error: output directory {} is not empty; use --force to replace a previous {}'s "
                   "outputs, or -o to choose another\n", dir.string(), command);
        return exit_code::cant_create;
      }
      for (const auto& entry : fs::directory_iterator(dir, ec))
        if (is_previous_output(entry)) fs::remove_all(entry.path(), ec);
    }
  }
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "error: cannot create output directory {}: {}\n", dir.string(), ec.message());
    return exit_code::cant_create;
  }
  return std::nullopt;
}

DirectoryClaim::~DirectoryClaim() { release(); }

bool DirectoryClaim::acquire(const fs::path& dir) {
  path_ = dir / kLockName;
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(path_.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) return false;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      errno = err;
      return false;
    }
    // The holder before us may have unlinked the file between our open and our flock: then we hold a
    // lock nobody else sees. Keep it only if the path still names the file we locked.
    struct stat held {}, named {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
      fd_ = fd;
      const std::string pid = std::to_string(::getpid()) + "\n";
      if (::ftruncate(fd_, 0) == 0 && ::write(fd_, pid.data(), pid.size()) < 0) {
        // The pid is for a human looking at the file; the lock works without it.
      }
      return true;
    }
    ::close(fd);
  }
  errno = EAGAIN;
  return false;
}

void DirectoryClaim::release() noexcept {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // before unlocking: a waiter then finds the file gone and makes its own
  ::close(fd_);
  fd_ = -1;
}

namespace {

bool is_plain_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// The files a previous run listed in its manifest.json; empty if there is none or it is not fleetsim's.
std::set<std::string> previous_run_files(const fs::path& dir) {
  std::set<std::string> names;
  std::ifstream in(dir / "manifest.json", std::ios::binary);
  if (!in) return names;
  const auto manifest = nlohmann::json::parse(in, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("files") ||
      !manifest["files"].is_array())
    return names;
  for (const auto& f : manifest["files"])
    if (f.is_string() && is_plain_name(f.get<std::string>())) names.insert(f.get<std::string>());
  return names;
}

// NAME.tmp.PID, what sim/atomic_file.hpp writes before the rename: a run killed by SIGKILL leaves these.
bool is_run_temporary(const std::string& name, const std::set<std::string>& listed) {
  const size_t tmp = name.rfind(".tmp.");
  if (tmp == std::string::npos || tmp + 5 >= name.size()) return false;
  if (name.find_first_not_of("0123456789", tmp + 5) != std::string::npos) return false;
  const std::string base = name.substr(0, tmp);
  static const std::set<std::string> kRunFiles = {"summary.json", "manifest.json", "resolved.json",
                                                  "events.jsonl", "trace.json", "report.html"};
  return listed.count(base) || kRunFiles.count(base) ||
         (base.size() > 4 && base.compare(base.size() - 4, 4, ".csv") == 0);
}

}  // namespace

std::optional<int> claim_run_directory(const fs::path& dir, bool force, DirectoryClaim& claim) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    fmt::print(stderr, "error: output path {} exists and is not a directory\n", dir.string());
    return exit_code::cant_create;
  }
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "error: cannot create output directory {}: {}\n", dir.string(), ec.message());
    return exit_code::cant_create;
  }
  if (!claim.acquire(dir)) {
    if (errno == EWOULDBLOCK || errno == EAGAIN) {
      fmt::print(stderr, "error: output directory {} is in use by another fleetsim run ({} is locked); wait for it "
                 "to finish, or choose another directory with -o\n", dir.string(), DirectoryClaim::kLockName);
    } else {
      fmt::print(stderr, "error: cannot create {}: {}\n", (dir / DirectoryClaim::kLockName).string(),
                 std::strerror(errno));
    }
    return exit_code::cant_create;
  }
  std::vector<fs::directory_entry> entries;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename() != DirectoryClaim::kLockName) entries.push_back(e);
  if (entries.empty()) return std::nullopt;
  if (!force) {
    claim.release();
    fmt::print(stderr, "error: output directory {} is not empty; use --force to replace a previous run's "
               "outputs, or -o to choose another\n", dir.string());
    return exit_code::cant_create;
  }
  const std::set<std::string> listed = previous_run_files(dir);
  for (const auto& e : entries) {
    const std::string name = e.path().filename().string();
    // symlink_status: a symlink named like an output is the user's, never followed or removed.
    if (!fs::is_regular_file(e.symlink_status(ec))) continue;
    if (listed.count(name) || is_run_temporary(name, listed)) fs::remove(e.path(), ec);
  }
  return std::nullopt;
}

std::string join_command_line(std::string_view command, const Args& args) {
  std::string s = fmt::format("fleetsim {}", command);
  for (const auto& a : args) s += " " + a;
  return s;
}

}  // namespace fleetsim::cli
