"""conda-lock.yml and environment.yml, read without a YAML library (standard library only)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

__all__ = ["LockedPackage", "read_conda_lock", "render_lock", "filter_environment"]

JINA_TAG = "# jina layer"  # environment.yml lines of the [jina] extra end with this


@dataclass
class LockedPackage:
    name: str
    version: str
    manager: str
    platform: str
    url: str
    hash: Dict[str, str] = field(default_factory=dict)
    category: str = "main"
    optional: bool = False


def _scalar(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return json.loads(text)
    return text


def read_conda_lock(path: Path) -> List[LockedPackage]:
    """Read the ``package:`` list of a conda-lock.yml (format version 1).

    This reads the block-style YAML that conda-lock writes: a top-level ``package:`` list whose
    items are mappings of scalars, with ``hash:`` a nested mapping and ``dependencies:``
    (ignored) another. Items may be indented or not under ``package:``; scalars may be plain,
    single- or double-quoted.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    version = next((_scalar(x.split(":", 1)[1]) for x in lines if x.startswith("version:")), None)
    if version not in (None, "1"):
        raise ValueError(f"{path}: conda-lock format version {version}; this installer reads version 1")
    packages: List[dict] = []
    in_packages, item, item_indent, sub = False, None, 0, None
    for raw in lines:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        text = raw.strip()
        if indent == 0 and not text.startswith("- "):
            in_packages = text.startswith("package:")
            item = None
            continue
        if not in_packages:
            continue
        if text.startswith("- ") and (item is None or indent <= item_indent - 2):
            item = {"hash": {}}
            packages.append(item)
            item_indent, sub = indent + 2, None
            text = text[2:].strip()
            indent = item_indent
        if item is None:
            continue
        if indent == item_indent:
            key, _, value = text.partition(":")
            value = value.strip()
            if value in ("", "{}", "[]"):
                sub = key if value == "" else None
            else:
                item[key] = _scalar(value)
                sub = None
        elif indent > item_indent and sub == "hash":
            key, _, value = text.partition(":")
            item["hash"][key.strip()] = _scalar(value)
    result = []
    for p in packages:
        missing = [k for k in ("name", "version", "manager", "platform", "url") if k not in p]
        if missing:
            raise ValueError(f"{path}: a package entry lacks {', '.join(missing)}: {p}")
        result.append(LockedPackage(
            name=p["name"], version=p["version"], manager=p["manager"], platform=p["platform"],
            url=p["url"], hash=p["hash"], category=p.get("category", "main"),
            optional=str(p.get("optional", "false")).lower() == "true"))
    return result


def render_lock(packages: List[LockedPackage], subdir: str) -> Tuple[str, str]:
    """(explicit conda file text, pip requirements text) for one platform's main packages."""
    chosen = [p for p in packages if p.platform == subdir and not p.optional]
    conda = ["# generated from conda-lock.yml for " + subdir, "@EXPLICIT"]
    pip = []
    for p in chosen:
        if p.manager == "conda":
            md5 = p.hash.get("md5")
            conda.append(f"{p.url}#{md5}" if md5 else p.url)
        elif p.manager == "pip":
            sha = p.hash.get("sha256")
            pip.append(f"{p.name} @ {p.url}" + (f" --hash=sha256:{sha}" if sha else ""))
    return "\n".join(conda) + "\n", ("\n".join(pip) + "\n") if pip else ""


_SELECTOR_NAMES = {
    "linux-64": {"linux", "linux64", "unix"}, "linux-aarch64": {"linux", "aarch64", "unix"},
    "osx-64": {"osx", "osx64", "unix"}, "osx-arm64": {"osx", "arm64", "unix"},
    "win-64": {"win", "win64"},
}


def filter_environment(env_yml: str, subdir: str, jina: bool = True) -> str:
    """environment.yml for one subdir: apply conda-lock's one-name platform selectors
    (``- pkg  # [linux64]``), and leave out the jina layer's lines when ``jina`` is false."""
    names = _SELECTOR_NAMES.get(subdir, set())
    out = []
    for line in env_yml.splitlines():
        if not line.lstrip().startswith("#"):
            m = re.search(r"#\s*\[\s*([A-Za-z0-9_]+)\s*\]\s*$", line)
            if m and m.group(1) not in names:
                continue
            if not jina and line.rstrip().endswith(JINA_TAG):
                continue
        out.append(line)
    return "\n".join(out) + "\n"
