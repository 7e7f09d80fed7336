// SPDX-License-Identifier: Apache-2.0
// The fabric heatmap of report.html: links.csv (the flow model's per-link utilization table,
// docs/outputs.md) as rows of cells over time. Rows: every link class (mean over its usable links),
// then the links that were hottest most often, at most kHeatmapLinks of them (a link appears in
// links.csv only in the samples where it was among the top N; elsewhere its cell is empty: below the
// N-th, not measured). Columns: at most kReportBuckets time buckets, each cell the largest
// utilization of its bucket (a heatmap shows where links saturate, so the peak is kept).
#include "tools/fleetsim/report.hpp"

#include "models/network/network_records.hpp"
#include "tools/fleetsim/csv_read.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace fleetsim::cli {

namespace {
constexpr size_t kHeatmapLinks = 24;
// links.csv's columns, named by the record that writes them (models/network/network_records.hpp).
template <auto Member>
inline constexpr std::string_view link_col = member_name<Member>();
}

nlohmann::json links_chart(const std::filesystem::path& dir, int64_t span) {
  using json = nlohmann::json;
  using L = LinkLoadSample;
  CsvReader r(dir / (std::string(L::table) + ".csv"));
  if (!r.ok() || !r.has({link_col<&L::time>, link_col<&L::scope>, link_col<&L::link_class>, link_col<&L::link>,
                         link_col<&L::utilization_fraction>}))
    return json{{"empty", "no links.csv in this run (no network, or no sample_interval)"}};
  const size_t t = r.column(link_col<&L::time>), scope = r.column(link_col<&L::scope>),
               cls = r.column(link_col<&L::link_class>), link = r.column(link_col<&L::link>),
               util = r.column(link_col<&L::utilization_fraction>);
  struct Row {
    std::string cls;
    bool is_class = false;
    size_t samples = 0;  // how often it was among the hottest (links)
    double peak = 0;
    std::map<int64_t, double> cells;  // bucket -> max utilization
  };
  std::map<std::string, Row> rows;
  const int64_t width = std::max<int64_t>(1, (span + kReportBuckets - 1) / kReportBuckets);
  size_t samples = 0;
  int64_t last_t = -1;
  while (r.next()) {
    const int64_t at = r.integer(t);
    const double u = r.number(util);
    if (!std::isfinite(u)) continue;
    if (at != last_t) ++samples, last_t = at;
    const bool is_class = r.text(scope) == L::class_scope;
    // Class rows are named by their class; a link could share the name only if a vertex were named so.
    Row& row = rows[is_class ? "all " + std::string(r.text(cls)) : std::string(r.text(link))];
    row.cls = std::string(r.text(cls));
    row.is_class = is_class;
    ++row.samples;
    row.peak = std::max(row.peak, u);
    const int64_t bucket = std::clamp<int64_t>(at / width, 0, std::max<int64_t>(0, (span + width - 1) / width - 1));
    double& cell = row.cells.try_emplace(bucket, 0.0).first->second;
    cell = std::max(cell, u);
  }
  if (rows.empty()) return json{{"empty", "links.csv has no rows"}};
  std::vector<std::pair<std::string, const Row*>> order;
  for (const auto& [name, row] : rows)
    if (row.is_class) order.emplace_back(name, &row);
  std::vector<std::pair<std::string, const Row*>> links;
  for (const auto& [name, row] : rows)
    if (!row.is_class) links.emplace_back(name, &row);
  // Most often among the hottest, then the highest peak, then the name (a stable page).
  std::sort(links.begin(), links.end(), [](const auto& a, const auto& b) {
    if (a.second->samples != b.second->samples) return a.second->samples > b.second->samples;
    if (a.second->peak != b.second->peak) return a.second->peak > b.second->peak;
    return a.first < b.first;
  });
  const size_t shown = std::min(links.size(), kHeatmapLinks);
  order.insert(order.end(), links.begin(), links.begin() + static_cast<std::ptrdiff_t>(shown));
  json out_rows = json::array();
  for (const auto& [name, row] : order) {
    json cells = json::array();
    for (const auto& [bucket, u] : row->cells) cells.push_back({bucket, std::round(u * 1e4) / 1e4});
    out_rows.push_back({{"name", name}, {"class", row->cls}, {"scope", row->is_class ? "class" : "link"},
                        {"peak", std::round(row->peak * 1e4) / 1e4}, {"cells", std::move(cells)}});
  }
  return json{{"rows", std::move(out_rows)},
              {"bucket_s", static_cast<double>(width) / 1e9},
              {"buckets", (span + width - 1) / width},
              {"samples", samples},
              {"links_seen", links.size()},
              {"links_shown", shown}};
}

}  // namespace fleetsim::cli
