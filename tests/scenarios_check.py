#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Keeps the JSON Schema and the C++ loader in step.

Every shipped scenario (scenarios/**/*.json except the schema and the catalogs) must validate against
scenarios/schema/scenario.schema.json AND pass `fleetsim validate`. The schema itself must be a valid
draft-07 schema, `fleetsim schema` must print exactly the shipped file, and every property (and every
pattern property) in it must carry a "description", which editors show while completing a key.

usage: scenarios_check.py FLEETSIM_EXE PROJECT_DIR
"""
import json
import pathlib
import subprocess
import sys

import jsonschema


def undescribed(node, pointer=""):
    """JSON pointers of the schema's properties and pattern properties that have no "description"."""
    out = []
    if isinstance(node, dict):
        for group in ("properties", "patternProperties"):
            for key, sub in (node.get(group) or {}).items():
                if not isinstance(sub, dict) or not isinstance(sub.get("description"), str) \
                        or not sub["description"].strip():
                    out.append(f"{pointer}/{group}/{key}")
        for key, sub in node.items():
            out += undescribed(sub, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            out += undescribed(sub, f"{pointer}/{i}")
    return out


def main() -> int:
    exe, root = sys.argv[1], pathlib.Path(sys.argv[2])
    schema_path = root / "scenarios" / "schema" / "scenario.schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)

    merge = subprocess.run([sys.executable, str(root / "tools" / "merge_schema.py"), "--check"],
                           capture_output=True, text=True)
    if merge.returncode != 0:
        print("FAIL: " + merge.stdout.strip())
        return 1

    missing = undescribed(schema)
    for pointer in missing:
        print(f"FAIL schema: {pointer} has no description (tools/merge_schema.py merges it from its fragment)")
    if missing:
        return 1

    printed = subprocess.run([exe, "schema"], capture_output=True, text=True, check=True).stdout
    if json.loads(printed) != schema:
        print("FAIL: `fleetsim schema` differs from scenarios/schema/scenario.schema.json")
        return 1

    failures = 0
    scenarios = sorted(p for p in (root / "scenarios").rglob("*.json")
                       if p.parent.name not in ("schema", "catalog") and not p.name.endswith(".plan.json"))
    # Plan files (`fleetsim plan SCENARIO PLAN.json`, docs/planning.md) hold what a scenario's "plan"
    # block holds: checked against that part of the schema.
    plan_validator = jsonschema.Draft7Validator(dict(schema, **{"$ref": "#/properties/plan"}))
    for path in sorted((root / "scenarios").rglob("*.plan.json")):
        rel = path.relative_to(root)
        errors = list(plan_validator.iter_errors(json.loads(path.read_text())))
        for err in errors:
            print(f"FAIL schema: {rel}: /" + "/".join(str(p) for p in err.path) + f": {err.message}")
        failures += len(errors)
        if not errors:
            print(f"ok   {rel} (plan)")
    if not scenarios:
        print("FAIL: no scenarios found")
        return 1
    for path in scenarios:
        rel = path.relative_to(root)
        errors = sorted(validator.iter_errors(json.loads(path.read_text())), key=lambda e: list(e.path))
        for err in errors:
            pointer = "/" + "/".join(str(p) for p in err.path)
            print(f"FAIL schema: {rel}: {pointer}: {err.message}")
        result = subprocess.run([exe, "validate", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            print(f"FAIL fleetsim validate {rel} (exit {result.returncode}):\n{result.stderr}")
        failures += len(errors) + (result.returncode != 0)
        if not errors and result.returncode == 0:
            print(f"ok   {rel}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
