"""Environment markers (PEP 508) for a platform the installer may not be running on.

The locks carry markers such as ``platform_machine == 'x86_64' and sys_platform == 'linux'``.
pip evaluates them at install time; the installer needs the same answer earlier, to plan which
entries come from PyTorch's own index, and it may not import ``packaging``. This evaluates the
marker grammar uv writes: comparisons of a variable with a quoted string, ``and``, ``or`` and
parentheses. Versions compare as numbers (``3.9 < 3.12``).
"""

from __future__ import annotations

import re
from typing import Dict, List

__all__ = ["marker_environment", "evaluate_marker"]

_PLATFORMS = {
    "linux-x86_64": ("linux", "x86_64", "Linux", "posix"),
    "linux-aarch64": ("linux", "aarch64", "Linux", "posix"),
    "macos-arm64": ("darwin", "arm64", "Darwin", "posix"),
    "macos-x86_64": ("darwin", "x86_64", "Darwin", "posix"),
    "windows-amd64": ("win32", "AMD64", "Windows", "nt"),
}
_TOKEN = re.compile(r"\s*(\(|\)|==|!=|<=|>=|<|>|~=|'[^']*'|\"[^\"]*\"|[A-Za-z_][A-Za-z0-9_.]*)")


def marker_environment(where: str, python_full_version: str) -> Dict[str, str]:
    """The marker variables of a platform (``linux-x86_64`` ...) and Python (``3.11.9``)."""
    sys_platform, machine, system, os_name = _PLATFORMS[where]
    return {"sys_platform": sys_platform, "platform_machine": machine, "platform_system": system,
            "os_name": os_name, "python_full_version": python_full_version,
            "python_version": ".".join(python_full_version.split(".")[:2]),
            "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def _version(text: str):
    return tuple(int(p) for p in text.split(".")) if re.fullmatch(r"\d+(\.\d+)*", text) else None


def _compare(left: str, op: str, right: str) -> bool:
    lv, rv = _version(left), _version(right)
    if lv is not None and rv is not None:
        width = max(len(lv), len(rv))
        a, b = lv + (0,) * (width - len(lv)), rv + (0,) * (width - len(rv))
    elif op in ("==", "!="):
        a, b = left, right
    else:
        raise ValueError(f"cannot order {left!r} and {right!r}")
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def evaluate_marker(marker: str, env: Dict[str, str]) -> bool:
    """Whether ``marker`` holds in ``env``. Raises ValueError for grammar it does not know."""
    tokens: List[str] = []
    pos = 0
    marker = marker.strip()
    while pos < len(marker):
        m = _TOKEN.match(marker, pos)
        if not m:
            raise ValueError(f"cannot read marker {marker!r} at {marker[pos:]!r}")
        tokens.append(m.group(1))
        pos = m.end()
    tokens.append("")  # end

    def value(tok: str) -> str:
        if tok[:1] in "'\"":
            return tok[1:-1]
        if tok in env:
            return env[tok]
        raise ValueError(f"unknown marker variable {tok!r}")

    def atom(i: int):
        if tokens[i] == "(":
            result, i = disjunction(i + 1)
            if tokens[i] != ")":
                raise ValueError(f"unbalanced parentheses in {marker!r}")
            return result, i + 1
        left, op, right = tokens[i], tokens[i + 1], tokens[i + 2]
        if op not in ("==", "!=", "<", "<=", ">", ">="):
            raise ValueError(f"unsupported operator {op!r} in {marker!r}")
        return _compare(value(left), op, value(right)), i + 3

    def conjunction(i: int):
        result, i = atom(i)
        while tokens[i] == "and":
            other, i = atom(i + 1)
            result = result and other
        return result, i

    def disjunction(i: int):
        result, i = conjunction(i)
        while tokens[i] == "or":
            other, i = conjunction(i + 1)
            result = result or other
        return result, i

    result, end = disjunction(0)
    if tokens[end] != "":
        raise ValueError(f"cannot read marker {marker!r}")
    return result
