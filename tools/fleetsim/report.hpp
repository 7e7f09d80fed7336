// SPDX-License-Identifier: Apache-2.0
// report.html: one self-contained page (inline CSS, JS and SVG; no network) with the charts a planner
// looks at first, built from a run directory's files alone, so `fleetsim report DIR` can rebuild it
// from any finished run. docs/report.md describes the charts.
//
//   write_report("out/quickstart");       // reads summary.json, *.csv, events.jsonl; writes report.html
//
// Series are downsampled here, not in the page, so a 7-year hourly run gives a page of the same size
// as a month's: at most kReportBuckets time buckets per series (min and max kept per bucket for
// levels, the last value for running totals), failures counted per bucket.
#pragma once

#include "sim/error.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace fleetsim::cli {

/// The run directory has no summary.json (not a finished run): missing input, exit 66.
struct ReportInputError : std::runtime_error, ErrorWithKind {
  explicit ReportInputError(const std::string& what)
      : std::runtime_error(what), ErrorWithKind(ErrorKind::MissingInput) {}
};

inline constexpr int kReportBuckets = 400;

/// The page's data (a JSON object text) from the run directory. Throws ReportInputError.
/// `summary_text`: summary.json's text when it is not (yet) in the directory (`fleetsim run` writes
/// report.html before summary.json, so that summary.json is the last file to appear).
std::string build_report_data(const std::filesystem::path& run_dir, const std::string* summary_text = nullptr);
/// The fabric heatmap's data from links.csv (tools/fleetsim/report_links.cpp), or {"empty": why}.
nlohmann::json links_chart(const std::filesystem::path& run_dir, int64_t span_ns);
/// The whole page for that data.
std::string render_report_page(const std::string& data_json);
/// build + render, written atomically to `out` (default run_dir/report.html). Throws ReportInputError,
/// OutputError.
void write_report(const std::filesystem::path& run_dir, const std::filesystem::path& out = {},
                  const std::string* summary_text = nullptr);

}  // namespace fleetsim::cli
