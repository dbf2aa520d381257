"""What an environment lacks compared with pip locks: run by path, inside that environment.

    <env python> -I verify_lock.py --version 0.1.0 LOCK [LOCK ...]

prints one line of JSON: ``{"locked": [...], "project": [...]}``, each a list of problems
("tqdm: want 4.70.1, have nothing"); both empty when the environment matches. ``locked``:
packages of the locks (those whose environment markers hold here); ``project``: the
transforemotion distribution itself, which must have ``--version``.

The installer runs this with the environment's own Python, before transforemotion may be
installed there, so it is a plain script, not part of the installer package it sits in. It
needs ``packaging`` (a dependency of transformers, so in every lock) to evaluate markers; without
it every lock counts as not installed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import metadata

ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_versions() -> dict:
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonical(name), dist.version)
    return found


def lock_problems(paths, installed) -> list:
    try:
        from packaging.markers import Marker
    except ImportError:
        return ["packaging is missing"]
    problems = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                m = ENTRY.match(line.rstrip("\n"))
                if not m:
                    continue
                name, version, marker = canonical(m.group(1)), m.group(2), m.group(3)
                if marker and not Marker(marker).evaluate():
                    continue
                if installed.get(name) != version:
                    problems.append(f"{name}: want {version}, have {installed.get(name, 'nothing')}")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", required=True, help="the transforemotion version wanted")
    parser.add_argument("locks", nargs="*", help="hash-locked requirement files")
    args = parser.parse_args(argv)
    installed = installed_versions()
    have = installed.get("transforemotion")
    project = [] if have == args.version else [
        f"transforemotion: want {args.version}, have {have or 'nothing'}"]
    print(json.dumps({"locked": lock_problems(args.locks, installed), "project": project}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
