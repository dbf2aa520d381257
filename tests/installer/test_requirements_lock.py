"""pyproject.toml, environment.yml, the requirements/*.in files and the four hash locks agree:
the same packages, versions that satisfy every file's constraints, torchvision built like the
torch beside it, and a hash for every file. Nothing is installed here (the locks name wheels
that CI cannot fetch, such as torchvision+cpu and the CUDA builds).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
from packaging.markers import Marker  # noqa: E402
from packaging.requirements import Requirement  # noqa: E402
from packaging.specifiers import SpecifierSet  # noqa: E402
from packaging.utils import canonicalize_name  # noqa: E402
from packaging.version import Version  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REQ = ROOT / "requirements"
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "scripts"))
import lock_tools  # noqa: E402
from installer.pip_locks import LOCK_FILES, read_pip_lock  # noqa: E402

# conda-forge names for the PyPI names used in pyproject.toml
CONDA_TO_PYPI = {"pytorch": "torch", "opencv": "opencv-python-headless"}
CONDA_ONLY = {"python", "pip", "setuptools"}  # the environment's tooling, not runtime needs
LAB_EXTRAS = ("eval", "plot", "corpus")  # with core and pandas: the lab environment
EXTRAS = {"gpu", "jina", "youtube", "eval", "plot", "corpus", "ray", "test"}
# torchvision release for each torch release (torchvision's wheels require torch==X exactly;
# checked against torchvision 0.28.0's METADATA: "Requires-Dist: torch (==2.13.0)").
TORCHVISION_FOR_TORCH = {"2.13": "0.28"}
PLATFORM_ENV = {
    "linux-x86_64": {"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux"},
    "macos-arm64": {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin"},
    "windows-amd64": {"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows"},
}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def reqs(strings) -> dict:
    out = {}
    for s in strings:
        r = Requirement(s)
        out[canonicalize_name(r.name)] = r
    return out


def core() -> dict:
    return reqs(pyproject()["dependencies"])


def extra(name: str) -> dict:
    return reqs(pyproject()["optional-dependencies"][name])


def lab() -> dict:
    """What the lab environment holds: core, pandas, and the lab extras."""
    out = dict(core())
    out["pandas"] = extra("test")["pandas"]
    for name in LAB_EXTRAS:
        out.update(extra(name))
    return out


def read_in(path: Path) -> dict:
    """name -> [Requirement] from a requirements .in file, following -r includes."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            for name, rs in read_in(path.parent / line[3:].strip()).items():
                out.setdefault(name, []).extend(rs)
        elif line:
            r = Requirement(line)
            out.setdefault(canonicalize_name(r.name), []).append(r)
    return out


def environment_yml() -> dict:
    """name -> (conda spec, selectors, tagged jina layer) from environment.yml, pip section included."""
    out = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("\ndependencies:\n", 1)[1].splitlines():
        m = re.match(r"^\s*-\s+([A-Za-z0-9_.\-]+)\s*([^#\s]*)\s*(?:#\s*(.*))?$", line)
        if not m or line.strip().endswith(":"):
            continue
        name = canonicalize_name(CONDA_TO_PYPI.get(m.group(1), m.group(1)))
        sel = re.match(r"\[\s*(\w+)\s*\]", m.group(3) or "")
        _, sels, _ = out.get(name, (m.group(2), set(), False))
        if sel:
            sels.add(sel.group(1))
        out[name] = (m.group(2), sels, (m.group(3) or "").strip() == "jina layer")
    return out


def _conda_spec(spec: str) -> SpecifierSet:
    """conda's `=3.11` / `>=1,<2` as PEP 440 (enough for the simple specs environment.yml uses)."""
    if spec.startswith("=") and not spec.startswith("=="):
        return SpecifierSet(f"=={spec[1:]}.*")
    return SpecifierSet(spec)


def lock(flavour: str, layer: str):
    return read_pip_lock(ROOT / LOCK_FILES[flavour][layer])


def chosen(lk, name: str, where: str) -> list:
    """The entries of ``name`` that pip would install on ``where`` (Python 3.11)."""
    env = dict(PLATFORM_ENV[where], python_version="3.11", python_full_version="3.11.9")
    return [e for e in lk.entries if e.name == name and (e.marker is None or Marker(e.marker).evaluate(env))]


