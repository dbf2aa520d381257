"""Can pip get PyTorch's own builds from here? Asked before anything is created.

PyTorch's builds with a local version (``torch==2.13.0+cpu``, ``torchvision==0.28.0+cpu``) are
on PyTorch's index only, not on PyPI. Where that index cannot be reached (a PyPI-only proxy, a
firewall), pip tries for a while, then fails with "conflicting dependencies", which says nothing
of the cause, and leaves a half-made environment behind. So the installer asks first, within
:data:`INDEX_CHECK_SECONDS`, the way pip would look:

- pip's find-links folders and pages (its configuration files and ``PIP_FIND_LINKS``),
- PyTorch's index (``--torch-index-url``),
- pip's own configured indexes (``index-url``, ``extra-index-url``: a mirror may carry them),

through pip's configured ``proxy`` (else the ``HTTPS_PROXY`` family of variables) and ``cert``.
A source counts when it lists the wanted file (``torchvision-0.28.0+cpu-...``), not merely when
it answers: a proxy that answers every address with a page of its own does not count.

Standard library only, like the rest of the installer.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .errors import InstallError
from .pip_locks import LockEntry, pytorch_index_for

__all__ = ["INDEX_CHECK_SECONDS", "PipSettings", "pip_settings", "listed_in", "check_pytorch_builds"]

# All the look-ups of one check together; a reachable index answers in well under a second,
# and a black-holed one would otherwise hold the run for pip's own 180 s.
INDEX_CHECK_SECONDS = 15.0
# An index page of one project is a few hundred kB; a source that sends more is not one.
_MAX_PAGE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class PipSettings:
    """What of pip's configuration matters for finding a file."""
    proxy: Optional[str] = None
    cert: Optional[str] = None
    find_links: Tuple[str, ...] = ()
    indexes: Tuple[str, ...] = ()  # index-url, then extra-index-url


def _config_files(environ: Mapping[str, str]) -> List[Path]:
    """pip's configuration files, in the order pip reads them (later ones win)."""
    home = Path.home()
    if sys.platform == "win32":
        system = [Path(os.environ.get("PROGRAMDATA", r"C:\ProgramData")) / "pip" / "pip.ini"]
        user = [Path(environ.get("APPDATA", home / "AppData" / "Roaming")) / "pip" / "pip.ini"]
    elif sys.platform == "darwin":
        system = [Path("/Library/Application Support/pip/pip.conf")]
        user = [home / ".pip" / "pip.conf", home / "Library" / "Application Support" / "pip" / "pip.conf"]
    else:
        dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        system = [Path(d) / "pip" / "pip.conf" for d in dirs.split(":") if d] + [Path("/etc/pip.conf")]
        config_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        user = [home / ".pip" / "pip.conf", Path(config_home) / "pip" / "pip.conf"]
    chosen = environ.get("PIP_CONFIG_FILE")
    files = list(system)
    if not (chosen and Path(chosen).exists()):  # as pip: a given file replaces the user's
        files += user
    if chosen:
        files.append(Path(chosen))
    return files


def pip_settings(environ: Optional[Mapping[str, str]] = None) -> PipSettings:
    """The proxy, certificates, find-links and indexes pip would use here (its configuration
    files' ``[global]`` and ``[install]`` sections, then ``PIP_*`` variables)."""
    environ = os.environ if environ is None else environ
    values: Dict[str, str] = {}
    for path in _config_files(environ):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error, UnicodeError):
            continue  # pip would stop on it; the install step will say so then
        for section in ("global", "install"):
            if parser.has_section(section):
                for key, value in parser.items(section):
                    values[key.replace("_", "-")] = value
    for key in ("proxy", "cert", "find-links", "index-url", "extra-index-url"):
        env_value = environ.get("PIP_" + key.upper().replace("-", "_"))
        if env_value is not None:
            values[key] = env_value
    indexes = values["index-url"].split()[:1] if values.get("index-url") else []
    return PipSettings(proxy=values.get("proxy") or None, cert=values.get("cert") or None,
                       find_links=tuple(values.get("find-links", "").split()),
                       indexes=tuple(indexes + values.get("extra-index-url", "").split()))


def _file_pattern(entry: LockEntry) -> "re.Pattern[str]":
    # torchvision-0.28.0+cpu-cp311-...whl; names compare with -, _ and . as one (PEP 503)
    name = "[-_.]+".join(re.escape(part) for part in re.split(r"[-_.]+", entry.name))
    return re.compile(rf"(?<![A-Za-z0-9]){name}-{re.escape(entry.version)}[-.]", re.IGNORECASE)


def _lists(text: str, entry: LockEntry) -> bool:
    return bool(_file_pattern(entry).search(urllib.parse.unquote(text)))


class _Budget:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        return self.ends - time.monotonic()


def _opener(settings: PipSettings) -> urllib.request.OpenerDirector:
    handlers: list = []
    if settings.proxy:
        proxy = settings.proxy if "://" in settings.proxy else "http://" + settings.proxy
        handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
    if settings.cert and Path(settings.cert).exists():
        # Imported here: a Python started from R may load the wrong libpython, and then _ssl
        # fails to import; the installer's other work (--print-default-venv) must not need it.
        import ssl

        where = Path(settings.cert)
        context = ssl.create_default_context(cafile=str(where) if where.is_file() else None,
                                             capath=str(where) if where.is_dir() else None)
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def _read_page(url: str, settings: PipSettings, budget: _Budget) -> Tuple[Optional[str], str]:
    """The text at an http(s) address, or None and why not (said for a person)."""
    if budget.left() <= 0:
        return None, f"not asked: the {budget.seconds:g} s for the check were used up"
    request = urllib.request.Request(url, headers={"User-Agent": "transforemotion-installer"})
    try:
        with _opener(settings).open(request, timeout=max(budget.left(), 0.1)) as response:
            chunks, size = [], 0
            while size < _MAX_PAGE_BYTES:
                if budget.left() <= 0:
                    return None, f"it did not finish answering within {budget.seconds:g} s"
                chunk = response.read1(1 << 16)  # what has come: a drip cannot hold it
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks).decode("utf-8", "replace"), ""
    except urllib.error.HTTPError as exc:
        exc.close()
        return None, f"it answered {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        return None, str(getattr(exc.reason, "strerror", None) or exc.reason)
    except (OSError, ValueError) as exc:  # timeouts, resets, a malformed address
        return None, str(exc) or type(exc).__name__


