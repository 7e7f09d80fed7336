// SPDX-License-Identifier: Apache-2.0
#include "tools/planner/plan_output.hpp"

#include "sim/atomic_file.hpp"
#include "sim/csv_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace fleetsim::planner {

using nlohmann::json;

std::string display(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

std::optional<json> parse_display(const Variable& v, const std::string& text) {
  switch (v.kind) {
    case VariableKind::Set:
      for (const auto& value : v.values)
        if (display(value) == text) return value;
      return std::nullopt;
    case VariableKind::Date: return json(text);
    case VariableKind::Integer:
    case VariableKind::Continuous:
      if (!v.unit.empty()) return json(text);
      try {
        json j = json::parse(text);
        if (j.is_number()) return j;
      } catch (const json::exception&) {
      }
      return std::nullopt;
  }
  return std::nullopt;
}

std::vector<std::string> candidates_header(const PlanSpec& spec) {
  std::vector<std::string> h = {"run", "candidate"};
  for (const auto& v : spec.variables) h.push_back(v.name);
  for (const char* c : {"variant", "replication", "seed", "status"}) h.emplace_back(c);
  for (const auto& m : spec.metrics()) h.push_back(m);
  h.emplace_back("error");
  return h;
}

CandidatesCsv::CandidatesCsv(const std::filesystem::path& path, const PlanSpec& spec, bool append)
    : spec_(spec), path_(path) {
  const bool fresh = !append || !std::filesystem::exists(path);
  file_ = std::fopen(path.c_str(), fresh ? "w" : "a");
  if (!file_) throw OutputError(OutputError::Kind::Create, path, std::strerror(errno));
  if (fresh) {
    std::string line;
    std::vector<CellView> cells;
    const auto header = candidates_header(spec);
    for (const auto& h : header) cells.emplace_back(h);
    append_csv_line(line, cells);
    if (std::fputs(line.c_str(), file_) < 0 || std::fflush(file_) != 0)
      throw OutputError(OutputError::Kind::Write, path, std::strerror(errno));
  }
}

CandidatesCsv::~CandidatesCsv() {
  if (file_) std::fclose(file_);
}

void CandidatesCsv::append(const RunRecord& r) {
  std::vector<std::string> texts;  // owns what the cells view
  texts.push_back(r.key);
  for (const auto& v : r.values) texts.push_back(display(v));
  std::vector<CellView> cells;
  cells.emplace_back(static_cast<int64_t>(rows_));
  cells.emplace_back(texts[0]);
  for (size_t i = 1; i < texts.size(); ++i) cells.emplace_back(texts[i]);
  cells.emplace_back(spec_.variants.at(r.variant).name);
  cells.emplace_back(static_cast<int64_t>(r.replication));
  cells.emplace_back(r.seed);
  cells.emplace_back(r.ok ? "ok" : "failed");
  for (double m : r.metrics) cells.push_back(std::isfinite(m) ? CellView(m) : CellView::null());
  cells.emplace_back(r.error);
  std::string line;
  append_csv_line(line, cells);
  // One whole line per write and a flush: a killed search leaves complete rows only.
  if (std::fputs(line.c_str(), file_) < 0 || std::fflush(file_) != 0)
    throw OutputError(OutputError::Kind::Write, path_, std::strerror(errno));
  ++rows_;
}

namespace {

json figure_json(const Figure& f) {
  json j;
  j["value"] = std::isfinite(f.value) ? json(f.value) : json(nullptr);
  if (std::isfinite(f.half_width) && std::isfinite(f.value))
    j["interval_95"] = {f.value - f.half_width, f.value + f.half_width};
  else
    j["interval_95"] = nullptr;
  return j;
}

json values_json(const PlanSpec& spec, const Values& values) {
  json j = json::object();
  for (size_t i = 0; i < spec.variables.size() && i < values.size(); ++i) j[spec.variables[i].name] = values[i];
  return j;
}

json objective_json(const Objective& o, const Figure& f, const PlanSpec& spec) {
  json j = figure_json(f);
  j[o.minimize ? "minimize" : "maximize"] = o.metric;
  j["over_seeds"] = o.over.label();
  j["variant"] = spec.variants.at(o.variant).name;
  return j;
}

}  // namespace

std::string plan_json(const PlanSpec& spec, const Evaluator& ev, const SearchResult& result, const PlanContext& ctx) {
  json doc;
  doc["complete"] = result.complete;
  doc["stop_reason"] = result.stop_reason;
  doc["scenario"] = ctx.scenario_path;
  doc["plan"] = ctx.plan_source;
  doc["found"] = result.found;
  doc["evaluations"] = {{"candidates", ev.candidates()}, {"runs", ev.runs()}, {"runs_reused", ev.reused()}};
  if (result.found) {
    json best;
    best["values"] = values_json(spec, result.best);
    json set = json::array();
    for (const auto& o : ctx.base_overrides) set.push_back(fmt::format("{}={}", o.pointer, o.value));
    for (const auto& o : ev.overrides(result.best)) set.push_back(fmt::format("{}={}", o.pointer, o.value));
    best["set"] = set;
    best["seeds"] = result.best_assessment.seeds;
    best["objective"] = objective_json(spec.objective, result.best_assessment.objective, spec);
    if (spec.second) best["second_objective"] = objective_json(*spec.second, result.best_assessment.second, spec);
    json cs = json::array();
    for (size_t i = 0; i < spec.constraints.size() && i < result.best_assessment.constraints.size(); ++i) {
      const Constraint& c = spec.constraints[i];
      const Figure& f = result.best_assessment.constraints[i];
      json j = figure_json(f);
      j["constraint"] = c.describe();
      j["metric"] = c.metric;
      j[c.at_least ? "at_least" : "at_most"] = c.bound;
      j["over_seeds"] = c.over.label();
      j["closest_variant"] = spec.variants.at(f.variant).name;
      j["holds"] = f.satisfied;
      j["binding"] = i < result.binding.size() && result.binding[i];
      cs.push_back(std::move(j));
    }
    best["constraints"] = cs;
    doc["best"] = best;
  } else {
    doc["best"] = nullptr;
  }
  json front = json::array();
  for (size_t i : result.pareto) {
    const auto& p = ev.path().at(i);
    front.push_back({{"values", values_json(spec, p.values)},
                     {"objective", figure_json(p.assessment.objective)},
                     {"second_objective", figure_json(p.assessment.second)}});
  }
  doc["pareto"] = front;
  json path = json::array();
  for (const auto& p : ev.path())
    path.push_back({{"index", p.index},
                    {"phase", p.phase},
                    {"values", values_json(spec, p.values)},
                    {"seeds", p.assessment.seeds},
                    {"ran", p.assessment.ran},
                    {"feasible", p.assessment.feasible},
                    {"objective", std::isfinite(p.assessment.objective.value) ? json(p.assessment.objective.value) : json(nullptr)}});
  doc["path"] = path;
  return doc.dump(2) + "\n";
}

namespace {

std::string esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Point {
  double x, y;
  bool filled;
  std::string title;
};

// A scatter chart as inline SVG: axes with min and max labels, one circle per point.
std::string scatter(const std::vector<Point>& pts, const std::string& xlabel, const std::string& ylabel, bool line) {
  constexpr double W = 640, H = 320, L = 80, R = 20, T = 20, B = 50;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& p : pts) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x), y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  if (pts.empty()) return "<p>No points.</p>";
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + std::max(1.0, std::fabs(y0) * 0.1);
  auto sx = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto sy = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };
  std::string s = fmt::format("<svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\">", W, H, W, H);
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#444\"/>", L, H - B, W - R);
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#444\"/>", L, T, H - B);
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\">{:.6g}</text>", L, H - B + 16, x0);
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{:.6g}</text>", W - R, H - B + 16, x1);
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{:.6g}</text>", L - 4, H - B, y0);
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{:.6g}</text>", L - 4, T + 10, y1);
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"middle\">{}</text>", (L + W - R) / 2, H - 10, esc(xlabel));
  s += fmt::format("<text x=\"14\" y=\"{}\" font-size=\"13\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">{}</text>",
                   (T + H - B) / 2, (T + H - B) / 2, esc(ylabel));
  if (line && pts.size() > 1) {
    std::string d;
    for (const auto& p : pts) d += fmt::format("{}{:.1f},{:.1f}", d.empty() ? "M" : " L", sx(p.x), sy(p.y));
    s += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"#1f77b4\"/>", d);
  }
  for (const auto& p : pts)
    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"{}\" stroke=\"{}\"><title>{}</title></circle>", sx(p.x),
                     sy(p.y), p.filled ? "#2ca02c" : "white", p.filled ? "#2ca02c" : "#d62728", esc(p.title));
  return s + "</svg>";
}

