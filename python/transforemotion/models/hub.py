"""Reaching the Hugging Face model hub: the local cache first, one quick check, never a minute of retries.

Left to itself, transformers asks the hub about every file before it looks in
the cache, and on a machine without a network it retries each request with
back-off, so a missing model fails only after half a minute or more (issue
#11). Here a model named by its hub id is loaded in up to three steps:

1. from the local cache alone (no network at all): a model that was
   downloaded once loads offline, at once;
2. if that fails and ``HF_HUB_OFFLINE`` is set, stop with a message that says
   so;
3. otherwise one request with a short timeout checks that the hub answers;
   only if it does is the download attempted, and if it does not the error
   comes within seconds and names ``local_model_path``.
"""

from __future__ import annotations

import json
import os
from typing import Callable, Optional, TypeVar

from ..core.errors import ModelUnavailableError
from ..core.messages import arg, current_caller, first_line

__all__ = ["HUB_CHECK_TIMEOUT", "NotInCache", "offline", "unreachable", "short_reason", "unreachable_message",
           "load_cache_first", "in_cache", "hub_json"]

# Seconds to wait for the hub to answer the one reachability check. A closed
# port or an unknown host fails at once; this bounds a silently dropped
# connection.
HUB_CHECK_TIMEOUT = 5.0

T = TypeVar("T")


def offline() -> bool:
    """Whether the user asked for no network (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE``), read now."""
    from huggingface_hub import constants

    def truthy(name: str) -> bool:
        return os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")

    return bool(getattr(constants, "HF_HUB_OFFLINE", False)) or truthy("HF_HUB_OFFLINE") or truthy(
        "TRANSFORMERS_OFFLINE")


def endpoint() -> str:
    from huggingface_hub import constants

    return str(constants.ENDPOINT).rstrip("/")


def unreachable(timeout: float = HUB_CHECK_TIMEOUT) -> Optional[str]:
    """None when the hub answers one HEAD request (any HTTP status), else the reason it could not be reached.

    The request goes through huggingface_hub's own HTTP session, so proxies
    and certificates configured for the hub apply to it as to a download.
    """
    from huggingface_hub.utils import get_session

    try:
        get_session().head(endpoint(), timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - requests and httpx raise different classes; any failure means "no"
        return short_reason(exc, timeout)
    return None


def _causes(exc: BaseException):
    """``exc`` and every exception inside it: causes, contexts, urllib3's ``reason``, exceptions among the args."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        inner += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        pending.extend(e for e in inner if isinstance(e, BaseException))


def short_reason(exc: BaseException, timeout: float = HUB_CHECK_TIMEOUT) -> str:
    """Why a connection failed, in a few words, instead of the wall of text requests and urllib3 give
    ("HTTPSConnectionPool(host=...): Max retries exceeded with url: / (Caused by NameResolutionError(...")."""
    import socket
    import ssl

    chain = list(_causes(exc))
    text = " ".join(str(e) for e in chain).lower()
    names = " ".join(type(e).__name__ for e in chain)
    if any(isinstance(e, socket.gaierror) for e in chain) or "nameresolution" in names.lower() or any(
            words in text for words in ("name or service not known", "temporary failure in name resolution",
                                        "nodename nor servname", "getaddrinfo failed", "failed to resolve")):
        return "its name could not be looked up: no network, or no DNS"
    if "proxy" in names.lower() or "proxy" in text:
        return "the proxy refused or failed the connection"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return "the connection was refused"
    if any(isinstance(e, (TimeoutError, socket.timeout)) for e in chain) or "timeout" in names.lower() \
            or "timed out" in text:
        return f"no answer within {timeout:g} s"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in names.lower() or "certificate" in text:
        return "a certificate (TLS) error"
    innermost = chain[-1]
    reason = first_line(innermost)
    return reason if len(reason) <= 120 else reason[:117] + "..."


def _test_model_hint() -> str:
    kind = current_caller()
    if kind == "r":
        return "local_model_path = tiny_clip_model()"
    if kind == "cli":
        return "transforemotion test-model FOLDER, then --local-model-path FOLDER"
    return "local_model_path=transforemotion.testing.build_tiny_clip(folder)"


def unreachable_message(name: str, reason: str) -> str:
    """One paragraph: the hub cannot be reached, and the three ways on without it."""
    from huggingface_hub import constants

    return (f"The model hub at {endpoint()} cannot be reached ({reason}), and {name!r} is not in this computer's "
            f"Hugging Face cache ({constants.HF_HUB_CACHE}), so the model cannot be loaded. To go on: connect to "
            "the internet (check HF_ENDPOINT and the proxy settings) and run again, and the model is downloaded "
            f"once and cached; or copy the model's folder from a computer that has it and pass it as "
            f"{arg('local_model_path')} (or copy that computer's Hugging Face cache to the folder above); or, to "
            f"try things out with a tiny model with random weights (its scores mean nothing): {_test_model_hint()}. "
            "Set HF_HUB_OFFLINE=1 to never try the network.")


def load_cache_first(repo_id: str, name: str, attempt: Callable[[bool, bool], T]) -> T:
    """Load ``repo_id`` with ``attempt(local_only, final)``: from the cache, else (after one check) from the hub.

    ``attempt`` raises OSError when something it needs is missing. With
    ``final=False`` it must also fail when the cache cannot say whether an
    optional file exists (it was never asked for), so that the download step
    can fetch it; with ``final=True`` it uses defaults for such files.
    """
    try:
        return attempt(True, offline())
    except OSError as exc:
        cache_error = exc
    if offline():
        raise ModelUnavailableError(
            f"{name!r} is not in the local Hugging Face cache, and HF_HUB_OFFLINE is set, so nothing is "
            f"downloaded ({first_line(cache_error)}). Download it once where there is internet access, or pass "
            f"the model's folder as {arg('local_model_path')}."
        ) from None
    reason = unreachable()
    if reason is not None:
        try:  # everything the cache has, with defaults for the optional files it never saw
            return attempt(True, True)
        except OSError:
            pass
        raise ModelUnavailableError(unreachable_message(name, reason)) from None
    try:
        return attempt(False, True)
    except OSError as exc:
        raise ModelUnavailableError(
            f"Could not download or load {name!r} ({first_line(exc)}). Check the model id, or download the model "
            f"once and pass its folder as {arg('local_model_path')}."
        ) from None


class NotInCache(OSError):
    """The cache cannot tell whether a file exists: it was never asked for."""


def in_cache(repo_id: str, filename: str) -> bool:
    """Whether the local cache holds ``filename`` of ``repo_id`` (nothing is downloaded)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, filename), str)


def hub_json(repo_id: str, filename: str, local_only: bool, final: bool) -> Optional[dict]:
    """A JSON file of a hub repository, or None if the repository has no such file.

    With ``local_only`` nothing is downloaded: a file the cache has is read, a
    file the cache knows to be absent gives None, and a file the cache never
    saw raises :class:`NotInCache`, or gives None when ``final``.
    """
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    if local_only:
        found = try_to_load_from_cache(repo_id, filename)
        if isinstance(found, str):
            return _read_json(found)
        if found is not None or final:  # a cached "does not exist", or no way to ask
            return None
        raise NotInCache(f"{filename} of {repo_id} is not in the cache")
    try:
        return _read_json(hf_hub_download(repo_id, filename))
    except LocalEntryNotFoundError as exc:  # the network failed (a subclass of EntryNotFoundError)
        raise OSError(str(exc)) from None
    except EntryNotFoundError:  # the repository has no such file
        return None


def _read_json(path: str) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)