def _local_folder(location: str) -> Optional[Path]:
    if location.startswith("file:"):
        return Path(urllib.request.url2pathname(urllib.parse.urlsplit(location).path))
    if "://" not in location:
        return Path(location).expanduser()
    return None


def _in_folder(folder: Path, entry: LockEntry) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    if any(_lists(name, entry) for name in names):
        return True
    page = folder / "index.html"  # a file:// index serves its project page this way
    try:
        return page.is_file() and _lists(page.read_text(encoding="utf-8", errors="replace"), entry)
    except OSError:
        return False


def listed_in(location: str, entry: LockEntry, settings: PipSettings, budget: _Budget,
              index: bool) -> Tuple[bool, str]:
    """Whether ``location`` (an index when ``index``, else a find-links folder or page) offers
    ``entry``'s file; and, when not, why not."""
    base = location.rstrip("/")
    target = f"{base}/{entry.name}/" if index else location
    folder = _local_folder(target)
    if folder is not None:
        return _in_folder(folder, entry), f"{folder} holds no {entry.name} {entry.version}"
    text, why = _read_page(target, settings, budget)
    if text is None:
        return False, why
    return _lists(text, entry), f"{target} lists no {entry.name} {entry.version}"


def check_pytorch_builds(builds: Sequence[Tuple[LockEntry, bool]], torch_index: Optional[str],
                         step: str, settings: Optional[PipSettings] = None,
                         seconds: Optional[float] = None) -> None:
    """Refuse, before anything is made, when pip could not get every PyTorch build.

    Args:
        builds: each entry that only PyTorch's index has, with whether it belongs to the
            jina-clip-v2 layer.
        torch_index: ``--torch-index-url`` (``{variant}`` for the label); None or "": pip's
            configuration is meant to provide the builds, and nothing is checked.
        settings: pip's configuration (default: read from this machine).
        seconds: the time for all look-ups (default :data:`INDEX_CHECK_SECONDS`).

    Raises:
        InstallError: ``network``, naming the index, why it failed, the packages and the
            command that works without them.
    """
    if not torch_index or not builds:
        return
    settings = pip_settings() if settings is None else settings
    budget = _Budget(INDEX_CHECK_SECONDS if seconds is None else seconds)
    missing: List[Tuple[LockEntry, bool]] = []
    reasons: Dict[str, str] = {}
    for entry, jina in builds:
        # Local folders first: free, and where offline machines keep their wheels.
        found = any(listed_in(link, entry, settings, budget, index=False)[0]
                    for link in settings.find_links if _local_folder(link) is not None)
        if not found:
            index = pytorch_index_for(entry.label, torch_index)
            found, why = listed_in(index, entry, settings, budget, index=True)
            reasons.setdefault(index, why)
        others = [(link, False) for link in settings.find_links if _local_folder(link) is None]
        others += [(url, True) for url in settings.indexes]
        for location, is_index in others:
            if found:
                break
            found = listed_in(location, entry, settings, budget, index=is_index)[0]
        if not found:
            missing.append((entry, jina))
    if not missing:
        return
    raise _unavailable(missing, reasons, settings, step)


def _unavailable(missing: Sequence[Tuple[LockEntry, bool]], reasons: Mapping[str, str],
                 settings: PipSettings, step: str) -> InstallError:
    wanted = ", ".join(f"{e.name} {e.version}" for e, _ in missing)
    where = "; ".join(f"{url}: {why}" for url, why in reasons.items())
    via = f" (through pip's proxy {settings.proxy})" if settings.proxy else ""
    also = "pip's own configuration (find-links, indexes) does not offer it either"
    jina_only = all(jina for _, jina in missing)
    message = (f"PyTorch's package index cannot be used from here{via} ({where}). Only it has "
               f"{wanted}, which {'the jina-clip-v2 layer needs' if jina_only else 'the environment needs'}; "
               f"{also}. Nothing was installed or changed.")
    mirror = ("pass --torch-index-url with the address of a reachable mirror of PyTorch's index "
              "({variant} standing for cpu, cu130 ...)")
    if jina_only:
        hint = ("leave the jina-clip-v2 layer out: add --without-jina to the same command, e.g. "
                "python python/installer --backend venv --without-jina "
                "(in R: setup_miniconda(backend = \"venv\", jina = FALSE); in Python: "
                "setup_miniconda(\"venv\", jina=False)); every model but jina-v2 works without it. "
                "Or " + mirror)
    else:
        hint = ("use --backend conda (conda-forge's PyTorch needs no access to PyTorch's index), or "
                + mirror + ", or put the wheel files in a pip find-links folder and pass "
                "--torch-index-url ''" + ("; add --without-jina to leave torchvision out"
                                          if any(jina for _, jina in missing) else ""))
    return InstallError(step, "network", message, hint)