def one(lk, name: str, where: str):
    found = chosen(lk, name, where)
    assert len(found) == 1, (lk.path.name, name, where, [e.version for e in found])
    return found[0]


# --------------------------------------------------------------------------- pyproject extras

def test_extras_are_the_agreed_ones():
    extras = pyproject()["optional-dependencies"]
    assert set(extras) == EXTRAS
    assert set(extra("gpu")) == {"bitsandbytes", "accelerate"}
    assert set(extra("jina")) == {"einops", "timm", "torchvision", "transformers"}
    assert set(extra("youtube")) == {"yt-dlp"}
    assert set(extra("eval")) == {"scikit-learn", "krippendorff"}
    assert set(extra("plot")) == {"matplotlib"} and set(extra("corpus")) == {"pyarrow"}
    assert set(extra("ray")) == {"ray", "pyarrow"} and extra("ray")["ray"].extras == {"data"}
    assert Version("2.51") in extra("ray")["ray"].specifier and Version("2.50") not in extra("ray")["ray"].specifier
    jina_tf = extra("jina")["transformers"].specifier
    assert Version("4.57.6") in jina_tf and Version("5.0.0") not in jina_tf
    assert Version("5.0.0") in core()["transformers"].specifier  # CLIP models keep transformers 5


def test_test_extra_holds_what_tests_import_with_the_same_versions():
    test = extra("test")
    assert {"pytest", "scikit-image", "packaging", "pandas"} <= set(test)
    for name in LAB_EXTRAS:
        for pkg, r in extra(name).items():
            assert test[pkg].specifier == r.specifier, pkg
    assert extra("ray")["pyarrow"].specifier == extra("corpus")["pyarrow"].specifier


# --------------------------------------------------------------------------- inputs and environment.yml

def _within(narrow: SpecifierSet, wide: SpecifierSet, versions) -> bool:
    return all(v in wide for v in versions if v in narrow)


def test_lab_inputs_match_pyproject():
    """requirements.in (CPU) and cuda.in (CUDA) hold the lab set; cuda.in adds the gpu extra."""
    probe = [Version(v) for v in ("4.40", "4.51", "4.52", "4.57.6", "4.99", "5.0", "5.24")]
    for path, expected in ((REQ / "requirements.in", lab()),
                           (REQ / "cuda.in", {**lab(), **extra("gpu")})):
        got = read_in(path)
        assert set(got) == set(expected), path.name
        for name, req in expected.items():
            for r in got[name]:
                if name == "torch":  # pinned to one release; pyproject only sets a floor
                    assert all(Version(s.version).public in req.specifier for s in r.specifier)
                elif name == "transformers":  # the 4.x line jina needs, inside what core allows
                    allowed = req.specifier & extra("jina")["transformers"].specifier
                    assert _within(r.specifier, allowed, probe) and Version("4.57.6") in r.specifier
                else:
                    assert r.specifier == req.specifier, (path.name, name)


@pytest.mark.parametrize("name", ["jina.in", "cuda-jina.in"])
def test_jina_inputs_match_the_extra(name):
    got = read_in(REQ / name)
    jina = extra("jina")
    assert set(got) == set(jina) - {"transformers"}  # transformers is in the base lock
    for pkg, rs in got.items():
        for r in rs:
            pinned = [Version(s.version) for s in r.specifier if s.operator == "=="]
            assert all(v in jina[pkg].specifier for v in pinned) if pinned else r.specifier == jina[pkg].specifier


def test_environment_yml_channels():
    text = (ROOT / "environment.yml").read_text()
    channels = re.search(r"^channels:\n((?:\s+-.*\n)+)", text, re.M).group(1)
    assert [c.strip(" -") for c in channels.splitlines()] == ["conda-forge", "nodefaults"]
    assert re.search(r"^\s+- python=3\.\d+\s*$", text, re.M), "pin a Python minor version"


