#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs the fleetsim commands the documentation shows, so the docs cannot drift from the program.

From README.md and docs/*.md it takes every line of a fenced code block that starts with `fleetsim `
or `build/release/fleetsim ` (after an optional `$ ` prompt, with `\\` continuations joined) and runs
it with bash, in order, in a scratch directory per page that sees the repository's `scenarios/` and
`tests/` (so relative paths work as they do from a checkout) and where `fleetsim` and
`build/release/fleetsim` are the fleetsim under test. A command must exit 0.

An HTML comment on the line before a fence, invisible on the rendered page, changes that:

    <!-- docs-commands: skip REASON -->   the block is not run (a usage synopsis, a run of minutes,
                                          a file the reader makes, MPI); REASON is required
    <!-- docs-commands: exit N -->        every command of the block must exit N (an error shown)

In a transcript, a command followed by `$ echo $?` and a number must exit with that number.

It also checks that every `build/<dir>/` the pages name is a folder a CMake preset makes
(CMakePresets.json: build/<preset>) or one the same page creates with `-B build/<dir>`.

usage: docs_commands_check.py FLEETSIM_EXE PROJECT_DIR
"""
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

FENCE = re.compile(r"^```")
MARKER = re.compile(r"^<!--\s*docs-commands:\s*(skip|exit)\s*(.*?)\s*-->\s*$")
COMMAND = re.compile(r"^(\$ )?(build/release/fleetsim|fleetsim)( |$)")
BUILD_DIR = re.compile(r"(?<![\w./-])build/([A-Za-z0-9_.-]*[A-Za-z0-9_-])(?![A-Za-z0-9_.-])")
TIMEOUT_S = 120


def blocks(text):
    """(marker kind, marker value, first line number, lines) for every fenced block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            start = i + 1
            j = start
            while j < len(lines) and not FENCE.match(lines[j]):
                j += 1
            yield (marker.group(1) if marker else None, marker.group(2) if marker else None, start + 1,
                   lines[start:j])
            i = j + 1
        else:
            i += 1


def transcript_exit(block_lines, k):
    """In a transcript, the exit code it shows for the command ending at line k: `$ echo $?` as the
    next prompted line, followed by a number; None when it shows none."""
    for j in range(k + 1, len(block_lines) - 1):
        if block_lines[j].startswith("$ "):
            if block_lines[j].strip() == "$ echo $?" and block_lines[j + 1].strip().isdigit():
                return int(block_lines[j + 1].strip())
            return None
    return None


def commands(block_lines):
    """(line number offset, command, exit code shown or None) for the fleetsim commands of a block,
    continuations joined. In a transcript (a block with `$ ` prompts) only prompted lines are
    commands; the rest is output."""
    transcript = any(line.startswith("$ ") for line in block_lines)
    out = []
    k = 0
    while k < len(block_lines):
        line = block_lines[k].rstrip()
        first = k
        while line.endswith("\\") and k + 1 < len(block_lines):
            k += 1
            line = line[:-1].rstrip() + " " + block_lines[k].strip()
        m = COMMAND.match(line.strip())
        if m and (m.group(1) or not transcript):
            out.append((first, line.strip()[len(m.group(1) or ""):],
                        transcript_exit(block_lines, k) if transcript else None))
        k += 1
    return out


def preset_dirs(root):
    presets = json.loads((root / "CMakePresets.json").read_text())
    return {p["name"] for p in presets.get("configurePresets", []) if not p.get("hidden")}


def main() -> int:
    exe, root = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2]).resolve()
    pages = [root / "README.md"] + sorted((root / "docs").glob("*.md"))
    allowed = preset_dirs(root)
    failures = 0
    ran = skipped = 0
    started = time.monotonic()
    for page in pages:
        rel = page.relative_to(root)
        text = page.read_text()
        made_here = set(re.findall(r"-B\s+build/([A-Za-z0-9_.-]+)", text))
        for n, line in enumerate(text.split("\n"), 1):
            for d in BUILD_DIR.findall(line):
                if d not in allowed and d not in made_here:
                    print(f"FAIL {rel}:{n}: build/{d}/ is made by no CMake preset ({', '.join(sorted(allowed))}); "
                          f"use build/release/ as README.md does")
                    failures += 1
        todo = []
        for kind, value, first_line, body in blocks(text):
            found = commands(body)
            if not found:
                continue
            if kind == "skip":
                if not value:
                    print(f"FAIL {rel}:{first_line - 1}: docs-commands: skip needs a reason")
                    failures += 1
                skipped += len(found)
                continue
            expect = int(value) if kind == "exit" else 0
            todo += [(first_line + off, cmd, shown if shown is not None else expect) for off, cmd, shown in found]
        if not todo:
            continue
        with tempfile.TemporaryDirectory(prefix="fleetsim-docs-") as tmp:
            work = pathlib.Path(tmp)
            for name in ("scenarios", "tests"):
                (work / name).symlink_to(root / name)
            (work / "docs").mkdir()
            (work / "build" / "release").mkdir(parents=True)
            (work / "build" / "release" / "fleetsim").symlink_to(exe)
            (work / "bin").mkdir()
            (work / "bin" / "fleetsim").symlink_to(exe)
            env = dict(os.environ, PATH=f"{work / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
            for line_no, cmd, expect in todo:
                t0 = time.monotonic()
                try:
                    r = subprocess.run(["bash", "-c", cmd], cwd=work, env=env, capture_output=True, text=True,
                                       timeout=TIMEOUT_S)
                    code, err = r.returncode, r.stderr
                except subprocess.TimeoutExpired:
                    code, err = None, f"still running after {TIMEOUT_S} s: mark the block docs-commands: skip"
                ran += 1
                took = time.monotonic() - t0
                if code != expect:
                    print(f"FAIL {rel}:{line_no}: exit {code}, expected {expect}: {cmd}\n{err.strip()}")
                    failures += 1
                else:
                    print(f"ok   {rel}:{line_no} ({took:.1f} s): {' '.join(cmd.split()[:2])}")
    print(f"{ran} commands run, {skipped} in skipped blocks, {failures} failures, "
          f"{time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
