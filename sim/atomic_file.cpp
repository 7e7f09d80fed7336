// SPDX-License-Identifier: Apache-2.0
#include "sim/atomic_file.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace fleetsim {

namespace {

std::string describe(OutputError::Kind kind, const std::filesystem::path& path, const std::string& reason) {
  const char* verb = kind == OutputError::Kind::Create ? "cannot create" : "cannot write";
  return fmt::format("{} {}: {}", verb, path.string(), reason);
}

std::string errno_text(int err) { return err != 0 ? std::strerror(err) : "unknown error"; }

}  // namespace

OutputError::OutputError(Kind kind, std::filesystem::path path, const std::string& reason)
    : std::runtime_error(describe(kind, path, reason)),
      ErrorWithKind(kind == Kind::Create ? ErrorKind::CannotCreate : ErrorKind::Io),
      kind_(kind),
      path_(std::move(path)) {}

AtomicFile::AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
  temp_path_ = path_;
  temp_path_ += fmt::format(".tmp.{}", static_cast<long>(::getpid()));
  errno = 0;
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) throw OutputError(OutputError::Kind::Create, temp_path_, errno_text(errno));
  // A larger buffer than BUFSIZ: trace files are written in many small pieces.
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 16);
}

AtomicFile::~AtomicFile() { discard(); }

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      file_(other.file_),
      bytes_written_(other.bytes_written_),
      committed_(other.committed_) {
  other.file_ = nullptr;
  other.committed_ = false;
  other.temp_path_.clear();
}

AtomicFile& AtomicFile::operator=(AtomicFile&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temp_path_ = std::move(other.temp_path_);
    file_ = other.file_;
    bytes_written_ = other.bytes_written_;
    committed_ = other.committed_;
    other.file_ = nullptr;
    other.committed_ = false;
    other.temp_path_.clear();
  }
  return *this;
}

void AtomicFile::write(std::string_view bytes) {
  if (file_ == nullptr) throw std::logic_error("AtomicFile::write after commit or discard: " + path_.string());
  if (bytes.empty()) return;
  errno = 0;
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
    const int err = errno;
    discard();
    throw OutputError(OutputError::Kind::Write, path_, errno_text(err));
  }
  bytes_written_ += bytes.size();
}

void AtomicFile::commit() {
  if (file_ == nullptr) throw std::logic_error("AtomicFile::commit after commit or discard: " + path_.string());
  errno = 0;
  const bool flush_failed = std::fflush(file_) != 0 || std::ferror(file_) != 0;
  int err = errno;
  // fclose can report a deferred error (NFS, quota) even after a clean fflush.
  errno = 0;
  const bool close_failed = std::fclose(file_) != 0;
  if (!flush_failed) err = errno;
  file_ = nullptr;
  if (flush_failed || close_failed) {
    std::remove(temp_path_.c_str());
    throw OutputError(OutputError::Kind::Write, path_, errno_text(err));
  }
  errno = 0;
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    err = errno;
    std::remove(temp_path_.c_str());
    throw OutputError(OutputError::Kind::Create, path_, errno_text(err));
  }
  committed_ = true;
}

void AtomicFile::discard() noexcept {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
    std::remove(temp_path_.c_str());
  }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  AtomicFile f(path);
  f.write(contents);
  f.commit();
}

}  // namespace fleetsim
