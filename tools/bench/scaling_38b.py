#!/usr/bin/env python3
"""CPU scaling of the 38B flagship (scenarios/openai-aws-38b.json) in fleet size and simulated years.

    tools/bench/scaling_38b.py build/release/fleetsim [--sizes 0.25,0.5,1] [--years 2,4,7] [--repeat 3]

Fleet size: every count that scales with the fleet is multiplied by a factor f (racks per datacenter,
GPUs added by each ramp, each training job's data-parallel degree and global batch, its hot spares,
inference replicas and arrival rate), so a job's step time and the per-GPU failure rates stay the
same and the work per GPU is unchanged. Years: the horizon is cut to N years (the ramp ends in the
first). Each variant runs without outputs that cost more than the simulation (`-q --no-report`), and
its CPU time is the child's user + system time (median of --repeat runs). The exponents are the
least-squares slopes of log(CPU) against log(f) and log(years); the marginal cost per year is the
slope of CPU against years. Prints one JSON line. docs/PERFORMANCE.md, "Scaling of the 38B flagship".
"""
import argparse
import copy
import datetime
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def scaled(base, f, years):
    s = copy.deepcopy(base)
    for region in s["fleet"]["regions"]:
        for zone in region["zones"]:
            for dc in zone["datacenters"]:
                dc["racks"] = max(1, round(dc["racks"] * f))
    for ramp in s["fleet"].get("ramps", []):
        ramp["add_gpus"] = max(72, round(ramp["add_gpus"] * f / 72) * 72)
    for job in s["training"]["jobs"]:
        p = job["parallelism"]
        dp = max(1, round(p["dp"] * f))
        job["global_batch_tokens"] = job["global_batch_tokens"] * dp // p["dp"]
        p["dp"] = dp
        job["gpus"] = p["tp"] * p["pp"] * dp
        rec = job.get("recovery", {})
        if "hot_spares" in rec:
            rec["hot_spares"] = max(0, round(rec["hot_spares"] * f))
    for svc in s.get("inference", {}).get("services", []):
        for r in svc["regions"]:
            r["replicas"] = max(1, round(r["replicas"] * f))
        value, unit = svc["arrivals"]["rate"].split(" ", 1)
        svc["arrivals"]["rate"] = f"{float(value) * f:g} {unit}"
    if years is not None:
        days = round(365 * years)
        s["horizon"] = f"{days}d"
        # Outages and ramps must fall within the run: drop those after the shortened horizon.
        end = (datetime.date.fromisoformat(s["start"][:10]) + datetime.timedelta(days=days)).isoformat()
        s["failures"]["outages"] = [o for o in s["failures"].get("outages", []) if o["from"][:10] < end]
        s["fleet"]["ramps"] = [r for r in s["fleet"].get("ramps", []) if r["at"][:10] < end]
    return s


def cpu_of_run(fleetsim, scenario, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([fleetsim, "run", scenario, "-o", out, "--force", "-q", "--no-report"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def slope(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fleetsim")
    ap.add_argument("--sizes", default="0.25,0.5,1")
    ap.add_argument("--years", default="2,4,7")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    base = json.load(open(os.path.join(ROOT, "scenarios", "openai-aws-38b.json")))
    sizes = [float(x) for x in a.sizes.split(",")]
    years = [float(x) for x in a.years.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        def measure(f, y):
            path = os.path.join(tmp, f"s-{f}-{y}.json")
            with open(path, "w") as out:
                json.dump(scaled(base, f, y), out)
            return statistics.median(cpu_of_run(a.fleetsim, path, os.path.join(tmp, "out")) for _ in range(a.repeat))
        by_size = {f: measure(f, None) for f in sizes}
        by_year = {y: measure(1.0, y) for y in years}
    result = {
        "bench": "scaling_38b",
        "cpu_s_by_fleet_factor": by_size,
        "cpu_s_by_years": by_year,
        "fleet_exponent": round(slope([math.log(f) for f in sizes], [math.log(by_size[f]) for f in sizes]), 3),
        "year_exponent": round(slope([math.log(y) for y in years], [math.log(by_year[y]) for y in years]), 3),
        "cpu_s_per_year": round(slope(years, [by_year[y] for y in years]), 3),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
