"""Entry points: :func:`setup_miniconda` (Python) and :func:`main` (the command line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from .checks import self_check
from .commands import Progress
from .conda_backend import find_conda, run_conda
from .errors import InstallError
from .gpu import GPU_CHOICES
from .options import Options, Outcome
from .platforms import default_venv_path, env_command
from .source import describe_source, project_root, project_version
from .status import write_status
from .venv_backend import run_venv

__all__ = ["ENV_NAME", "TORCH_INDEX", "setup_miniconda", "main"]

ENV_NAME = "transforemotion"
TORCH_INDEX = "https://download.pytorch.org/whl/{variant}"


def setup_miniconda(backend: Optional[str] = None, prefix=None, force: bool = False,
                    source=None, python: Optional[str] = None, name: str = ENV_NAME,
                    editable: bool = False, torch_index_url: Optional[str] = TORCH_INDEX,
                    get_micromamba: bool = False, check: bool = True, verbose: bool = False,
                    quiet: bool = False, gpu: str = "auto", jina: Optional[bool] = None) -> str:
    """Create (or check and repair) an environment for transforemotion; return its Python path.

    Args:
        backend: "conda" or "venv"; None picks conda where conda, mamba or micromamba is found,
            venv otherwise.
        prefix: the environment's folder. venv: default :func:`default_venv_path`. conda:
            default the named environment ``name``.
        force: rebuild from scratch (only an environment this installer made).
        source: what to install as the project: a folder or a pip requirement
            (default: this project's root).
        python: the interpreter the venv is built from (default: this one; must be 3.11).
        torch_index_url: where PyTorch's own builds (``torch==2.13.0+cpu``) are found;
            ``{variant}`` stands for the build (``cpu``, ``cu130``). None or "": pip's own
            configuration must provide them.
        get_micromamba: with no conda found, download micromamba into a user folder.
        check: run the self-check at the end.
        gpu: "auto" (CUDA where an NVIDIA driver answers ``nvidia-smi`` and a CUDA flavour
            exists for the platform), "cuda" or "cpu".
        jina: add the layer jina-clip-v2 needs (torchvision, timm, einops); None: as the
            existing environment has it (an environment made without it stays so), else yes.

    Returns:
        The environment's Python executable, as a string, for reticulate.

    Raises:
        InstallError: naming the failed step, the cause and what to do.

    Example:
        >>> setup_miniconda("venv", "/tmp/te-venv")  # doctest: +SKIP
        '/tmp/te-venv/bin/python'
    """
    return str(_setup(backend, prefix, force, source, python, name, editable, torch_index_url,
                      get_micromamba, check, verbose, quiet, gpu, jina).python)


def _setup(backend, prefix, force, source, python, name, editable, torch_index_url,
           get_micromamba, check, verbose, quiet, gpu, jina, index_check=True) -> Outcome:
    root = project_root()
    if backend is None:
        backend = "conda" if find_conda() else "venv"
    if backend not in ("conda", "venv"):
        raise InstallError("arguments", "usage", f"unknown backend {backend!r}",
                           "choose one of: conda, venv")
    if gpu not in GPU_CHOICES:
        raise InstallError("arguments", "usage", f"unknown --gpu choice {gpu!r}",
                           "choose one of: " + ", ".join(GPU_CHOICES))
    if prefix:
        target = Path(prefix).expanduser().absolute()
    else:
        target = default_venv_path() if backend == "venv" else None
    opts = Options(root=root, prefix=target, source=describe_source(str(source or root)),
                   version=project_version(root), base_python=python or sys.executable,
                   name=name, force=force, editable=editable, get_micromamba=get_micromamba,
                   verbose=verbose, torch_index=torch_index_url or None, gpu=gpu, jina=jina,
                   index_check=index_check)
    progress = Progress(5, quiet=quiet)
    progress.say(f"transforemotion setup: backend {backend}, project {opts.source.spec}")
    run = run_venv if backend == "venv" else run_conda
    outcome = run(opts, progress)
    progress.step("self-check (tiny random model, no download)")
    if check:
        report = self_check(outcome.python, progress, progress.current)
        progress.say("    " + ", ".join(f"{k} {v}" for k, v in report.items()
                                         if k not in ("python", "ok")))
    else:
        progress.say("    skipped (--no-check)")
    progress.say(summary(name, opts, outcome))
    return outcome


def summary(name: str, opts: Options, outcome: Outcome) -> str:
    """What was made and how to use it: the Python for reticulate and the command."""
    py, prefix = outcome.python, outcome.prefix
    command = env_command(prefix)
    windows = sys.platform == "win32"
    backend = outcome.backend
    if backend == "venv":
        reticulate = f'reticulate::use_virtualenv("{prefix}")'
        activate = (f"{prefix}\\Scripts\\activate" if windows else f'source "{prefix}/bin/activate"')
    else:
        reticulate = f'reticulate::use_condaenv("{prefix if opts.prefix else name}")'
        activate = f"conda activate {prefix if opts.prefix else name}"
    return (
        f"\nDone: transforemotion {opts.version} in {prefix}\n"
        f"  ({backend}; flavour {outcome.flavour}: {outcome.flavour_reason}; jina-clip-v2 layer: "
        f"{'yes' if outcome.jina else 'no'} ({outcome.jina_reason}))\n"
        "Give reticulate this Python:\n"
        f"    {py}\n"
        f'  R:  Sys.setenv(RETICULATE_PYTHON = "{py}")   or   {reticulate}\n'
        "The transforemotion command is\n"
        f"    {command}\n"
        f'  e.g.  "{command}" image face.jpg --classes joy anger\n'
        f"  or, after  {activate},  just: transforemotion image face.jpg --classes joy anger"
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python python/installer",
        description="Provision a Python environment for transforemotion (standard library only).")
    p.add_argument("--backend", help="conda or venv (default: conda where found, else venv)")
    p.add_argument("--prefix", help="environment folder (venv default: %(default_venv)s; conda "
                   "default: the named environment)" % {"default_venv": default_venv_path()})
    p.add_argument("--name", default=ENV_NAME, help="conda environment name (default %(default)s)")
    p.add_argument("--gpu", default="auto", choices=GPU_CHOICES,
                   help="auto (default): the CUDA flavour where an NVIDIA driver answers "
                   "nvidia-smi and one exists for this platform, else CPU; cuda; cpu")
    p.add_argument("--without-jina", dest="jina", action="store_const", const=False,
                   help="leave out the layer jina-clip-v2 needs (torchvision, timm, einops); "
                   "default: as the existing environment has it, else with it")
    p.add_argument("--with-jina", dest="jina", action="store_const", const=True,
                   help="add that layer to an environment made --without-jina")
    p.add_argument("--force", action="store_true", help="rebuild an environment this installer made")
    p.add_argument("--source", help="project to install: a folder or pip requirement "
                   "(default: this checkout)")
    p.add_argument("--editable", action="store_true", help="install the project in editable mode")
    p.add_argument("--python", help="interpreter for the venv (default: this one; must be 3.11)")
    p.add_argument("--torch-index-url", default=TORCH_INDEX,
                   help="venv: where PyTorch's own builds (torch 2.13.0+cpu) are; {variant} "
                   "stands for cpu, cu130 ... (default %(default)s; '' for pip's configuration)")
    p.add_argument("--no-index-check", dest="index_check", action="store_false",
                   help="venv: do not ask PyTorch's index (and pip's find-links and indexes) "
                   "for its builds before creating anything; pip finds out on its own")
    p.add_argument("--get-micromamba", action="store_true",
                   help="with no conda found, download micromamba into a user-owned folder")
    p.add_argument("--no-check", action="store_true", help="skip the final self-check")
    p.add_argument("--status-file", help="write how the run ended to this file (field: value "
                   "lines; R reads it with read.dcf)")
    p.add_argument("--print-default-venv", action="store_true",
                   help="print the default venv folder and exit")
    p.add_argument("--verbose", action="store_true", help="show the output of every command")
    p.add_argument("--quiet", action="store_true", help="print only the Python path")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; returns the exit status (0 on success)."""
    args = _parser().parse_args(argv)
    if args.print_default_venv:
        print(default_venv_path())
        return 0
    status = Path(args.status_file) if args.status_file else None
    try:
        outcome = _setup(args.backend, args.prefix, args.force, args.source, args.python,
                         args.name, args.editable, args.torch_index_url, args.get_micromamba,
                         not args.no_check, args.verbose, args.quiet, args.gpu, args.jina,
                         args.index_check)
    except InstallError as exc:
        print(f"\ntransforemotion setup failed: {exc}", file=sys.stderr)
        if status:
            write_status(status, {"status": "failed", "kind": exc.kind, "step": exc.step,
                                  "message": exc.message, "hint": exc.hint,
                                  "exit_status": exc.exit_status})
        return exc.exit_status
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to finish", file=sys.stderr)
        if status:
            write_status(status, {"status": "failed", "kind": "interrupted", "step": "",
                                  "message": "interrupted", "hint": "run the same command again",
                                  "exit_status": 130})
        return 130
    if status:
        write_status(status, {"status": "ok", "python": outcome.python, "prefix": outcome.prefix,
                              "backend": outcome.backend,
                              "flavour": outcome.flavour, "jina": "yes" if outcome.jina else "no",
                              "command": env_command(outcome.prefix)})
    if args.quiet:
        print(outcome.python)
    return 0