def test_environment_yml_is_the_lab_with_jina_and_gpu():
    env = environment_yml()
    expected = {**lab(), **extra("jina"), **extra("gpu")}
    assert set(env) - CONDA_ONLY == set(expected)
    jina_layer = {n for n, (_, _, tagged) in env.items() if tagged}
    assert jina_layer == set(extra("jina")) - {"transformers"}
    for name in extra("gpu"):
        assert env[name][1] == {"linux64", "win64"}, name
    transformers = read_in(REQ / "lab.in")["transformers"][0].specifier
    for name, req in expected.items():
        spec = _conda_spec(env[name][0])
        want = transformers if name == "transformers" else req.specifier
        assert spec == want, (name, env[name][0], str(want))


def test_bitsandbytes_only_on_linux_and_windows():
    for r in [extra("gpu")["bitsandbytes"]]:
        assert r.marker.evaluate({"sys_platform": "linux", "platform_machine": "x86_64"})
        assert r.marker.evaluate({"sys_platform": "win32", "platform_machine": "AMD64"})
        assert not r.marker.evaluate({"sys_platform": "darwin", "platform_machine": "arm64"})


# --------------------------------------------------------------------------- the locks

ALL_LOCKS = [(f, layer) for f in ("cpu", "cuda") for layer in ("base", "jina")]


@pytest.mark.parametrize("flavour, layer", ALL_LOCKS)
def test_every_entry_has_a_hash(flavour, layer):
    lk = lock(flavour, layer)
    assert lk.entries
    for e in lk.entries:
        assert e.hashes and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in e.hashes), e.name


@pytest.mark.parametrize("flavour", ["cpu", "cuda"])
def test_jina_layer_adds_only_what_the_base_lacks(flavour):
    base, layer = lock(flavour, "base"), lock(flavour, "jina")
    assert layer.platforms == base.platforms
    assert {e.name for e in layer.entries} == set(extra("jina")) - {"transformers"}
    assert not {e.name for e in layer.entries} & {e.name for e in base.entries}


@pytest.mark.parametrize("where", list(PLATFORM_ENV))
def test_cpu_lock_satisfies_pyproject(where):
    base = lock("cpu", "base")
    assert set(base.platforms) == set(PLATFORM_ENV)
    for name, req in lab().items():
        version = Version(one(base, name, where).version)
        assert req.specifier.contains(version, prereleases=True), (name, version, req.specifier)
    transformers = Version(one(base, "transformers", where).version)
    assert transformers in extra("jina")["transformers"].specifier  # jina-clip-v2 works here
    assert not [e for e in base.entries if e.name.startswith("nvidia-") or e.name in ("triton", "bitsandbytes")]
    torch = one(base, "torch", where)
    assert torch.version == ("2.13.0+cpu" if where == "linux-x86_64" else "2.13.0")


def _pairs_with(torch_version: str, vision_version: str) -> bool:
    torch, vision = Version(torch_version), Version(vision_version)
    want = TORCHVISION_FOR_TORCH[f"{torch.major}.{torch.minor}"]
    return f"{vision.major}.{vision.minor}" == want and torch.local == vision.local


@pytest.mark.parametrize("flavour", ["cpu", "cuda"])
def test_torchvision_is_built_like_the_torch_beside_it(flavour):
    """Beside torch 2.13.0+cpu only torchvision 0.28.x+cpu imports ("operator torchvision::nms
    does not exist" with PyPI's Linux build); beside PyPI's torch, PyPI's torchvision."""
    base, layer = lock(flavour, "base"), lock(flavour, "jina")
    for where in base.platforms:
        torch, vision = one(base, "torch", where), one(layer, "torchvision", where)
        assert _pairs_with(torch.version, vision.version), (where, torch.version, vision.version)
        assert Version(vision.version) in extra("jina")["torchvision"].specifier
        for name in ("einops", "timm"):
            assert Version(one(layer, name, where).version) in extra("jina")[name].specifier
    linux = one(layer, "torchvision", "linux-x86_64")
    assert linux.version == ("0.28.0+cpu" if flavour == "cpu" else "0.28.0")
    if flavour == "cpu":  # PyTorch's wheel: one file, one hash
        assert len(linux.hashes) == 1


