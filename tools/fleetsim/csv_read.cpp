// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/csv_read.hpp"

#include <charconv>
#include <cmath>

namespace fleetsim::cli {

CsvReader::CsvReader(const std::filesystem::path& path) : in_(path, std::ios::binary) {
  ok_ = in_.good() && read_record(header_) && !header_.empty();
}

size_t CsvReader::column(std::string_view name) const {
  for (size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return i;
  return npos;
}

bool CsvReader::has(std::initializer_list<std::string_view> names) const {
  for (auto n : names)
    if (column(n) == npos) return false;
  return true;
}

// One record: fields split at commas outside quotes; a quoted field may hold commas, doubled quotes
// and line breaks (then the record continues on the next line).
bool CsvReader::read_record(std::vector<std::string>& out) {
  out.clear();
  if (!std::getline(in_, line_)) return false;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  std::string field;
  bool quoted = false;
  for (;;) {
    for (size_t i = 0; i < line_.size(); ++i) {
      const char c = line_[i];
      if (quoted) {
        if (c == '"') {
          if (i + 1 < line_.size() && line_[i + 1] == '"') {
            field += '"';
            ++i;
          } else {
            quoted = false;
          }
        } else {
          field += c;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        out.push_back(std::move(field));
        field.clear();
      } else {
        field += c;
      }
    }
    if (!quoted) break;
    field += '\n';
    if (!std::getline(in_, line_)) break;  // unterminated quote at the end: keep what there is
  }
  out.push_back(std::move(field));
  return true;
}

bool CsvReader::next() {
  if (!ok_) return false;
  while (read_record(fields_)) {
    if (fields_.size() == 1 && fields_[0].empty()) continue;  // a blank line
    return true;
  }
  return false;
}

double CsvReader::number(size_t i) const {
  const std::string_view s = text(i);
  if (s.empty()) return std::nan("");
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    if (s == "true") return 1;
    if (s == "false") return 0;
    return std::nan("");
  }
  return v;
}

long long CsvReader::integer(size_t i) const {
  const std::string_view s = text(i);
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc()) return 0;
  return v;
}

}  // namespace fleetsim::cli
