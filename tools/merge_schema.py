#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Merges the per-model schema fragments into scenarios/schema/scenario.schema.json.

Each model's loader keeps its part of the schema next to the others in
scenarios/schema/<model>.schema.fragment.json ({"properties": {...}, "definitions": {...}}); the
editor-facing scenario.schema.json is one file, so this script copies every fragment's properties and
definitions into it (replacing what was there under the same names). Run it after editing a
fragment; tests/scenarios_check.py fails while the merged file is out of date.

usage: tools/merge_schema.py [--check]
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "scenarios" / "schema" / "scenario.schema.json"


def merged() -> str:
    schema = json.loads(SCHEMA.read_text())
    for frag_path in sorted(SCHEMA.parent.glob("*.schema.fragment.json")):
        frag = json.loads(frag_path.read_text())
        schema.setdefault("properties", {}).update(frag.get("properties", {}))
        schema.setdefault("definitions", {}).update(frag.get("definitions", {}))
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    text = merged()
    if "--check" in sys.argv[1:]:
        if SCHEMA.read_text() != text:
            print("scenario.schema.json is out of date: run tools/merge_schema.py")
            return 1
        return 0
    SCHEMA.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
