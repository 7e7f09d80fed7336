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
<section data-chart="answers" class="wide"><h2>Answers</h2><p class="note">what each scheduled outage cost, and SLO attainment per inference service (summary.json, resolved.json)</p><div class="body"></div></section>
<section data-chart="utilization"><h2>Utilization by region and accelerator</h2><p class="note">GPUs usable (healthy, not in repair) as a share of installed; busy share when the run has a cost model</p><div class="body"></div></section>
<section data-chart="cost"><h2>Cumulative cost against the commitment plan</h2><p class="note">spend summed over regions and accelerators (cost.csv)</p><div class="body"></div></section>
<section data-chart="training"><h2>Training progress</h2><p class="note">tokens kept at the last checkpoint, per job; dashed: the job's target</p><div class="body"></div></section>
<section data-chart="latency"><h2>Inference latency</h2><p class="note">p99 time to first token (top, dashed: the service's TTFT objective) and end-to-end (bottom), per service and region; gaps: nothing completed (inference.csv)</p><div class="body"></div></section>
<section data-chart="slo"><h2>Inference SLO attainment</h2><p class="note">(completed − late) / (completed + failed) per sample interval</p><div class="body"></div></section>
<section data-chart="timeline" class="wide"><h2>Failures and outages</h2><p class="note">bars: failures per time bucket; shaded: outages; red marks: training interruptions (events.jsonl)</p><div class="body"></div></section>
<section data-chart="links" class="wide"><h2>Fabric link utilization</h2><p class="note">mean utilization per sample interval: each link class, then the links most often among the hottest (links.csv; blank: not among the hottest then); darker is busier, the peak of each time bucket</p><div class="body"></div></section>
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
// Twelve hues (Paul Tol's "muted" and "bright" schemes, chosen to stay apart for colour-blind
// readers); past twelve series a dash pattern tells the rest apart.
const COLORS = ["#4477aa","#ee6677","#228833","#ccbb44","#66ccee","#aa3377","#332288","#117733","#999933","#882255","#44aa99","#bbbbbb"];
const DASHES = ["none", "6 3", "2 2", "8 3 2 3"];
function seriesStyle(k) { return {color: COLORS[k % COLORS.length], dash: DASHES[Math.floor(k / COLORS.length) % DASHES.length]}; }
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
  if (a >= 1e15) { const e = Math.floor(Math.log10(a)); return +(v / Math.pow(10, e)).toPrecision(3) + "e" + e; }  // not "1000000T"
  if (a >= 1e12) return +(v / 1e12).toPrecision(3) + "T";
  if (a >= 1e9) return +(v / 1e9).toPrecision(3) + "B";
  if (a >= 1e6) return +(v / 1e6).toPrecision(3) + "M";
  if (a >= 1e4) return +(v / 1e3).toPrecision(3) + "k";
  return Number.isInteger(v) ? String(v) : +v.toPrecision(3) + "";
}
// In words, for tables and the answers ("937 billion", "$4.4 million"), as the terminal summary says it.
function fmtWords(v) {
  if (v === null || v === undefined || !isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e12) return +(v / 1e12).toPrecision(3) + " trillion";
  if (a >= 1e9) return +(v / 1e9).toPrecision(3) + " billion";
  if (a >= 1e6) return +(v / 1e6).toPrecision(3) + " million";
  if (a >= 1e4) return +(v / 1e3).toPrecision(3) + " thousand";
  return Number.isInteger(v) ? String(v) : +v.toPrecision(3) + "";
}
function fmtUsdWords(v) { return v === null || v === undefined || !isFinite(v) ? "–" : Math.abs(v) < 1e4 ? "$" + v.toFixed(2) : "$" + fmtWords(v); }
function fmtEnergy(mwh) { const a = Math.abs(mwh); return a >= 1e6 ? +(mwh / 1e6).toPrecision(3) + " TWh" : a >= 1e3 ? +(mwh / 1e3).toPrecision(3) + " GWh" : +mwh.toPrecision(3) + " MWh"; }
function fmtDur(s) { if (s === null || s === undefined || !isFinite(s)) return "–"; const a = Math.abs(s); return a >= 172800 ? +(s / 86400).toPrecision(3) + " days" : a >= 3600 ? +(s / 3600).toPrecision(3) + " h" : a >= 60 ? +(s / 60).toPrecision(3) + " min" : a >= 1 ? +s.toPrecision(3) + " s" : +(s * 1000).toPrecision(3) + " ms"; }
function fmtPct(v) { return v === null || !isFinite(v) ? "–" : +(100 * v).toPrecision(4) + "%"; }
function fmtUsd(v) { return v === null || !isFinite(v) ? "–" : "$" + fmtNum(v); }
function fmtSec(v) { return v === null || !isFinite(v) ? "–" : v < 1 ? +(v * 1000).toPrecision(3) + " ms" : +v.toPrecision(3) + " s"; }
// Time axis: days when the run spans more than three days, hours otherwise; calendar dates (from the
// scenario's start) when it spans more than 60 days: "2026-03-14", or "2026-03" past two years.
const DAYS = SPAN > 3 * 86400;
const START_MS = D.start ? Date.parse(D.start) : NaN;
const CALENDAR = SPAN > 60 * 86400 && isFinite(START_MS);
function fmtTime(s) {
  if (CALENDAR) return new Date(START_MS + s * 1000).toISOString().slice(0, SPAN > 730 * 86400 ? 7 : 10);
  return DAYS ? +(s / 86400).toFixed(s % 86400 ? 2 : 0) + "d" : +(s / 3600).toFixed(s % 3600 ? 1 : 0) + "h";
}
function fmtTipTime(s) {
  if (isFinite(START_MS)) return new Date(START_MS + s * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
  return fmtTime(s);
}
function timeTicks() {
  const unit = DAYS ? 86400 : 3600, step = niceStep(SPAN / unit, CALENDAR ? 7 : 8) * unit, out = [];
  for (let s = 0; s <= SPAN + 1e-9; s += step) out.push(s);
  return out;
}
function sxw(s, w) { return M.l + (w - M.l - M.r) * s / SPAN; }
function sx(s) { return sxw(s, W); }
function axes(svg, ymin, ymax, yfmt, decades) {
  const sy = v => H - M.b - (H - M.t - M.b) * (v - ymin) / (ymax - ymin || 1);
  const step = decades ? Math.max(1, Math.ceil((ymax - ymin) / 6)) : niceStep(ymax - ymin, 5);  // log: whole decades
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
    if (it.dash && it.dash !== "none") i.style.background = "repeating-linear-gradient(90deg," + it.color + " 0 4px,transparent 4px 7px)";
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
// A line chart of series [{name, t[], v[], dash, color}]; returns the number of points drawn. A null
// value (nothing measured) breaks the line. opt.body: where to draw (default the section's body);
// points add up over the charts of a section.
// opt.log: a logarithmic axis (values at or below 0 are left out), for series decades apart.
function lineChart(section, series, opt) {
  const body = opt.body || section.querySelector(".body");
  const f = opt.log ? (v => v !== null && v > 0 ? Math.log10(v) : null) : (v => v);
  const yfmt = opt.log ? (x => opt.yfmt(Math.pow(10, x))) : opt.yfmt;
  let ymin = opt.ymin, ymax = opt.ymax, points = 0;
  for (const sr of series) for (const v0 of sr.v) { const v = f(v0); if (v === null) continue;
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
  if (opt.log) { ymin = Math.floor(ymin); ymax = Math.ceil(ymax); if (ymax <= ymin) ymax = ymin + 1; }  // whole decades
  const svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img"});
  const sy = axes(svg, ymin, ymax, yfmt, opt.log);
  series.forEach((sr, k) => {
    const st = seriesStyle(k);
    sr.color = sr.color || st.color;
    if (sr.dash === true) sr.dash = "6 4";
    else if (!sr.dash && st.dash !== "none") sr.dash = st.dash;
    let d = "", pen = false;
    for (let i = 0; i < sr.t.length; i++) {
      const x = sx(sr.t[i]).toFixed(1);
      const v = f(sr.v[i]);
      if (v === null) {
        if (pen && opt.step) d += "H" + x;  // the last level holds until the gap begins
        pen = false;
        continue;
      }
      const y = sy(v).toFixed(1);
      // Steps: a sampled level holds until the next sample.
      d += pen ? (opt.step ? "H" + x + "V" + y : "L" + x + "," + y) : "M" + x + "," + y;
      pen = true;
      points++;
    }
    if (d) el("path", {d: d, fill: "none", stroke: sr.color, "stroke-width": 1.6, "stroke-dasharray": sr.dash || "none"}, svg);
  });
  const cursor = el("line", {y1: M.t, y2: H - M.b, stroke: "#98a2b3", "stroke-dasharray": "3 3", visibility: "hidden"}, svg);
  const tip = document.getElementById("tip");
  svg.addEventListener("mousemove", ev => {
    const r = svg.getBoundingClientRect(), x = (ev.clientX - r.left) * W / r.width;
    const s = Math.max(0, Math.min(SPAN, (x - M.l) / (W - M.l - M.r) * SPAN));
    cursor.setAttribute("x1", sx(s)); cursor.setAttribute("x2", sx(s)); cursor.setAttribute("visibility", "visible");
    tip.innerHTML = "";
    const head = document.createElement("div"); head.textContent = fmtTipTime(Math.round(s)); tip.appendChild(head);
    for (const sr of series) { const row = document.createElement("div"); row.textContent = sr.name + ": " + opt.yfmt(valueAt(sr, s)); row.style.color = sr.color; tip.appendChild(row); }
    tip.style.display = "block"; tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 10) + "px";
  });
  svg.addEventListener("mouseleave", () => { tip.style.display = "none"; cursor.setAttribute("visibility", "hidden"); });
  if (opt.title) { const h = document.createElement("div"); h.className = "note"; h.textContent = opt.title; body.appendChild(h); }
  body.appendChild(svg);
  legend(body, series);
  section.dataset.points = String(Number(section.dataset.points || 0) + points);
  section.dataset.series = String(Number(section.dataset.series || 0) + series.length);
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
    let lo = Infinity, hi = 0;
    c.series.forEach((s, k) => {
      s.color = seriesStyle(k).color;
      series.push(s);
      if (s.target) series.push({name: s.name + " target", t: [0, SPAN], v: [s.target, s.target], color: s.color, dash: true});
    });
    for (const s of series) for (const v of s.v) if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    // Jobs decades apart (a frontier run's 40 trillion tokens beside a research stream's first billions):
    // a linear axis would flatten all but the largest.
    const log = hi > 100 * lo;
    const notes = [];
    if (c.grouped) notes.push("one line per name: the " + c.jobs + " jobs with samples summed by name without its number (research-01, research-02, ...: research)");
    if (log) notes.push("logarithmic axis");
    if (notes.length) { const n = document.createElement("p"); n.className = "note"; n.textContent = notes.join("; "); sec.querySelector(".body").appendChild(n); }
    lineChart(sec, series, {yfmt: fmtNum, zero: !log, log: log});
  },
  latency(sec, c) {
    // TTFT and end-to-end differ by orders of magnitude: each gets its own axis. The TTFT objective of
    // each service is drawn as a dashed level.
    const ttft = (c.ttft || []).slice(), slo = D.slo_ttft_s || {};
    for (const [svc, v] of Object.entries(slo))
      if (ttft.some(s => s.name.startsWith(svc + " "))) ttft.push({name: svc + " TTFT objective", t: [0, SPAN], v: [v, v], color: "#667085", dash: true});
    const body = sec.querySelector(".body"), top = document.createElement("div"), bottom = document.createElement("div");
    body.appendChild(top); body.appendChild(bottom);
    lineChart(sec, ttft, {yfmt: fmtSec, zero: true, step: true, body: top, title: "p99 time to first token"});
    lineChart(sec, c.e2e || [], {yfmt: fmtSec, zero: true, step: true, body: bottom, title: "p99 end-to-end latency"});
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
      // Counted per bucket (long runs): a bar per bucket, its height the count, like the failures.
      // A few: a thin tick each, with a triangle when they are sparse enough to stay apart.
      const counted = (l.interrupts || []).some(m => m.length > 2);
      let maxI = 1;
      for (const m of l.interrupts || []) maxI = Math.max(maxI, m[2] || 1);
      const sparse = (l.interrupts || []).length <= 120;
      for (const m of l.interrupts || []) {
        const x = sx(m[0]);
        let p;
        if (counted) {
          const hh = Math.max(2, (laneH - 10) * (m[2] || 1) / maxI);
          p = el("rect", {x: x, y: y1 - hh, width: bw, height: hh, fill: "#dc2626"}, svg);
        } else if (sparse) {
          p = el("path", {d: "M" + x + "," + (y1 - 16) + "l-5,-9h10z", fill: "#dc2626"}, svg);
        } else {
          p = el("line", {x1: x, x2: x, y1: y0 + 4, y2: y1, stroke: "#dc2626", "stroke-width": 1, opacity: 0.6}, svg);
        }
        el("title", {}, p).textContent = m[1] + " at " + fmtTipTime(m[0]);
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

// The fabric heatmap (links.csv, tools/fleetsim/report_links.cpp): a row per link class and per hot
// link, a cell per time bucket, white (0) to dark red (1).
charts.links = function(sec, c) {
  const body = sec.querySelector(".body"), rowH = 16, WT = 1400, LW = 300, cols = Math.max(1, c.buckets);
  const h = M.t + c.rows.length * rowH + M.b, x0 = LW, cw = (WT - M.r - x0) / cols;
  const svg = el("svg", {viewBox: "0 0 " + WT + " " + h, role: "img"});
  const color = u => { const v = Math.max(0, Math.min(1, u)); return "rgb(" + Math.round(255 - 75 * v) + "," + Math.round(255 - 245 * v) + "," + Math.round(255 - 235 * v) + ")"; };
  let points = 0;
  c.rows.forEach((r, i) => {
    const y = M.t + i * rowH;
    const label = el("text", {x: x0 - 6, y: y + rowH - 4, "text-anchor": "end"}, svg);
    label.textContent = r.name.length > 44 ? "…" + r.name.slice(-43) : r.name;
    if (r.scope === "class") label.setAttribute("font-weight", "700");
    el("title", {}, label).textContent = r.name + " (" + r.class + "), peak " + fmtPct(r.peak);
    el("rect", {x: x0, y: y, width: WT - M.r - x0, height: rowH - 1, fill: "none", stroke: "#e4e7ec"}, svg);
    for (const [b, u] of r.cells) {
      const rect = el("rect", {x: x0 + b * cw, y: y, width: Math.max(1, cw), height: rowH - 1, fill: color(u)}, svg);
      el("title", {}, rect).textContent = r.name + ": " + fmtPct(u) + " from " + fmtTime(b * c.bucket_s);
      points++;
    }
  });
  const hy = h - M.b;
  for (let k = 0; k <= 4; k++) {
    const s = SPAN * k / 4, x = x0 + (WT - M.r - x0) * k / 4;
    el("line", {x1: x, x2: x, y1: hy, y2: hy + 4, class: "axis"}, svg);
    el("text", {x: x, y: hy + 16, "text-anchor": k === 0 ? "start" : k === 4 ? "end" : "middle"}, svg).textContent = fmtTime(s);
  }
  body.appendChild(svg);
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = c.links_shown + " of " + c.links_seen + " links that were ever among the hottest, over " + c.samples + " samples; scale: white 0%, dark red 100%";
  body.appendChild(note);
  sec.dataset.points = String(points);
  sec.dataset.series = String(c.rows.length);
};

// The planner's answers (tools/fleetsim/answers.cpp builds them): per outage, then per service.
function answersTable(sec) {
  const A = D.answers || {}, t = document.createElement("table");
  let n = 0;
  const row = (k, v, group) => {
    const r = t.insertRow();
    if (group) { r.className = "group"; const c = r.insertCell(); c.colSpan = 2; c.textContent = k; return; }
    const th = document.createElement("th"); th.textContent = k; r.appendChild(th);
    r.insertCell().textContent = v; n++;
  };
  for (const o of A.outages || []) {
    row("Outage " + o.name + " in " + o.region + " (" + o.kind + ", " + o.duration + " from " + (o.start_ns !== undefined ? fmtTipTime(o.start_ns / 1e9) : o.from) + ")", null, true);
    const tr = o.training;
    if (tr) row("training", "redid " + fmtDur(tr.lost_s) + " of work (" + fmtWords(tr.lost_tokens) + " tokens) over " + fmtWords(tr.interruptions) + " interruption(s); jobs down " + fmtDur(tr.down_s));
    for (const s of o.inference || [])
      row("service " + s.service, fmtWords(s.failed) + " requests failed, " + fmtWords(s.late) + " late, " + fmtWords(s.rerouted) + " rerouted of " + fmtWords(s.arrived) +
          (s.ttft_p99_s !== undefined ? "; TTFT p99 " + fmtDur(s.ttft_p99_s) + (s.service_ttft_p99_s !== undefined ? " (whole run " + fmtDur(s.service_ttft_p99_s) + ")" : "") : ""));
    if (!tr && !(o.inference || []).length) row("effect", "no training job or service was hit");
  }
  const c = A.outage_cost;
  if (c) {
    row("Cost of all outages", null, true);
    row("total", fmtUsdWords(c.total_usd));
    row("capacity paid while dark", fmtUsdWords((c.paid_idle_usd || 0) + (c.paid_failed_usd || 0)));
    row("training work lost", fmtUsdWords(c.lost_work_usd));
    row("SLO penalties", fmtUsdWords(c.slo_penalty_usd));
  }
  if ((A.services || []).length) {
    row("SLO attainment", null, true);
    for (const s of A.services)
      row(s.service, (s.slo_attainment !== undefined ? fmtPct(s.slo_attainment) + " of requests met the SLO" : "–") + (s.target !== undefined ? " (target " + fmtPct(s.target) + ")" : "") +
          (s.ttft_p99_s !== undefined ? "; TTFT p99 " + fmtDur(s.ttft_p99_s) : "") + (s.e2e_p99_s !== undefined ? ", end-to-end p99 " + fmtDur(s.e2e_p99_s) : ""));
  }
  if (!n) { markEmpty(sec, "no scheduled outages and no inference services in this run"); return; }
  sec.querySelector(".body").appendChild(t);
  sec.dataset.points = String(n);
}

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
    add("tokens trained", fmtWords(j.tokens_trained) + (j.tokens_target ? " of " + fmtWords(j.tokens_target) + " (" + fmtPct(j.tokens_trained / j.tokens_target) + ")" : ""));
    add("state", j.state); add("GPUs", j.gpus); add("ETTR", fmtPct(j.ettr)); add("goodput", fmtPct(j.goodput));
    add("MFU (effective)", fmtPct(j.mfu_effective)); add("interruptions", j.interruptions);
    add("lost work", j.lost_s !== undefined ? fmtDur(j.lost_s) : undefined);
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
    // Keys in words with their unit taken off ("total_usd" -> "total"), values in words with units.
    const label = k => k.replace(/_(usd|mwh|kwh|s|hours?)$/, "").replace(/^usd_per_/, "per ").replace(/_/g, " ");
    const value = (k, v) => {
      if (typeof v !== "number") {
        if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return v.slice(0, 10);  // a date is enough
        return String(v);
      }
      if (k === "usd" || k.endsWith("_usd") || k.startsWith("usd_per")) return fmtUsdWords(v);
      if (k.endsWith("_mwh")) return fmtEnergy(v);
      if (k.endsWith("gpu_hours") || k.endsWith("_hours")) return fmtWords(v) + " GPU-hours";
      if (k.endsWith("_fraction") || k === "utilization") return fmtPct(v);
      return fmtWords(v);
    };
    const walk = (o, prefix, depth) => {
      for (const [k, v] of Object.entries(o)) {
        if (v !== null && typeof v === "object") { if (depth < 2) walk(v, prefix + label(k) + ": ", depth + 1); }
        else add(prefix + label(k), v === null ? "never" : value(k, v));
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
    if (name === "answers") { answersTable(sec); continue; }
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
