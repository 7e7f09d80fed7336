#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails if any file of the repository names a path outside it (issue 20, item 9).

A figure's source must be readable from the project itself (docs/sources.md, a catalog entry's
`sources`, a scenario's `_sources`): a path on a developer's machine such as the shared reference
file or a home directory means nothing to a user. Usage: repo_paths_check.py REPO_ROOT.

Before scanning the repository it checks itself on a temporary tree holding one bad file, so a
scanner that finds nothing can not pass silently.
"""
import os
import re
import sys
import tempfile

# Built by concatenation so that this file does not match itself.
_W = "/" + "work/"
OUTSIDE = re.compile(
    "|".join(
        re.escape(p)
        for p in (_W, "../" + "shared", "shared/" + "reference", "/" + "home/", "/" + "Users/", "/" + "root/")
    )
)
SKIP_DIRS = {".git", ".cache", "__pycache__"}
TEXT_EXT = {".md", ".json", ".cpp", ".hpp", ".h", ".txt", ".py", ".sh", ".cmake", ".yml", ".yaml", ".toml", ".csv", ".html", ".js", ".css", ""}


def offending(root):
    hits = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS and not x.startswith("build"))
        for f in sorted(files):
            if f in SKIP_DIRS:  # a worktree's .git is a file naming the main checkout
                continue
            path = os.path.join(d, f)
            if os.path.splitext(f)[1] not in TEXT_EXT or os.path.islink(path):
                continue
            try:
                with open(path, encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        m = OUTSIDE.search(line)
                        if m:
                            hits.append(f"{os.path.relpath(path, root)}:{n}: names '{m.group(0)}', a path outside the repository")
            except (UnicodeDecodeError, OSError):
                continue
    return hits


def self_test():
    with tempfile.TemporaryDirectory() as t:
        with open(os.path.join(t, "good.md"), "w") as fh:
            fh.write("see docs/sources.md\n")
        if offending(t):
            return "self-test: a clean tree was reported"
        with open(os.path.join(t, "bad.json"), "w") as fh:
            fh.write('{"source": "' + _W + 'shared/' + 'reference/figures.json"}\n')
        if len(offending(t)) != 1:
            return "self-test: a file naming an outside path was not reported"
    return None


def main():
    if len(sys.argv) != 2:
        print("usage: repo_paths_check.py REPO_ROOT", file=sys.stderr)
        return 2
    err = self_test()
    if err:
        print(err, file=sys.stderr)
        return 1
    hits = offending(sys.argv[1])
    for h in hits:
        print(h, file=sys.stderr)
    if hits:
        print(f"{len(hits)} mention(s) of paths outside the repository: cite docs/sources.md or the source itself", file=sys.stderr)
        return 1
    print("no file names a path outside the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
