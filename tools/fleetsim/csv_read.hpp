// SPDX-License-Identifier: Apache-2.0
// Reads the CSV tables a run writes (sim/csv_writer.hpp: RFC 4180 with LF, quoted only when needed),
// one row at a time, so a 7-year table is never held whole in memory.
//
//   CsvReader r("out/q/utilization.csv");
//   const size_t region = r.column("region");       // npos if absent
//   while (r.next()) use(r.text(region), r.number(r.column("gpus_usable")));
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace fleetsim::cli {

class CsvReader {
 public:
  static constexpr size_t npos = static_cast<size_t>(-1);

  /// Opens the file and reads its header; ok() is false if it cannot be read or is empty.
  explicit CsvReader(const std::filesystem::path& path);
  bool ok() const { return ok_; }
  const std::vector<std::string>& header() const { return header_; }
  size_t column(std::string_view name) const;
  /// True if every name is a column.
  bool has(std::initializer_list<std::string_view> names) const;

  /// Reads the next row; false at the end.
  bool next();
  std::string_view text(size_t i) const { return i < fields_.size() ? std::string_view(fields_[i]) : std::string_view{}; }
  /// The field as a number: NaN if empty, absent or not a number ("inf" and "-inf" read as such).
  double number(size_t i) const;
  /// The field as an integer (time_ns columns); 0 if it is not one.
  long long integer(size_t i) const;

 private:
  bool read_record(std::vector<std::string>& out);
  std::ifstream in_;
  std::vector<std::string> header_;
  std::vector<std::string> fields_;
  std::string line_;
  bool ok_ = false;
};

}  // namespace fleetsim::cli
