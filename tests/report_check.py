#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""report.html in a real browser: runs the quickstart, opens its report in headless Chromium and checks
that every chart drew data (the page marks each <section data-chart> with data-points once drawn), that
the cost chart says so gracefully when the run has no cost model, and draws spend against plan from a
hand-made cost.csv (tests/data/report/cost.csv) when it has one. Also: the page needs no network,
stays small, and `fleetsim report` on a directory that is not a run exits 66.

Usage: report_check.py FLEETSIM SOURCE_DIR
Exit 0 pass, 1 fail, 77 skip (no chromium on PATH; CI installs it, see tools/install-deps.sh)."""
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
CHARTS = ["utilization", "cost", "training", "latency", "slo", "timeline", "summary"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def rendered_sections(chromium, page, profile):
    """The attributes of every <section data-chart> after the page's script ran, and the DOM text."""
    out = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--user-data-dir=" + profile, "--virtual-time-budget=10000", "--dump-dom", "file://" + page],
        capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        failures.append("chromium exited %d: %s" % (out.returncode, out.stderr[-2000:]))
        return {}, ""
    sections = {}
    for tag in re.findall(r"<section\b[^>]*>", out.stdout):
        attrs = {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}
        if "data-chart" in attrs:
            sections[attrs["data-chart"]] = attrs
    check('data-rendered="true"' in out.stdout, page + ": the page script ran to the end")
    return sections, out.stdout


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    fleetsim, source = sys.argv[1], sys.argv[2]
    chromium = browser()
    if not chromium:
        print("SKIP: no chromium on PATH (apt-get install chromium)")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="fleetsim-report-") as tmp:
        run = os.path.join(tmp, "quickstart")
        r = subprocess.run([fleetsim, "run", os.path.join(source, "scenarios", "quickstart.json"), "-o", run, "-q"],
                           capture_output=True, text=True)
        check(r.returncode == 0, "fleetsim run quickstart exits 0 (%d: %s)" % (r.returncode, r.stderr))
        page = os.path.join(run, "report.html")
        check(os.path.exists(page), "fleetsim run writes report.html by default")
        if not os.path.exists(page):
            return 1
        text = open(page, encoding="utf-8").read()
        # Self-contained: no external scripts, styles, images or fonts (the SVG namespace string is not a fetch).
        check(not re.search(r"""(src|href)\s*=|<link\b|url\(|@import""", text), "report.html loads nothing from elsewhere")
        check(len(text) < 1_000_000, "report.html stays under 1 MB (%d bytes)" % len(text))

        profile = os.path.join(tmp, "profile")
        has_cost = os.path.exists(os.path.join(run, "cost.csv"))
        sections, _ = rendered_sections(chromium, page, profile)
        for chart in CHARTS:
            s = sections.get(chart)
            check(s is not None, chart + ": section present")
            if s is None:
                continue
            check("data-error" not in s, chart + ": drew without a script error (%s)" % s.get("data-error"))
            if chart == "cost" and not has_cost:
                check(s.get("data-points") == "0" and s.get("data-empty") == "no cost model in this run",
                      "cost: says 'no cost model in this run' (%s)" % s)
            else:
                check(int(s.get("data-points", "0")) > 0, chart + ": drew data (%s)" % s)

        # Without a cost model's table: the cost chart says so.
        run_nocost = os.path.join(tmp, "without-cost")
        shutil.copytree(run, run_nocost)
        if has_cost:
            os.remove(os.path.join(run_nocost, "cost.csv"))
        r = subprocess.run([fleetsim, "report", run_nocost, "-q"], capture_output=True, text=True)
        check(r.returncode == 0, "fleetsim report exits 0 (%d: %s)" % (r.returncode, r.stderr))
        sections, _ = rendered_sections(chromium, os.path.join(run_nocost, "report.html"), profile)
        cost = sections.get("cost", {})
        check(cost.get("data-points") == "0" and cost.get("data-empty") == "no cost model in this run",
              "cost: says 'no cost model in this run' without cost.csv (%s)" % cost)
        usable_series = sections.get("utilization", {}).get("data-series", "0")

        # With a cost model's table (hand-made fixture): spend against plan, and busy GPUs join utilization.
        run_cost = os.path.join(tmp, "with-cost")
        shutil.copytree(run_nocost, run_cost)
        os.remove(os.path.join(run_cost, "report.html"))
        shutil.copy(os.path.join(source, "tests", "data", "report", "cost.csv"), run_cost)
        r = subprocess.run([fleetsim, "report", run_cost], capture_output=True, text=True)
        check(r.returncode == 0, "fleetsim report exits 0 (%d: %s)" % (r.returncode, r.stderr))
        sections, dom = rendered_sections(chromium, os.path.join(run_cost, "report.html"), profile)
        cost = sections.get("cost", {})
        check(int(cost.get("data-points", "0")) == 8, "cost: 4 spend + 4 plan points (%s)" % cost)
        check(cost.get("data-series") == "2", "cost: spend and plan series (%s)" % cost)
        # 7,768,382.4 + 9,231,268.8 + 3,884,198.4 summed; the fleet-wide plan counted once.
        check("spent $20.9M, plan $24.8M (under by $3.92M)" in dom, "cost: end-of-run spend and plan figures")
        util = sections.get("utilization", {})
        check(usable_series == "3" and util.get("data-series") == "6",
              "utilization: 3 usable series, and 3 busy ones with cost.csv (%s, %s)" % (usable_series, util))

        # Many jobs, decades apart (hand-made training.csv): one line per name, on a logarithmic axis.
        run_jobs = os.path.join(tmp, "many-jobs")
        shutil.copytree(run_nocost, run_jobs)
        os.remove(os.path.join(run_jobs, "report.html"))
        with open(os.path.join(run_jobs, "training.csv"), "w", encoding="utf-8") as f:
            f.write("time_ns,job,tokens_committed\n")
            for j in range(1, 15):
                for d in range(1, 4):
                    f.write("%d,research-%02d,%g\n" % (d * 86400 * 10**9, j, d * 1e9))
            f.write("%d,run-1,%g\n%d,run-1,%g\n" % (86400 * 10**9, 1e12, 3 * 86400 * 10**9, 4e13))
        r = subprocess.run([fleetsim, "report", run_jobs, "-q"], capture_output=True, text=True)
        check(r.returncode == 0, "fleetsim report exits 0 (%d: %s)" % (r.returncode, r.stderr))
        sections, dom = rendered_sections(chromium, os.path.join(run_jobs, "report.html"), profile)
        training = sections.get("training", {})
        check("data-error" not in training, "training: drew many jobs without a script error (%s)" % training)
        check(training.get("data-series") == "2" and int(training.get("data-points", "0")) == 5,
              "training: 15 jobs drawn as 2 lines of 3 and 2 points (%s)" % training)
        check("logarithmic axis" in dom and "research (14 jobs)" in dom,
              "training: says it sums by name and uses a logarithmic axis")

        # Not a run directory: exit 66 (EX_NOINPUT), no page written.
        empty = os.path.join(tmp, "empty")
        os.mkdir(empty)
        r = subprocess.run([fleetsim, "report", empty], capture_output=True, text=True)
        check(r.returncode == 66, "fleetsim report on a directory without summary.json exits 66 (%d)" % r.returncode)
        check("summary.json" in r.stderr, "the error names summary.json")
        check(not os.path.exists(os.path.join(empty, "report.html")), "and writes no report.html")

        # --no-report leaves it out.
        no = os.path.join(tmp, "no-report")
        r = subprocess.run([fleetsim, "run", os.path.join(source, "scenarios", "quickstart.json"), "-o", no, "-q",
                            "--no-report"], capture_output=True, text=True)
        check(r.returncode == 0 and not os.path.exists(os.path.join(no, "report.html")), "--no-report writes no page")
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("report.html: every chart rendered in %s" % chromium)
    return 0


if __name__ == "__main__":
    sys.exit(main())