std::string values_text(const PlanSpec& spec, const Values& values) {
  std::string s;
  for (size_t i = 0; i < spec.variables.size() && i < values.size(); ++i)
    s += fmt::format("{}{}={}", i ? ", " : "", spec.variables[i].name, display(values[i]));
  return s;
}

}  // namespace

std::string plan_html(const PlanSpec& spec, const Evaluator& ev, const SearchResult& result, const PlanContext& ctx) {
  std::string h = "<!doctype html><html><head><meta charset=\"utf-8\"><title>fleetsim plan</title><style>"
                  "body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}"
                  "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>";
  h += fmt::format("<h1>Plan for {}</h1>", esc(ctx.scenario_path));
  h += fmt::format("<p>{} candidates, {} simulation runs{}. Search {}.</p>", ev.candidates(), ev.runs(),
                   ev.reused() ? fmt::format(" ({} reused from an earlier search)", ev.reused()) : "",
                   result.complete ? "complete" : "stopped early (" + esc(result.stop_reason) + ")");
  if (result.found) {
    h += "<h2>Best plan</h2><table><tr><th>variable</th><th>value</th></tr>";
    for (size_t i = 0; i < spec.variables.size(); ++i)
      h += fmt::format("<tr><td>{}</td><td>{}</td></tr>", esc(spec.variables[i].name), esc(display(result.best[i])));
    h += "</table>";
    h += fmt::format("<p>{} {} = {:.6g} (over {} seeds)</p>", spec.objective.minimize ? "minimize" : "maximize",
                     esc(spec.objective.metric), result.best_assessment.objective.value, result.best_assessment.seeds);
    h += "<table><tr><th>constraint</th><th>value</th><th>95% interval</th><th>holds</th><th>binding</th></tr>";
    for (size_t i = 0; i < spec.constraints.size(); ++i) {
      const Figure& f = result.best_assessment.constraints[i];
      h += fmt::format("<tr><td>{}</td><td>{:.6g}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(spec.constraints[i].describe()),
                       f.value,
                       std::isfinite(f.half_width) ? fmt::format("{:.6g} to {:.6g}", f.value - f.half_width, f.value + f.half_width) : "n/a",
                       f.satisfied ? "yes" : "no", i < result.binding.size() && result.binding[i] ? "yes" : "no");
    }
    h += "</table>";
  } else {
    h += "<h2>No plan meets every constraint</h2>";
  }
  std::vector<Point> path;
  for (const auto& p : ev.path())
    if (std::isfinite(p.assessment.objective.value))
      path.push_back(Point{static_cast<double>(p.index), p.assessment.objective.value, p.assessment.feasible,
                           fmt::format("#{} {}: {} ({})", p.index, p.phase, values_text(spec, p.values),
                                       p.assessment.feasible ? "feasible" : "infeasible")});
  h += "<h2>Path of the search</h2><p>Each evaluation's objective; filled: meets every constraint, hollow: does not.</p>";
  h += scatter(path, "evaluation", spec.objective.metric, false);
  if (spec.second) {
    std::vector<Point> all, front;
    for (const auto& p : ev.path())
      if (std::isfinite(p.assessment.objective.value) && std::isfinite(p.assessment.second.value))
        all.push_back(Point{p.assessment.objective.value, p.assessment.second.value, p.assessment.feasible,
                            values_text(spec, p.values)});
    h += "<h2>Pareto front</h2>";
    h += scatter(all, spec.objective.metric, spec.second->metric, false);
    for (size_t i : result.pareto) {
      const auto& p = ev.path().at(i);
      front.push_back(Point{p.assessment.objective.value, p.assessment.second.value, true, values_text(spec, p.values)});
    }
    h += "<p>The front alone:</p>" + scatter(front, spec.objective.metric, spec.second->metric, true);
  }
  return h + "</body></html>\n";
}

