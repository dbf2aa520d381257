"""Provision a Python environment for transforemotion: the ``setup_miniconda()`` of this project.

Run it before any environment exists, with any Python 3.9+ (standard library only)::

    python python/installer                        # conda if found, else venv
    python python/installer --backend venv         # hash-locked virtual environment (Python 3.11)
    python python/installer --backend conda        # conda env "transforemotion"
    python python/installer --gpu cuda             # the CUDA flavour (default --gpu auto)
    python python/installer --without-jina         # leave out jina-clip-v2's layer
    python python/installer --with-jina            # add it to an environment made without it
    python python/installer --help

It is not part of the transforemotion wheel (a top-level package named ``installer`` exists on
PyPI): it lives in the source tree and in the R package, and runs from there.

Backends
    venv   Creates a virtual environment (default: :func:`default_venv_path`) and installs the
           hash-locked requirements with ``pip --require-hashes``: for the ``cpu`` flavour
           ``requirements/requirements-lock.txt`` plus, unless ``--without-jina``,
           ``requirements/requirements-jina-lock.txt``; for ``cuda`` the ``-cuda-`` locks
           (see pip_locks.py).
    conda  Creates or updates the conda environment ``transforemotion`` (or ``--prefix``) from
           ``conda-lock.yml`` for this platform, or from ``environment.yml`` with a notice when
           there is no lock. Works with conda, mamba or micromamba.

Both then copy the project into the environment (``transforemotion-source/``) and install it
from there, run ``python -m transforemotion.selfcheck`` (no model download), and print the
Python path to give reticulate and where the ``transforemotion`` command is.

A second run checks the environment and repairs what is missing; the project counts as changed
only when its files do (a fingerprint, not its folder). ``--force`` rebuilds. An environment it
creates holds a marker file (``transforemotion-env.json``); it never deletes or changes an
environment without one.

Modules: errors (InstallError, exit statuses), platforms (folders, platform names), source (the
project and its fingerprint), pip_locks / conda_lock / markers (reading locks), targets (the
environment folder and its marker), gpu (``--gpu``), plans (a backend's work as data, and the one
runner), index_check (can pip get PyTorch's own builds from here? asked before anything is
made), venv_backend / conda_backend / project (the plans and steps), checks (questions asked
inside the environment; verify_lock.py runs there), status (``--status-file``), cli (the entry points).

Only the standard library may be imported here: this runs before torch exists.
"""

from .cli import main, setup_miniconda
from .errors import EXIT, InstallError
from .platforms import default_venv_path

__all__ = ["EXIT", "InstallError", "default_venv_path", "main", "setup_miniconda"]
