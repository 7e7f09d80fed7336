#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""`mpirun -np 2 fleetsim sweep` on this machine gives byte for byte the local sweep (-j 1 and -j 2).

Usage: mpi_matches_local.py FLEETSIM MPIEXEC SOURCE_DIR

Runs one small sweep three ways (-j 1, -j 2, mpirun -np 2) and compares every file: runs.csv,
cells.csv, sweep.json and each run's outputs, except manifest.json (wall time, host, command line).
MPI stays on this machine: local launch only (plm isolated: no ssh), shared memory and loopback
(btl self,vader; pml ob1), oversubscribed so two ranks start on any core count, and
--allow-run-as-root when root (CI containers are).
"""
import filecmp
import os
import subprocess
import sys
import tempfile


def sweep(launcher, out, extra, env=None):
    args = launcher + ["sweep", os.path.join(source, "tests/data/sweep-small.json"),
                       "--param", "/training/jobs/0/recovery/hot_spares=0,16",
                       "--param", "/horizon=2d,3d", "--repeat", "3", "-o", out] + extra
    r = subprocess.run(args, cwd=source, env=env, capture_output=True, text=True, timeout=240)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def files(root):
    out = []
    for d, _, names in os.walk(root):
        out += [os.path.relpath(os.path.join(d, n), root) for n in names if n != "manifest.json"]
    return sorted(out)


def same(a, b, what):
    fa, fb = files(a), files(b)
    if fa != fb:
        sys.exit(f"FAIL: {what}: different files:\n{sorted(set(fa) ^ set(fb))}")
    for f in fa:
        if not filecmp.cmp(os.path.join(a, f), os.path.join(b, f), shallow=False):
            sys.exit(f"FAIL: {what}: {f} differs")
    print(f"ok: {what}: {len(fa)} files identical")


fleetsim, mpiexec, source = sys.argv[1:4]
with tempfile.TemporaryDirectory(prefix="fleetsim-sweep-mpi-") as tmp:
    j1, j2, mpi = (os.path.join(tmp, n) for n in ("j1", "j2", "mpi"))
    sweep([fleetsim], j1, ["-j", "1", "--quiet"])
    sweep([fleetsim], j2, ["-j", "2", "--quiet"])
    same(j1, j2, "-j 2 vs -j 1")
    env = dict(os.environ, OMPI_MCA_plm="isolated", OMPI_MCA_btl="self,vader", OMPI_MCA_pml="ob1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    # Under the asan preset: Open MPI keeps allocations past MPI_Finalize, which LeakSanitizer would
    # report as leaks of fleetsim (and fail the run); address errors are still reported.
    env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    launcher = [mpiexec, "-np", "2", "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        launcher.insert(1, "--allow-run-as-root")
    r = sweep(launcher + [fleetsim], mpi, [], env)
    # Both ranks ran their share (runs i % 2 == rank: six each), not one rank everything.
    for rank in (0, 1):
        done = r.stderr.count(f"[sweep rank {rank}]")
        if done != 6:
            sys.exit(f"FAIL: rank {rank} reported {done} runs, expected 6\n{r.stderr}")
    same(j1, mpi, "mpirun -np 2 vs local -j 1")
print("ok")
