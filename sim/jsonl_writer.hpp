// SPDX-License-Identifier: Apache-2.0
// JSON Lines output: one compact JSON object per line, keys in the order the caller writes them.
//
//   JsonlWriter w("out/events.jsonl");
//   JsonObjectWriter obj(w.begin_line());       // appends '{'
//   obj.field("time_ns", int64_t{42}).field("kind", "failure").field("ok", true);
//   obj.close();                                // appends '}'
//   w.end_line();                               // appends LF
//   w.commit();                                 // renames into place
//
// Why not nlohmann::json per line: a run can publish millions of events; building and destroying a
// std::map per line costs more than the simulation of the event. The caller's key order is kept
// (time_ns first, then kind ...), which reads better than alphabetical order and is still deterministic.
// Numbers: integers as is, doubles shortest round-trip, NaN and infinities as null. Strings: escaped
// per RFC 8259 (sim/json_out.hpp); UTF-8 passes through.
// Lines are gathered in a buffer that is handed to the file once it passes flush_bytes, at the start of
// the next line or at commit(), so end_line() and discard_line() never do I/O and never throw.
#pragma once

#include "sim/atomic_file.hpp"

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace fleetsim {

/// Appends one compact JSON object to a string. The constructor writes '{', close() writes '}'.
/// Keys must be distinct (not checked: the writer does not remember them).
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(std::string& out);

  JsonObjectWriter& field(std::string_view key, std::string_view value);
  JsonObjectWriter& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  JsonObjectWriter& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
  JsonObjectWriter& field(std::string_view key, bool value);
  JsonObjectWriter& field(std::string_view key, double value);
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  JsonObjectWriter& field(std::string_view key, T value) {
    if constexpr (std::is_signed_v<T>) {
      return field_int(key, static_cast<int64_t>(value));
    } else {
      return field_uint(key, static_cast<uint64_t>(value));
    }
  }
  JsonObjectWriter& field_null(std::string_view key);
  /// Writes `json` as the value unchanged; the caller guarantees it is valid JSON (e.g. a nested object
  /// made with another JsonObjectWriter).
  JsonObjectWriter& field_raw(std::string_view key, std::string_view json);
  void close();

 private:
  JsonObjectWriter& field_int(std::string_view key, int64_t value);
  JsonObjectWriter& field_uint(std::string_view key, uint64_t value);
  void key(std::string_view k);
  std::string* out_;
  bool first_ = true;
};

class JsonlWriter {
 public:
  /// Creates `<path>.tmp.<pid>`. Throws OutputError{Create}.
  explicit JsonlWriter(std::filesystem::path path, size_t flush_bytes = size_t{1} << 16);

  /// Returns the buffer to append one JSON object to (no newline); may write earlier lines to the
  /// file first, so may throw OutputError{Write}.
  std::string& begin_line();
  /// Ends the line begun by begin_line(): appends LF. No I/O, never throws (beyond bad_alloc).
  void end_line();
  /// Drops the partial line begun by begin_line() (e.g. an exception while filling it in).
  void discard_line() noexcept;
  /// begin_line() + append + end_line().
  void write_line(std::string_view json_object);
  /// Writes buffered lines and renames the file into place. Throws OutputError.
  void commit();
  void discard() noexcept { file_.discard(); }

  uint64_t lines() const { return lines_; }
  const std::filesystem::path& path() const { return file_.path(); }
  /// The text of the line being built (valid between begin_line() and end_line()).
  std::string_view current_line() const { return std::string_view(buffer_).substr(line_start_); }

 private:
  AtomicFile file_;
  std::string buffer_;
  size_t flush_bytes_;
  size_t line_start_ = 0;
  uint64_t lines_ = 0;
  bool in_line_ = false;
};

}  // namespace fleetsim