def test_cuda_lock_is_pypis_cuda_build_with_the_gpu_extra():
    base = lock("cuda", "base")
    assert "linux-x86_64" in base.platforms and set(base.platforms) <= {"linux-x86_64", "windows-amd64"}
    for where in base.platforms:
        for name, req in {**lab(), **extra("gpu")}.items():
            version = Version(one(base, name, where).version)
            assert req.specifier.contains(version, prereleases=True), (name, where, version)
    assert one(base, "torch", "linux-x86_64").version == "2.13.0"  # PyPI's: CUDA on Linux
    assert chosen(base, "nvidia-cudnn-cu13", "linux-x86_64") and chosen(base, "triton", "linux-x86_64")
    assert chosen(base, "torch", "macos-arm64") == []  # no CUDA flavour on macOS
    if "windows-amd64" in base.platforms:  # PyPI's Windows torch is CPU-only: PyTorch's cu build
        assert Version(one(base, "torch", "windows-amd64").version).local.startswith("cu")


# --------------------------------------------------------------------------- scripts/lock_tools.py

def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_lock_tools_layer_and_pytorch_build(tmp_path):
    h = "a" * 64
    base = _write(tmp_path / "base.txt", f"numpy==2.0 \\\n    --hash=sha256:{h}\n"
                  f"torch==2.13.0+cpu ; sys_platform == 'linux' and platform_machine == 'x86_64' \\\n"
                  f"    --hash=sha256:{h}\n")
    everything = _write(tmp_path / "all.txt", base.read_text() + f"torchvision==0.28.0 \\\n"
                        f"    --hash=sha256:{'b' * 64} \\\n    --hash=sha256:{'c' * 64}\n")
    layer = _write(tmp_path / "layer.txt", lock_tools.layer(everything, base))
    assert [e.name for e in read_pip_lock(layer).entries] == ["torchvision"]
    built = _write(tmp_path / "built.txt",
                   lock_tools.pytorch_build(layer, "torchvision", "cpu", "linux-x86_64", "d" * 64))
    entries = read_pip_lock(built).entries
    assert [(e.version, e.hashes) for e in entries] == [("0.28.0", ("b" * 64, "c" * 64)), ("0.28.0+cpu", ("d" * 64,))]
    for where, version in (("linux-x86_64", "0.28.0+cpu"), ("windows-amd64", "0.28.0"), ("macos-arm64", "0.28.0")):
        env = PLATFORM_ENV[where]
        assert [e.version for e in entries if Marker(e.marker).evaluate(env)] == [version], where
    with pytest.raises(SystemExit):
        lock_tools.pytorch_build(layer, "torchvision", "cpu", "linux-x86_64", "not-a-hash")


def test_lock_tools_merge_joins_platforms(tmp_path):
    linux = _write(tmp_path / "l.txt", lock_tools.for_platform(
        _write(tmp_path / "l0.txt", f"numpy==2.0 \\\n    --hash=sha256:{'a' * 64}\ntorch==2.13.0 \\\n"
               f"    --hash=sha256:{'b' * 64}\n"), "linux-x86_64"))
    win = _write(tmp_path / "w.txt", lock_tools.for_platform(
        _write(tmp_path / "w0.txt", f"numpy==2.0 \\\n    --hash=sha256:{'c' * 64}\ntorch==2.13.0+cu130 \\\n"
               f"    --hash=sha256:{'d' * 64}\n"), "windows-amd64"))
    merged = read_pip_lock(_write(tmp_path / "m.txt", lock_tools.merge([linux, win])))
    numpy = [e for e in merged.entries if e.name == "numpy"]
    assert len(numpy) == 1 and numpy[0].hashes == ("a" * 64, "c" * 64)
    for where, torch in (("linux-x86_64", "2.13.0"), ("windows-amd64", "2.13.0+cu130"), ("macos-arm64", None)):
        env = PLATFORM_ENV[where]
        got = [e.version for e in merged.entries if e.name == "torch" and Marker(e.marker).evaluate(env)]
        assert got == ([torch] if torch else []), where
        assert bool([e for e in numpy if Marker(e.marker).evaluate(env)]) == (torch is not None)
