"""Helpers for scripts/lock-requirements.sh: cutting, relabelling and merging uv's locks.

    python scripts/lock_tools.py constraints LOCK             > constraints.txt
    python scripts/lock_tools.py layer ALL BASE               > layer.txt
    python scripts/lock_tools.py pytorch-build LOCK NAME LABEL PLATFORM SHA256 > out.txt
    python scripts/lock_tools.py pytorch-sha256 INDEX_URL NAME VERSION LABEL PLATFORM
    python scripts/lock_tools.py for-platform LOCK PLATFORM   > out.txt
    python scripts/lock_tools.py merge LOCK [LOCK ...]        > out.txt

Standard library only; reads locks with the installer's own reader (python/installer).
"""

from __future__ import annotations

import re
import sys
import urllib.request
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from installer.pip_locks import LockEntry, read_pip_lock  # noqa: E402

# The marker that selects one platform, in the words of platforms.platform_key().
PLATFORM_MARKERS = {
    "linux-x86_64": "sys_platform == 'linux' and platform_machine == 'x86_64'",
    "windows-amd64": "sys_platform == 'win32'",
    "macos-arm64": "sys_platform == 'darwin'",
}
WHEEL_TAGS = {"linux-x86_64": r"manylinux[^\"#]*_x86_64", "windows-amd64": r"win_amd64",
              "macos-arm64": r"macosx[^\"#]*_arm64"}


def render(entry_line: str, hashes: Sequence[str]) -> str:
    lines = [entry_line + " \\"]
    for i, h in enumerate(hashes):
        lines.append(f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else ""))
    return "\n".join(lines)


def requirement(entry: LockEntry, version: str = "", marker: str = "") -> str:
    marker = marker if marker else (entry.marker or "")
    return f"{entry.name}=={version or entry.version}" + (f" ; {marker}" if marker else "")


def constraints(lock: Path) -> str:
    """``name==version ; marker`` for every entry: pins for a resolution on top of this lock."""
    return "".join(requirement(e) + "\n" for e in read_pip_lock(lock).entries)


def layer(everything: Path, base: Path) -> str:
    """The entries of ``everything`` whose name and version the base lock lacks."""
    have = {(e.name, e.version) for e in read_pip_lock(base).entries}
    return "".join(e.text + "\n" for e in read_pip_lock(everything).entries
                   if (e.name, e.version) not in have)


def _and(marker: str, extra: str) -> str:
    return f"({marker}) and ({extra})" if marker else extra


def pytorch_build(lock: Path, name: str, label: str, platform: str, sha256: str) -> str:
    """Give ``platform`` PyTorch's own build of ``name`` (``0.28.0+cpu``): the PyPI entry keeps
    the other platforms, a new entry pins the build by ``sha256``."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise SystemExit(f"not a sha256: {sha256!r}")
    here = PLATFORM_MARKERS[platform]
    out = []
    for e in read_pip_lock(lock).entries:
        if e.name != name:
            out.append(e.text)
            continue
        public = e.version.partition("+")[0]
        others = _and(e.marker or "", _not_platform(platform))
        out.append(render(requirement(e, marker=others), e.hashes))
        out.append(render(requirement(e, version=f"{public}+{label}", marker=_and(e.marker or "", here)),
                          [sha256]))
    return "\n".join(out) + "\n"


def _not_platform(platform: str) -> str:
    # PEP 508 markers have no "not": the negation spelled out
    return {"linux-x86_64": "sys_platform != 'linux' or platform_machine != 'x86_64'",
            "windows-amd64": "sys_platform != 'win32'",
            "macos-arm64": "sys_platform != 'darwin'"}[platform]


def pytorch_sha256(index: str, name: str, version: str, label: str, platform: str) -> str:
    """The sha256 PyTorch's index publishes for a cp311 wheel of ``name==version+label``."""
    url = f"{index.rstrip('/')}/{label}/{name}/"
    with urllib.request.urlopen(url, timeout=60) as resp:
        page = resp.read().decode("utf-8", "replace")
    pattern = (rf"{re.escape(name)}-{re.escape(version)}(?:%2B|\+){re.escape(label)}-cp311-cp311-"
               rf"{WHEEL_TAGS[platform]}\.whl#sha256=([0-9a-f]{{64}})")
    found = sorted(set(re.findall(pattern, page)))
    if len(found) != 1:
        raise SystemExit(f"{url}: expected one {name} {version}+{label} cp311 {platform} wheel, "
                         f"found {len(found)}")
    return found[0]


def for_platform(lock: Path, platform: str) -> str:
    """A single-platform resolution (no markers), every entry marked for ``platform``."""
    here = PLATFORM_MARKERS[platform]
    return "\n".join(render(requirement(e, marker=_and(e.marker or "", here)), e.hashes)
                     for e in read_pip_lock(lock).entries) + "\n"


def merge(locks: Sequence[Path]) -> str:
    """One lock from several: entries with the same name and version become one, their
    markers joined with ``or`` and their hashes pooled."""
    merged: Dict[Tuple[str, str], Tuple[List[str], List[str]]] = {}
    for lock in locks:
        for e in read_pip_lock(lock).entries:
            markers, hashes = merged.setdefault((e.name, e.version), ([], []))
            markers.append(e.marker or "")
            hashes += [h for h in e.hashes if h not in hashes]
    out = []
    for (name, version), (markers, hashes) in sorted(merged.items()):
        marker = "" if "" in markers else " or ".join(f"({m})" for m in markers) if len(markers) > 1 \
            else markers[0]
        out.append(render(f"{name}=={version}" + (f" ; {marker}" if marker else ""), sorted(hashes)))
    return "\n".join(out) + "\n"


def main(argv: Sequence[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "constraints":
        sys.stdout.write(constraints(Path(args[0])))
    elif cmd == "layer":
        sys.stdout.write(layer(Path(args[0]), Path(args[1])))
    elif cmd == "pytorch-build":
        sys.stdout.write(pytorch_build(Path(args[0]), args[1], args[2], args[3], args[4]))
    elif cmd == "pytorch-sha256":
        print(pytorch_sha256(*args))
    elif cmd == "for-platform":
        sys.stdout.write(for_platform(Path(args[0]), args[1]))
    elif cmd == "merge":
        sys.stdout.write(merge([Path(a) for a in args]))
    else:
        print(f"unknown command {cmd!r}\n{__doc__}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
