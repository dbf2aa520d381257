"""Where things go on this machine: folders, platform names, paths inside an environment."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path
from typing import Optional

__all__ = ["default_venv_path", "micromamba_home", "conda_platform", "platform_key",
           "env_python", "env_command"]


def default_venv_path() -> Path:
    """The venv backend's default folder: user-owned, in the platform's data folder.

    Linux ``$XDG_DATA_HOME/transforemotion/venv`` (``~/.local/share/...``), macOS
    ``~/Library/Application Support/transforemotion/venv``, Windows
    ``%LOCALAPPDATA%\\transforemotion\\venv``. The R package looks here too.
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "transforemotion" / "venv"


def micromamba_home() -> Path:
    """Where ``--get-micromamba`` puts micromamba and its package cache: user-owned."""
    return default_venv_path().parent / "micromamba"


def conda_platform(system: Optional[str] = None, machine: Optional[str] = None) -> str:
    """This machine's conda subdir (``linux-64``, ``osx-arm64``, ``win-64`` ...)."""
    system = (system or sys.platform).lower()
    machine = (machine or platform.machine()).lower()
    arch = {"x86_64": "64", "amd64": "64", "arm64": "arm64", "aarch64": "aarch64"}.get(machine)
    os_name = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(system)
    if arch is None or os_name is None:
        return f"{system}-{machine}"
    if os_name == "osx" and arch == "aarch64":
        arch = "arm64"
    if os_name == "linux" and arch == "arm64":
        arch = "aarch64"
    return f"{os_name}-{arch}"


def platform_key(system: Optional[str] = None, machine: Optional[str] = None) -> str:
    """This machine as the pip locks name platforms in their ``# platforms:`` line:
    ``linux-x86_64``, ``macos-arm64``, ``windows-amd64`` (others come back as they are)."""
    system = (system or sys.platform).lower()
    machine = (machine or platform.machine()).lower()
    os_name = {"linux": "linux", "darwin": "macos", "win32": "windows"}.get(system, system)
    machine = {"aarch64": "arm64"}.get(machine, machine) if os_name == "macos" else machine
    machine = {"x86_64": "amd64"}.get(machine, machine) if os_name == "windows" else machine
    return f"{os_name}-{machine}"


def env_python(prefix: Path, windows: Optional[bool] = None) -> Path:
    """The Python executable inside an environment (venv and conda lay it out differently)."""
    windows = sys.platform == "win32" if windows is None else windows
    if not windows:
        return prefix / "bin" / "python"
    venv_style = prefix / "Scripts" / "python.exe"
    return venv_style if venv_style.exists() else prefix / "python.exe"


def env_command(prefix: Path, name: str = "transforemotion", windows: Optional[bool] = None) -> Path:
    """Where pip puts a console command (``transforemotion``) inside an environment."""
    windows = sys.platform == "win32" if windows is None else windows
    return prefix / "Scripts" / f"{name}.exe" if windows else prefix / "bin" / name
