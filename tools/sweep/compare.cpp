// SPDX-License-Identifier: Apache-2.0
#include "tools/sweep/compare.hpp"

#include "tools/sweep/metrics.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace fleetsim::sweep {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CompareError(fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::parse_error& e) {
    throw CompareError(fmt::format("{} is not valid JSON: {}", path.string(), e.what()));
  }
}

Side from_sweep(const nlohmann::json& doc, const std::string& path) {
  Side side;
  side.kind = Side::Kind::Sweep;
  side.path = path;
  if (!doc.contains("cells") || !doc["cells"].is_array())
    throw CompareError(fmt::format("{}: a sweep.json without \"cells\"", path));
  for (const auto& cell : doc["cells"]) {
    const std::string label = cell.value("label", "");
    if (!cell.contains("metrics")) continue;
    for (auto it = cell["metrics"].begin(); it != cell["metrics"].end(); ++it) {
      const auto& mean = it.value()["mean"];
      if (mean.is_number()) side.values.push_back(SideValue{it.key(), label, mean.get<double>()});
    }
  }
  return side;
}

std::string row_name(const SideValue& v) { return v.cell.empty() ? v.metric : v.metric + " @ " + v.cell; }

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string number(std::optional<double> v) { return v ? fmt::format("{:.6g}", *v) : "-"; }

// Three significant digits, or as many more as it takes for the printed delta to fall on the same side
// of the tolerance as the verdict: +1.0026% against 1% is shown as +1.003% OUTSIDE, not +1% OUTSIDE.
std::string delta_text(const CompareRow& r, double rel_tol) {
  if (!r.baseline || !r.candidate) return "-";
  const double tol_pct = rel_tol * 100.0;
  std::string text;
  for (int digits = 3; digits <= 17; ++digits) {
    text = fmt::format("{:+.{}g}", r.delta_pct, digits);
    if (!std::isfinite(r.delta_pct)) break;
    double shown = 0;  // from_chars: no locale; it takes no '+', so skip the sign
    std::from_chars(text.data() + (text[0] == '+' ? 1 : 0), text.data() + text.size(), shown);
    const bool shown_within = std::fabs(shown) <= tol_pct;
    if (shown_within == r.within) break;
  }
  return text + "%";
}

std::string status_text(const CompareRow& r) {
  if (!r.baseline) return "only in new";
  if (!r.candidate) return "missing in new";
  return r.within ? "ok" : "OUTSIDE";
}

}  // namespace

Side load_side(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw CompareError(fmt::format("{}: no such file or directory", path.string()));
  fs::path file = path;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "sweep.json", ec)) file = path / "sweep.json";
    else if (fs::exists(path / "summary.json", ec)) file = path / "summary.json";
    else
      throw CompareError(fmt::format("{}: neither a run directory (summary.json) nor a sweep directory "
                                     "(sweep.json); an unfinished run or sweep has neither", path.string()));
  }
  const nlohmann::json doc = read_json(file);
  if (!doc.is_object()) throw CompareError(fmt::format("{}: expected a JSON object", file.string()));
  if (doc.value("kind", "") == "fleetsim-sweep") return from_sweep(doc, file.string());
  if (!doc.contains("fingerprint") && !doc.contains("events_executed"))
    throw CompareError(fmt::format("{}: not a fleetsim summary.json or sweep.json", file.string()));
  Side side;
  side.path = file.string();
  for (const auto& m : numeric_leaves(doc)) side.values.push_back(SideValue{m.name, "", m.as_double()});
  return side;
}

