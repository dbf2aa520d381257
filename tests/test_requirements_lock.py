"""pyproject.toml, environment.yml, requirements/requirements.in and the hash lock agree:
the same packages, and versions that satisfy every file's constraints."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
from packaging.requirements import Requirement  # noqa: E402
from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402
from packaging.version import Version  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "requirements-lock.txt"
# conda-forge names for the PyPI names used in pyproject.toml
CONDA_TO_PYPI = {"pytorch": "torch", "opencv": "opencv-python-headless"}
CONDA_ONLY = {"python", "pip", "setuptools"}  # the environment's tooling, not runtime needs
GPU_ONLY = {"bitsandbytes", "accelerate"}  # pyproject's [gpu] extra: Linux and Windows


def pyproject_requirements() -> dict:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = [Requirement(r) for r in data["project"]["dependencies"]]
    reqs += [Requirement(r) for r in data["project"]["optional-dependencies"]["gpu"]]
    return {canonicalize_name(r.name): r for r in reqs}


def requirements_in() -> dict:
    out = {}
    for line in (ROOT / "requirements" / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            r = Requirement(line)
            out.setdefault(canonicalize_name(r.name), []).append(r)
    return out


def environment_yml() -> dict:
    """name -> (conda spec, selectors) from environment.yml's dependencies, pip section included."""
    out = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:\n", 1)[1].splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*([^#\s]*)\s*(?:#\s*(.*))?$", line)
        if not m or line.strip().endswith(":"):
            continue
        name = canonicalize_name(CONDA_TO_PYPI.get(m.group(1), m.group(1)))
        sel = re.match(r"\[\s*(\w+)\s*\]", m.group(3) or "")
        spec, sels = out.get(name, (m.group(2), set()))
        if sel:
            sels.add(sel.group(1))
        out[name] = (m.group(2), sels)
    return out


def lock_pins() -> dict:
    """name -> list of (version, marker, hashes)."""
    pins, current = {}, None
    for line in LOCK.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+?)\s*(?:;\s*(.+?))?\s*\\?$", line)
        if m:
            current = [m.group(2), m.group(3), []]
            pins.setdefault(canonicalize_name(m.group(1)), []).append(current)
        elif current is not None and "--hash=sha256:" in line:
            current[2].append(line.split("--hash=sha256:")[1].strip(" \\"))
    return pins


def test_environment_yml_channels():
    text = (ROOT / "environment.yml").read_text()
    channels = re.search(r"^channels:\n((?:\s+-.*\n)+)", text, re.M).group(1)
    assert [c.strip(" -") for c in channels.splitlines()] == ["conda-forge", "nodefaults"]
    assert re.search(r"^\s+- python=3\.\d+\s*$", text, re.M), "pin a Python minor version"


def test_same_packages_everywhere():
    py = set(pyproject_requirements())
    assert set(requirements_in()) == py
    env = set(environment_yml()) - CONDA_ONLY
    assert env == py
    locked = set(lock_pins())
    assert py <= locked


def test_bitsandbytes_only_on_linux_and_windows():
    env = environment_yml()
    for name in GPU_ONLY:
        assert env[name][1] == {"linux64", "win64"}, name
    for r in requirements_in()["bitsandbytes"]:
        assert r.marker.evaluate({"sys_platform": "linux", "platform_machine": "x86_64"})
        assert r.marker.evaluate({"sys_platform": "win32", "platform_machine": "AMD64"})
        assert not r.marker.evaluate({"sys_platform": "darwin", "platform_machine": "arm64"})


def _conda_spec(spec: str) -> SpecifierSet:
    """conda's `=3.11` / `>=1,<2` as PEP 440 (enough for the simple specs environment.yml uses)."""
    if spec.startswith("=") and not spec.startswith("=="):
        return SpecifierSet(f"=={spec[1:]}.*")
    return SpecifierSet(spec)


def test_specifiers_agree():
    """environment.yml and requirements.in ask for the same versions as pyproject.toml."""
    py = pyproject_requirements()
    env = environment_yml()
    for name, req in py.items():
        assert _conda_spec(env[name][0]) == req.specifier, (name, env[name][0], str(req.specifier))
        for r in requirements_in()[name]:
            if name == "torch":  # pinned to one release; pyproject only sets a floor
                assert all(Version(s.version).public in req.specifier for s in r.specifier)
            else:
                assert r.specifier == req.specifier, name


ENVIRONMENTS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux"},
    "macos-arm64": {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin"},
    "windows-amd64": {"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows"},
}


@pytest.mark.parametrize("where", list(ENVIRONMENTS))
def test_lock_satisfies_pyproject_on_each_platform(where):
    env = dict(ENVIRONMENTS[where], python_version="3.11", python_full_version="3.11.9")
    pins = lock_pins()
    for name, req in pyproject_requirements().items():
        if req.marker and not req.marker.evaluate(env):
            continue
        chosen = [p for p in pins[name]
                  if p[1] is None or Requirement(f"x; {p[1]}").marker.evaluate(env)]
        if name in GPU_ONLY and where == "macos-arm64":
            assert chosen == [], name
            continue
        assert len(chosen) == 1, (name, where, chosen)
        version = Version(chosen[0][0])
        assert req.specifier.contains(version, prereleases=True), (name, version, req.specifier)
        assert _conda_spec(environment_yml()[name][0]).contains(version, prereleases=True)


def test_lock_is_hashed_and_cpu_only():
    pins = lock_pins()
    for name, entries in pins.items():
        for version, _, hashes in entries:
            assert hashes, f"{name}=={version} has no hash"
    assert not [n for n in pins if n.startswith("nvidia-") or n == "triton"], "CUDA wheels in the lock"
    linux = {"sys_platform": "linux", "platform_machine": "x86_64"}
    torch = [p for p in pins["torch"] if Requirement(f"x; {p[1]}").marker.evaluate(linux)]
    assert [p[0] for p in torch] == ["2.13.0+cpu"]
