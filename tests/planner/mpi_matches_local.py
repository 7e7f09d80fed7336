#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`mpirun -np 2 fleetsim plan` finds the same plan as `fleetsim plan -j 1`, with both ranks running.

Usage: mpi_matches_local.py FLEETSIM MPIEXEC SOURCE_DIR

Every rank runs the same search and its share of each batch of runs (a candidate's seeds and
variants, or a step's probes); the results are exchanged, so candidates.csv (every run, in order) must be byte-identical
to the local search's, and plan.json identical except for wall-clock fields. MPI stays on this
machine, as in tests/sweep/mpi_matches_local.py.
"""
import filecmp
import json
import os
import subprocess
import sys
import tempfile

PLAN = {
    "variables": [{"name": "replicas", "pointer": "/inference/services/0/regions/0/replicas",
                   "integer": [1, 64], "monotone": "helps"}],
    "constraints": [{"metric": "/inference/chat/slo_attainment", "at_least": 0.99}],
    "objective": {"minimize": "/cost/usd_per_million_tokens/services/chat"},
    "seeds": {"min": 2, "max": 4},
    # Two probes per bisection step: a batch holds runs of two candidates, split between the ranks.
    "probes": 2,
}


def plan(launcher, plan_path, out, extra, env=None):
    args = launcher + ["plan", "scenarios/plans/inference-shape.json", plan_path, "-o", out] + extra
    r = subprocess.run(args, cwd=source, env=env, capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def without_clock(path):
    doc = json.load(open(path))
    for key in ("wall_s", "wall_seconds", "command_line", "started", "finished"):
        doc.pop(key, None)
    return doc


fleetsim, mpiexec, source = sys.argv[1:4]
with tempfile.TemporaryDirectory(prefix="fleetsim-plan-mpi-") as tmp:
    plan_path = os.path.join(tmp, "plan.json")
    with open(plan_path, "w") as f:
        json.dump(PLAN, f)
    local, mpi = os.path.join(tmp, "local"), os.path.join(tmp, "mpi")
    plan([fleetsim], plan_path, local, ["-j", "1", "--quiet"])
    env = dict(os.environ, OMPI_MCA_plm="isolated", OMPI_MCA_btl="self,vader", OMPI_MCA_pml="ob1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    launcher = [mpiexec, "-np", "2", "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        launcher.insert(1, "--allow-run-as-root")
    r = plan(launcher + [fleetsim], plan_path, mpi, [], env)
    # Both ranks simulated a share of the runs.
    shares = {}
    for line in r.stderr.splitlines():
        if line.startswith("[plan rank "):
            words = line.split()
            shares[int(words[2].rstrip("]"))] = (int(words[4]), int(words[-2]))
    if sorted(shares) != [0, 1] or any(mine == 0 for mine, _ in shares.values()) or \
            sum(mine for mine, _ in shares.values()) != shares[0][1]:
        sys.exit(f"FAIL: the ranks did not share the runs: {shares}\n{r.stderr}")
    if not filecmp.cmp(os.path.join(local, "candidates.csv"), os.path.join(mpi, "candidates.csv"), shallow=False):
        sys.exit("FAIL: candidates.csv differs between -j 1 and mpirun -np 2")
    if without_clock(os.path.join(local, "plan.json")) != without_clock(os.path.join(mpi, "plan.json")):
        sys.exit("FAIL: plan.json differs between -j 1 and mpirun -np 2")
    if not filecmp.cmp(os.path.join(local, "best-scenario.json"), os.path.join(mpi, "best-scenario.json"), shallow=False):
        sys.exit("FAIL: best-scenario.json differs")
    print(f"ok: same plan and runs; shares {shares}")
print("ok")