Comparison compare(const Side& baseline, const Side& candidate, const CompareOptions& options) {
  if (baseline.kind != candidate.kind)
    throw CompareError(fmt::format("cannot compare a {} with a {}: compare runs with runs, sweeps with sweeps",
                                   baseline.kind == Side::Kind::Sweep ? "sweep" : "run",
                                   candidate.kind == Side::Kind::Sweep ? "sweep" : "run"));
  for (const auto& sel : options.metrics) {
    for (const Side* side : {&baseline, &candidate}) {
      bool found = false;
      for (const auto& v : side->values) found = found || selected(v.metric, {sel});
      if (!found) {
        std::vector<std::string> names;
        for (const auto& v : side->values) names.push_back(v.metric);
        throw CompareError(fmt::format("--metric {}: {} has no numeric value at or under this pointer{}",
                                       normalize_selector(sel), side->path, selector_hint(sel, names)));
      }
    }
  }
  // Rows in the baseline's order, then what only the new side has.
  std::vector<std::string> order;
  std::map<std::string, CompareRow> rows;
  auto add = [&](const SideValue& v, bool is_baseline) {
    if (!selected(v.metric, options.metrics)) return;
    const std::string name = row_name(v);
    auto [it, inserted] = rows.try_emplace(name);
    if (inserted) {
      order.push_back(name);
      it->second.name = name;
    }
    (is_baseline ? it->second.baseline : it->second.candidate) = v.value;
  };
  for (const auto& v : baseline.values) add(v, true);
  for (const auto& v : candidate.values) add(v, false);

  Comparison c;
  for (const auto& name : order) {
    CompareRow r = rows[name];
    if (r.baseline && r.candidate) {
      const double b = *r.baseline, n = *r.candidate;
      if (b != 0) r.delta_pct = (n - b) / std::fabs(b) * 100.0;
      else r.delta_pct = n == 0 ? 0.0 : std::copysign(std::numeric_limits<double>::infinity(), n);
      r.within = std::fabs(n - b) <= options.rel_tol * std::fabs(b);
    }
    if (!r.within) ++c.outside;
    c.rows.push_back(std::move(r));
  }
  return c;
}

double parse_rel_tol(const std::string& text) {
  std::string s = text;
  while (!s.empty() && s.back() == ' ') s.pop_back();
  bool percent = false;
  if (!s.empty() && s.back() == '%') {
    percent = true;
    s.pop_back();
    while (!s.empty() && s.back() == ' ') s.pop_back();
  }
  double v = 0;
  // from_chars: no locale, and the whole text must be the number.
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
    throw std::invalid_argument(fmt::format(
        "--rel-tol expects a non-negative fraction or percentage, such as 0.01 or 1%, got \"{}\"", text));
  return percent ? v / 100.0 : v;
}

std::string format_comparison(const Comparison& c, double rel_tol) {
  size_t width = 6;
  for (const auto& r : c.rows) width = std::max(width, r.name.size());
  std::string out = fmt::format("{:<{}}  {:>14}  {:>14}  {:>10}  {}\n", "metric", width, "baseline", "new",
                                "delta", fmt::format("within {:g}%", rel_tol * 100));
  for (const auto& r : c.rows)
    out += fmt::format("{:<{}}  {:>14}  {:>14}  {:>10}  {}\n", r.name, width, number(r.baseline),
                       number(r.candidate), delta_text(r, rel_tol), status_text(r));
  out += fmt::format("{} metrics, {} outside the tolerance of {:g}%\n", c.rows.size(), c.outside, rel_tol * 100);
  return out;
}

std::string junit_xml(const Comparison& c, double rel_tol, const std::string& baseline_path,
                      const std::string& candidate_path) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"fleetsim compare\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n",
                     c.rows.size(), c.outside);
  out += fmt::format("  <testsuite name=\"fleetsim compare\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
                     "skipped=\"0\">\n", c.rows.size(), c.outside);
  out += fmt::format("    <properties>\n      <property name=\"baseline\" value=\"{}\"/>\n"
                     "      <property name=\"new\" value=\"{}\"/>\n      <property name=\"rel_tol\" value=\"{:g}\"/>\n"
                     "    </properties>\n",
                     xml_escape(baseline_path), xml_escape(candidate_path), rel_tol);
  for (const auto& r : c.rows) {
    out += fmt::format("    <testcase classname=\"fleetsim.compare\" name=\"{}\"", xml_escape(r.name));
    if (r.within) {
      out += "/>\n";
      continue;
    }
    const std::string message =
        !r.baseline || !r.candidate
            ? status_text(r)
            : fmt::format("{} outside {:g}%: baseline {}, new {}", delta_text(r, rel_tol), rel_tol * 100, number(r.baseline),
                          number(r.candidate));
    out += fmt::format(">\n      <failure message=\"{0}\" type=\"tolerance\">{0}</failure>\n    </testcase>\n",
                       xml_escape(message));
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace fleetsim::sweep
