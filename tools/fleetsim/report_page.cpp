// SPDX-License-Identifier: Apache-2.0
// The page of report.html: HTML, CSS and the charting script, written for fleetsim (no library), with
// the run's data inlined as JSON. Every chart section gets data-points="N" (points or marks drawn) once
// drawn, or data-points="0" and data-empty="why" when the run has nothing for it; the headless-browser
// test (tests/report_check.py) reads those attributes.
#include "tools/fleetsim/report.hpp"

#include <string_view>

namespace fleetsim::cli {

namespace {

constexpr std::string_view kHead = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fleetsim report</title>
<style>
:root{--fg:#1d232b;--muted:#667085;--line:#e4e7ec;--bg:#fff;--card:#f8f9fb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:18px 28px;border-bottom:1px solid var(--line)}
header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:var(--muted)}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:18px;padding:18px 28px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
section.wide{grid-column:1/-1}
section h2{margin:0 0 2px;font-size:15px}
section .note{margin:0 0 6px;color:var(--muted);font-size:12px}
.empty{padding:30px 0;text-align:center;color:var(--muted);font-style:italic}
svg{width:100%;height:auto;display:block;font-size:11px}
svg .axis{stroke:#98a2b3;stroke-width:1}
svg .grid{stroke:var(--line);stroke-width:1}
svg text{fill:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin-top:4px;font-size:12px}
.legend span{display:inline-flex;align-items:center;gap:5px}
.legend i{display:inline-block;width:14px;height:3px;border-radius:2px}
.tip{position:fixed;pointer-events:none;background:#1d232bee;color:#fff;font-size:12px;padding:6px 8px;border-radius:5px;display:none;white-space:nowrap;z-index:9}
table{border-collapse:collapse;width:100%;font-size:13px}
td,th{text-align:left;padding:3px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;width:34%}
tr.group td{font-weight:700;padding-top:10px;border-bottom:2px solid var(--line)}
</style></head><body>
<header><h1 id="title">fleetsim report</h1><p id="subtitle"></p></header>
<main>
<section data-chart="utilization"><h2>Utilization by region and accelerator</h2><p class="note">GPUs usable (healthy, not in repair) as a share of installed; busy share when the run has a cost model</p><div class="body"></div></section>
<section data-chart="cost"><h2>Cumulative cost against the commitment plan</h2><p class="note">spend summed over regions and accelerators (cost.csv)</p><div class="body"></div></section>
<section data-chart="training"><h2>Training progress</h2><p class="note">tokens kept at the last checkpoint, per job; dashed: the job's target</p><div class="body"></div></section>
<section data-chart="latency"><h2>Inference latency</h2><p class="note">p99 time to first token and end-to-end, per service and region (inference.csv)</p><div class="body"></div></section>
<section data-chart="slo"><h2>Inference SLO attainment</h2><p class="note">(completed − late) / (completed + failed) per sample interval</p><div class="body"></div></section>
<section data-chart="timeline" class="wide"><h2>Failures and outages</h2><p class="note">bars: failures per time bucket; shaded: outages; red marks: training interruptions (events.jsonl)</p><div class="body"></div></section>
<section data-chart="summary" class="wide"><h2>Summary</h2><p class="note">summary.json</p><div class="body"></div></section>
</main>
<div class="tip" id="tip"></div>
<script type="application/json" id="data">)HTML";

constexpr std::string_view kTail = R"HTML(</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const S = D.summary || {};
const SPAN = Math.max(1, D.span_s || 1);
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2563eb","#dc2626","#059669","#d97706","#7c3aed","#0891b2","#db2777","#4b5563","#65a30d","#9333ea"];
const W = 900, H = 260, M = {l: 64, r: 14, t: 10, b: 28};

function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function niceStep(range, n) {
  const raw = range / Math.max(1, n), p = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
function fmtNum(v) {
  if (v === null || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e12) return +(v / 1e12).toPrecision(3) + "T";
  if (a >= 1e9) return +(v / 1e9).toPrecision(3) + "B";
  if (a >= 1e6) return +(v / 1e6).toPrecision(3) + "M";
  if (a >= 1e4) return +(v / 1e3).toPrecision(3) + "k";
  return Number.isInteger(v) ? String(v) : +v.toPrecision(3) + "";
}
function fmtPct(v) { return v === null || !isFinite(v) ? "–" : +(100 * v).toPrecision(4) + "%"; }
function fmtUsd(v) { return v === null || !isFinite(v) ? "–" : "$" + fmtNum(v); }
function fmtSec(v) { return v === null || !isFinite(v) ? "–" : v < 1 ? +(v * 1000).toPrecision(3) + " ms" : +v.toPrecision(3) + " s"; }
// Time axis: days when the run spans more than three days, hours otherwise.
const DAYS = SPAN > 3 * 86400;
function fmtTime(s) {
  return DAYS ? +(s / 86400).toFixed(s % 86400 ? 2 : 0) + "d" : +(s / 3600).toFixed(s % 3600 ? 1 : 0) + "h";
}
function timeTicks() {
  const unit = DAYS ? 86400 : 3600, step = niceStep(SPAN / unit, 8) * unit, out = [];
  for (let s = 0; s <= SPAN + 1e-9; s += step) out.push(s);
  return out;
}
function sxw(s, w) { return M.l + (w - M.l - M.r) * s / SPAN; }
function sx(s) { return sxw(s, W); }
function axes(svg, ymin, ymax, yfmt) {
  const sy = v => H - M.b - (H - M.t - M.b) * (v - ymin) / (ymax - ymin || 1);
  const step = niceStep(ymax - ymin, 5);
  for (let v = Math.ceil(ymin / step) * step; v <= ymax + step * 1e-9; v += step) {
    el("line", {x1: M.l, x2: W - M.r, y1: sy(v), y2: sy(v), class: "grid"}, svg);
    el("text", {x: M.l - 6, y: sy(v) + 4, "text-anchor": "end"}, svg).textContent = yfmt(v);
  }
  for (const s of timeTicks()) {
    el("line", {x1: sx(s), x2: sx(s), y1: H - M.b, y2: H - M.b + 4, class: "axis"}, svg);
    el("text", {x: sx(s), y: H - M.b + 16, "text-anchor": "middle"}, svg).textContent = fmtTime(s);
  }
  el("line", {x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: "axis"}, svg);
  el("line", {x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, class: "axis"}, svg);
  return sy;
}
function legend(body, items) {
  const div = document.createElement("div");
  div.className = "legend";
  for (const it of items) {
    const span = document.createElement("span"), i = document.createElement("i");
    i.style.background = it.color;
    if (it.dash) i.style.background = "repeating-linear-gradient(90deg," + it.color + " 0 4px,transparent 4px 7px)";
    span.appendChild(i);
    span.appendChild(document.createTextNode(it.name));
    div.appendChild(span);
  }
  body.appendChild(div);
}
function markEmpty(section, why) {
  section.dataset.points = "0";
  section.dataset.empty = why;
  const d = document.createElement("div");
  d.className = "empty";
  d.textContent = why;
  section.querySelector(".body").appendChild(d);
}
// The value of a series at time s: the last sample at or before s.
function valueAt(sr, s) {
  let lo = 0, hi = sr.t.length - 1;
  if (hi < 0 || s < sr.t[0]) return null;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (sr.t[mid] <= s) lo = mid; else hi = mid - 1; }
  return sr.v[lo];
}
// A line chart of series [{name, t[], v[], dash, color}]; returns the number of points drawn.
function lineChart(section, series, opt) {
  const body = section.querySelector(".body");
  let ymin = opt.ymin, ymax = opt.ymax, points = 0;
  for (const sr of series) for (const v of sr.v) if (v !== null) {
    if (opt.ymin === undefined) ymin = ymin === undefined ? v : Math.min(ymin, v);
    if (opt.ymax === undefined) ymax = ymax === undefined ? v : Math.max(ymax, v);
  }
  if (ymin === undefined) { ymin = 0; ymax = 1; }
  if (opt.zero && ymin > 0) ymin = 0;
  // A flat series: open the range downwards when the top is fixed (shares: 100% stays the top).
  if (ymax <= ymin) {
    const pad = (Math.abs(ymin) || 1) * 0.1;
    if (opt.ymax !== undefined) ymin = ymax - pad; else { ymax = ymin + pad; ymin -= pad; }
  }
  const svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img"});
  const sy = axes(svg, ymin, ymax, opt.yfmt);
  series.forEach((sr, k) => {
    sr.color = sr.color || COLORS[k % COLORS.length];
    let d = "", gap = true;
    for (let i = 0; i < sr.t.length; i++) {
      if (sr.v[i] === null) { gap = true; continue; }  // no value (e.g. nothing served): a gap in the line
      // Steps: a sampled level holds until the next sample.
      d += (gap ? "M" + sx(sr.t[i]).toFixed(1) + "," : opt.step ? "H" + sx(sr.t[i]).toFixed(1) + "V" : "L" + sx(sr.t[i]).toFixed(1) + ",") + sy(sr.v[i]).toFixed(1);
      gap = false;
      points++;
    }
    if (d) el("path", {d: d, fill: "none", stroke: sr.color, "stroke-width": 1.6, "stroke-dasharray": sr.dash ? "6 4" : "none"}, svg);
  });
  const cursor = el("line", {y1: M.t, y2: H - M.b, stroke: "#98a2b3", "stroke-dasharray": "3 3", visibility: "hidden"}, svg);
  const tip = document.getElementById("tip");
  svg.addEventListener("mousemove", ev => {
    const r = svg.getBoundingClientRect(), x = (ev.clientX - r.left) * W / r.width;
    const s = Math.max(0, Math.min(SPAN, (x - M.l) / (W - M.l - M.r) * SPAN));
    cursor.setAttribute("x1", sx(s)); cursor.setAttribute("x2", sx(s)); cursor.setAttribute("visibility", "visible");
    tip.innerHTML = "";
    const head = document.createElement("div"); head.textContent = "t = " + fmtTime(Math.round(s)); tip.appendChild(head);
    for (const sr of series) { const row = document.createElement("div"); row.textContent = sr.name + ": " + opt.yfmt(valueAt(sr, s)); row.style.color = sr.color; tip.appendChild(row); }
    tip.style.display = "block"; tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 10) + "px";
  });
  svg.addEventListener("mouseleave", () => { tip.style.display = "none"; cursor.setAttribute("visibility", "hidden"); });
  body.appendChild(svg);
  legend(body, series);
  section.dataset.points = String(points);
  section.dataset.series = String(series.length);
  return points;
}

const charts = {
  utilization(sec, c) {
    const series = (c.usable || []).concat((c.busy || []).map(s => Object.assign(s, {dash: true})));
    lineChart(sec, series, {yfmt: fmtPct, ymax: 1, step: true});
  },
  cost(sec, c) {
    c.series.forEach(s => { if (s.name === "commitment plan") s.dash = true; });
    lineChart(sec, c.series, {yfmt: fmtUsd, zero: true});
    const last = c.series[0].v[c.series[0].v.length - 1], plan = c.series[1];
    if (plan) {
      const p = plan.v[plan.v.length - 1], note = document.createElement("p");
      note.className = "note";
      note.textContent = "at the end: spent " + fmtUsd(last) + ", plan " + fmtUsd(p) + " (" + (last >= p ? "over by " : "under by ") + fmtUsd(Math.abs(last - p)) + ")";
      sec.querySelector(".body").appendChild(note);
    }
  },
  training(sec, c) {
    const series = [];
    c.series.forEach((s, k) => {
      s.color = COLORS[k % COLORS.length];
      series.push(s);
      if (s.target) series.push({name: s.name + " target", t: [0, SPAN], v: [s.target, s.target], color: s.color, dash: true});
    });
    lineChart(sec, series, {yfmt: fmtNum, zero: true});
  },
  latency(sec, c) {
    c.series.forEach(s => { if (s.name.endsWith("TTFT p99")) s.dash = true; });
    lineChart(sec, c.series, {yfmt: fmtSec, zero: true, step: true});
  },
  slo(sec, c) { lineChart(sec, c.series, {yfmt: fmtPct, ymax: 1, step: true}); },
  timeline(sec, c) {
    const body = sec.querySelector(".body"), laneH = 44, lanes = c.lanes.slice(), WT = 1400, sx = s => sxw(s, WT);
    if (c.interrupts.length) lanes.push({name: "training", interrupts: c.interrupts});
    const h = M.t + lanes.length * laneH + M.b, svg = el("svg", {viewBox: "0 0 " + WT + " " + h, role: "img"});
    let maxF = 1, points = 0;
    for (const l of c.lanes) for (const f of l.failures) maxF = Math.max(maxF, f[1]);
    const bw = Math.max(1.5, sx(c.bucket_s) - sx(0));
    lanes.forEach((l, i) => {
      const y0 = M.t + i * laneH, y1 = y0 + laneH - 6;
      el("line", {x1: M.l, x2: WT - M.r, y1: y1, y2: y1, class: "grid"}, svg);
      const label = el("text", {x: M.l - 6, y: y0 + laneH / 2, "text-anchor": "end"}, svg);
      label.textContent = l.name.length > 10 ? l.name.slice(0, 9) + "…" : l.name;
      el("title", {}, label).textContent = l.name;
      for (const o of l.outages || []) {
        const r = el("rect", {x: sx(o[0]), y: y0, width: Math.max(2, sx(o[1]) - sx(o[0])), height: laneH - 6, fill: "#f59e0b", opacity: 0.35}, svg);
        el("title", {}, r).textContent = o[2] + ", " + fmtTime(o[0]) + "–" + fmtTime(o[1]);
        points++;
      }
      for (const f of l.failures || []) {
        const hh = Math.max(2, (laneH - 10) * f[1] / maxF);
        const r = el("rect", {x: sx(f[0]), y: y1 - hh, width: bw, height: hh, fill: "#2563eb"}, svg);
        el("title", {}, r).textContent = f[1] + " failure(s) from " + fmtTime(f[0]);
        points++;
      }
      for (const m of l.interrupts || []) {
        const x = sx(m[0]), p = el("path", {d: "M" + x + "," + (y1 - 16) + "l-5,-9h10z", fill: "#dc2626"}, svg);
        el("title", {}, p).textContent = m[1] + " at " + fmtTime(m[0]);
        points++;
      }
    });
    for (const s of timeTicks()) {
      el("line", {x1: sx(s), x2: sx(s), y1: h - M.b, y2: h - M.b + 4, class: "axis"}, svg);
      el("text", {x: sx(s), y: h - M.b + 16, "text-anchor": "middle"}, svg).textContent = fmtTime(s);
    }
    el("line", {x1: M.l, x2: WT - M.r, y1: h - M.b, y2: h - M.b, class: "axis"}, svg);
    body.appendChild(svg);
    const cls = Object.entries(c.by_class || {}).map(([k, v]) => k + " " + v).join(", ");
    legend(body, [{name: "failures" + (cls ? " (" + cls + ")" : ""), color: "#2563eb"}, {name: "outage", color: "#f59e0b"}, {name: "training interruption", color: "#dc2626"}]);
    sec.dataset.points = String(points);
  },
};

function summaryTable(sec) {
  const rows = [];
  const add = (k, v) => { if (v !== undefined && v !== null) rows.push([k, v]); };
  const group = g => rows.push([g, null]);
  const sc = S.scenario || {};
  group("Run");
  add("scenario", sc.name); add("start", sc.start); add("horizon", sc.horizon);
  add("simulated until", S.simulated_until + (S.complete === false ? " (interrupted)" : ""));
  add("seed", S.seed); add("events executed", S.events_executed !== undefined ? fmtNum(S.events_executed) : undefined);
  const fl = S.fleet;
  if (fl) { group("Fleet"); add("GPUs", fl.gpus); add("nodes", fl.nodes); add("racks", fl.racks); add("regions", fl.regions); add("GPUs usable at the end", fl.gpus_usable_at_end); }
  const fa = S.failures;
  if (fa) {
    group("Failures");
    add("failures", fa.failures); add("repairs", fa.repairs); add("outages", fa.outages);
    if (fa.by_class) add("by class", Object.entries(fa.by_class).map(([k, v]) => k + " " + v).join(", "));
  }
  const tr = S.training;
  if (tr && tr.jobs) for (const [name, j] of Object.entries(tr.jobs)) {
    group("Training job " + name);
    add("tokens trained", fmtNum(j.tokens_trained) + (j.tokens_target ? " of " + fmtNum(j.tokens_target) + " (" + fmtPct(j.tokens_trained / j.tokens_target) + ")" : ""));
    add("state", j.state); add("GPUs", j.gpus); add("ETTR", fmtPct(j.ettr)); add("goodput", fmtPct(j.goodput));
    add("MFU (effective)", fmtPct(j.mfu_effective)); add("interruptions", j.interruptions);
    add("lost work", j.lost_s !== undefined ? fmtNum(j.lost_s / 3600) + " h" : undefined);
  }
  const inf = S.inference;
  if (inf) for (const [name, s] of Object.entries(inf)) {
    group("Inference service " + name);
    add("requests/s", fmtNum(s.requests_per_s)); add("SLO attainment", fmtPct(s.slo_attainment));
    if (s.ttft_s) add("TTFT p50 / p99", fmtSec(s.ttft_s.p50) + " / " + fmtSec(s.ttft_s.p99));
    if (s.e2e_s) add("end-to-end p50 / p99", fmtSec(s.e2e_s.p50) + " / " + fmtSec(s.e2e_s.p99));
    add("output tokens/s", fmtNum(s.output_tokens_per_s));
  }
  const cost = S.cost;
  if (cost && typeof cost === "object") {
    group("Cost");
    const walk = (o, prefix, depth) => {
      for (const [k, v] of Object.entries(o)) {
        if (v !== null && typeof v === "object") { if (depth < 2) walk(v, prefix + k + " / ", depth + 1); }
        else add(prefix + k, typeof v === "number" ? (k === "usd" || k.endsWith("_usd") ? fmtUsd(v) : fmtNum(v)) : String(v));
      }
    };
    walk(cost, "", 0);
  } else { group("Cost"); add("cost model", "no cost model in this run"); }
  const t = document.createElement("table");
  let n = 0;
  for (const [k, v] of rows) {
    const r = t.insertRow();
    if (v === null) { r.className = "group"; const c = r.insertCell(); c.colSpan = 2; c.textContent = k; continue; }
    const th = document.createElement("th"); th.textContent = k; r.appendChild(th);
    r.insertCell().textContent = String(v); n++;
  }
  sec.querySelector(".body").appendChild(t);
  sec.dataset.points = String(n);
}

document.getElementById("title").textContent = "fleetsim report: " + ((S.scenario || {}).name || "run");
document.getElementById("subtitle").textContent = [(S.scenario || {}).start ? "from " + S.scenario.start : "", "simulated " + (S.simulated_until || "?"), "seed " + S.seed, "fleetsim " + S.version, S.complete === false ? "INTERRUPTED" : ""].filter(Boolean).join(" · ");
for (const sec of document.querySelectorAll("section[data-chart]")) {
  const name = sec.dataset.chart;
  try {
    if (name === "summary") { summaryTable(sec); continue; }
    const c = (D.charts || {})[name];
    if (!c || c.empty) { markEmpty(sec, c ? c.empty : "no data"); continue; }
    charts[name](sec, c);
    if (sec.dataset.points === "0") markEmpty(sec, "nothing to draw");
  } catch (e) {
    sec.dataset.points = "0";
    sec.dataset.error = String(e);
    markEmpty(sec, "could not draw: " + e);
  }
}
document.body.dataset.rendered = "true";
</script>
</body></html>
)HTML";

}  // namespace

std::string render_report_page(const std::string& data_json) {
  std::string page;
  page.reserve(kHead.size() + data_json.size() + kTail.size() + 64);
  page += kHead;
  // Inside <script>, "</" could end the element early; "<\/" is the same JSON string.
  for (size_t i = 0; i < data_json.size(); ++i) {
    if (data_json[i] == '<' && i + 1 < data_json.size() && data_json[i + 1] == '/') {
      page += "<\\";
    } else {
      page += data_json[i];
    }
  }
  page += kTail;
  return page;
}

}  // namespace fleetsim::cli