std::string plan_text(const PlanSpec& spec, const Evaluator& ev, const SearchResult& result) {
  std::string s = fmt::format("plan: {} candidates, {} runs{}{}\n", ev.candidates(), ev.runs(),
                              ev.reused() ? fmt::format(", {} runs reused", ev.reused()) : "",
                              result.complete ? "" : fmt::format(" (stopped: {})", result.stop_reason));
  if (!result.found) return s + "no candidate meets every constraint\n";
  s += fmt::format("best: {}\n", values_text(spec, result.best));
  s += fmt::format("  {} {} = {:.6g} ({} over {} seeds)\n", spec.objective.minimize ? "minimize" : "maximize",
                   spec.objective.metric, result.best_assessment.objective.value, spec.objective.over.label(),
                   result.best_assessment.seeds);
  for (size_t i = 0; i < spec.constraints.size(); ++i) {
    const Figure& f = result.best_assessment.constraints[i];
    s += fmt::format("  {}: {:.6g}{}{}\n", spec.constraints[i].describe(), f.value,
                     std::isfinite(f.half_width) ? fmt::format(" ± {:.3g}", f.half_width) : "",
                     i < result.binding.size() && result.binding[i] ? " (binding)" : "");
  }
  if (!result.pareto.empty()) s += fmt::format("Pareto front: {} plans (plan.json, plan.html)\n", result.pareto.size());
  return s;
}

}  // namespace fleetsim::planner
