// SPDX-License-Identifier: Apache-2.0
#include "sim/csv_writer.hpp"

#include "sim/json_out.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace fleetsim {

void append_csv_text(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_csv_cell(std::string& out, const CellView& cell) {
  switch (cell.type()) {
    case CellView::Type::Null: break;
    case CellView::Type::Bool: out += cell.as_bool() ? "true" : "false"; break;
    case CellView::Type::Int: append_int(out, cell.as_int()); break;
    case CellView::Type::Double: {
      const double v = cell.as_double();
      if (std::isnan(v)) break;  // empty field: missing
      if (std::isinf(v)) {
        out += v > 0 ? "inf" : "-inf";
        break;
      }
      append_double(out, v);
      break;
    }
    case CellView::Type::String: append_csv_text(out, cell.as_string()); break;
  }
}

void append_csv_line(std::string& out, std::span<const CellView> cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i != 0) out += ',';
    append_csv_cell(out, cells[i]);
  }
  out += '\n';
}

CsvWriter::CsvWriter(std::filesystem::path path, std::vector<std::string> columns)
    : file_([&]() -> std::filesystem::path {
        // Validate before creating the temporary so a bad declaration leaves nothing behind.
        if (columns.empty()) throw std::invalid_argument("CSV table " + path.string() + " declares no columns");
        std::vector<std::string> sorted = columns;
        std::sort(sorted.begin(), sorted.end());
        auto dup = std::adjacent_find(sorted.begin(), sorted.end());
        if (dup != sorted.end()) {
          throw std::invalid_argument(
              fmt::format("CSV table {} declares column \"{}\" twice", path.string(), *dup));
        }
        return std::move(path);
      }()),
      columns_(std::move(columns)) {
  std::vector<CellView> header(columns_.begin(), columns_.end());
  append_csv_line(line_, header);
  file_.write(line_);
}

void CsvWriter::write_row(std::span<const CellView> cells) {
  if (cells.size() != columns_.size()) {
    throw std::invalid_argument(fmt::format("CSV row for {} has {} fields, the header has {} columns",
                                            file_.path().filename().string(), cells.size(), columns_.size()));
  }
  line_.clear();
  append_csv_line(line_, cells);
  file_.write(line_);
  ++rows_;
}

}  // namespace fleetsim
