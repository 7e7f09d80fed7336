// SPDX-License-Identifier: Apache-2.0
// Atomic output files: write to a temporary beside the target, rename onto the target on commit().
//
//   AtomicFile f("out/summary.json");      // creates out/summary.json.tmp.<pid>
//   f.write("{}\n");
//   f.commit();                             // flush, check, rename: out/summary.json appears whole
//   // destroyed without commit(): the temporary is removed and the target is untouched
//
// Why: a reader (a CI job, a second run comparing outputs) must never see half a file, and a run that
// fails part-way must not leave a file that looks finished (DESIGN.md principle 6). rename(2) within one
// directory replaces the target atomically on POSIX file systems. No fsync: the guarantee is about what
// other processes see, not about surviving a power cut, and fsync per file would slow many small runs.
//
// Errors throw OutputError, whose kind() maps to the CLI's exit codes: Create (EX_CANTCREAT, 73) when
// the file cannot be created or renamed into place, Write (EX_IOERR, 74) when writing or flushing fails
// (disk full, I/O error). what() names the path and the system's reason (strerror).
#pragma once

#include "sim/error.hpp"

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fleetsim {

/// ErrorKind::CannotCreate (exit 73) for Create, ErrorKind::Io (74) for Write.
class OutputError : public std::runtime_error, public ErrorWithKind {
 public:
  enum class Kind { Create, Write };
  /// what() is "<verb> <path>: <reason>", e.g. "cannot create out/a.csv.tmp.12: No such file or directory".
  OutputError(Kind kind, std::filesystem::path path, const std::string& reason);
  Kind kind() const { return kind_; }
  const std::filesystem::path& path() const { return path_; }
  /// The sysexits code the CLI should exit with: 73 for Create, 74 for Write.
  int exit_code() const { return kind_ == Kind::Create ? 73 : 74; }

 private:
  Kind kind_;
  std::filesystem::path path_;
};

class AtomicFile {
 public:
  /// Opens `<path>.tmp.<pid>` for writing (truncating a stale one). Throws OutputError{Create}.
  explicit AtomicFile(std::filesystem::path path);
  /// Removes the temporary if commit() did not succeed. Never throws.
  ~AtomicFile();
  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&& other) noexcept;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// Appends bytes (buffered). Throws OutputError{Write}; std::logic_error after commit()/discard().
  void write(std::string_view bytes);
  /// Flushes, closes, checks for any write error, then renames the temporary onto path().
  /// Throws OutputError{Write} if data could not be written, OutputError{Create} if the rename fails;
  /// in both cases the temporary is removed.
  void commit();
  /// Closes and removes the temporary without touching path(). Idempotent, never throws.
  void discard() noexcept;

  bool is_open() const { return file_ != nullptr; }
  bool committed() const { return committed_; }
  const std::filesystem::path& path() const { return path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  std::filesystem::path path_;
  std::filesystem::path temp_path_;
  std::FILE* file_ = nullptr;
  uint64_t bytes_written_ = 0;
  bool committed_ = false;
};

/// Writes `contents` to `path` through an AtomicFile: the file appears complete or not at all.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace fleetsim
