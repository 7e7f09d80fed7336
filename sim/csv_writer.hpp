// SPDX-License-Identifier: Apache-2.0
// CSV tables (RFC 4180 with LF line ends) streamed row by row to an atomically committed file.
//
//   CsvWriter w("out/utilization.csv", {"time_ns", "region", "metric", "value"});
//   w.row(SimTime::zero() + Duration::hours(1), "us-east-1", "gpu_util", 0.75);
//   w.commit();   // out/utilization.csv appears whole; without commit() nothing appears
//
// Format (docs/outputs.md): a header line with the column names, then one line per row, every line
// ending in LF (RFC 4180 says CRLF; pandas, R, DuckDB, spreadsheets all read LF, and LF diffs cleanly).
// A field is quoted only when it contains a comma, a double quote, CR or LF; inside quotes a double
// quote is doubled (`a"b` -> `"a""b"`). Every row has exactly as many fields as there are columns.
// Cell text:
//   integers   decimal, as is (SimTime and Duration cells are written as integer nanoseconds);
//   doubles    shortest round-trip (fmt "{}": 0.1 -> 0.1, 1e20 -> 1e+20), no locale, no thousands
//              separators; NaN -> empty field (CSV's "missing"), +inf -> inf, -inf -> -inf
//              (pandas, numpy and Python's float() read both spellings back);
//   bool       true / false;
//   null       empty field.
// Memory does not grow with rows: each row is formatted into a reused buffer and handed to the file.
#pragma once

#include "sim/atomic_file.hpp"
#include "sim/time.hpp"

#include <array>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

/// A non-owning view of one cell value: null, bool, int64, double or text. Cheap to copy; converts
/// implicitly from the usual argument types so rows can be written as `row(t, "a", 1, 0.5)`.
class CellView {
 public:
  enum class Type : uint8_t { Null, Bool, Int, Double, String };

  constexpr CellView() = default;  // null
  constexpr CellView(bool v) : type_(Type::Bool), int_(v ? 1 : 0) {}
  /// Integers of any width (not char: a char is almost always a mistake here). Unsigned values above
  /// INT64_MAX throw std::out_of_range.
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  constexpr CellView(T v) : type_(Type::Int), int_(static_cast<int64_t>(v)) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (v > static_cast<T>(INT64_MAX)) throw std::out_of_range("cell value above INT64_MAX");
    }
  }
  constexpr CellView(double v) : type_(Type::Double), double_(v) {}
  constexpr CellView(float v) : type_(Type::Double), double_(v) {}
  constexpr CellView(std::string_view v) : type_(Type::String), text_(v) {}
  constexpr CellView(const char* v) : type_(Type::String), text_(v) {}
  CellView(const std::string& v) : type_(Type::String), text_(v) {}
  /// Points in time and spans are written as integer nanoseconds (columns named *_ns).
  constexpr CellView(SimTime t) : type_(Type::Int), int_(t.ticks()) {}
  constexpr CellView(Duration d) : type_(Type::Int), int_(d.ticks()) {}
  static constexpr CellView null() { return CellView{}; }

  constexpr Type type() const { return type_; }
  constexpr bool as_bool() const { return int_ != 0; }
  constexpr int64_t as_int() const { return int_; }
  constexpr double as_double() const { return double_; }
  constexpr std::string_view as_string() const { return text_; }

 private:
  Type type_ = Type::Null;
  int64_t int_ = 0;
  double double_ = 0.0;
  std::string_view text_;
};

/// Appends one CSV field (quoted only if needed) for text.
void append_csv_text(std::string& out, std::string_view text);
/// Appends the CSV text of a cell as described in the header comment.
void append_csv_cell(std::string& out, const CellView& cell);
/// Appends a full CSV line (fields joined by commas, then LF).
void append_csv_line(std::string& out, std::span<const CellView> cells);

class CsvWriter {
 public:
  /// Creates `<path>.tmp.<pid>` and writes the header. Throws std::invalid_argument for an empty or
  /// duplicated column list, OutputError{Create} if the file cannot be created.
  CsvWriter(std::filesystem::path path, std::vector<std::string> columns);

  /// Writes one row. Throws std::invalid_argument if cells.size() != columns().size(),
  /// OutputError{Write} if the file cannot be written.
  void write_row(std::span<const CellView> cells);
  template <class... Cells>
  void row(const Cells&... cells) {
    const std::array<CellView, sizeof...(Cells)> views{CellView(cells)...};
    write_row(views);
  }

  /// Renames the file into place (AtomicFile::commit).
  void commit() { file_.commit(); }
  /// Removes the temporary; the destructor does this too when commit() was not called.
  void discard() noexcept { file_.discard(); }

  const std::vector<std::string>& columns() const { return columns_; }
  uint64_t rows_written() const { return rows_; }
  const std::filesystem::path& path() const { return file_.path(); }

 private:
  AtomicFile file_;
  std::vector<std::string> columns_;
  std::string line_;  // reused for every row
  uint64_t rows_ = 0;
};

}  // namespace fleetsim
