"""Downloading from http(s) URLs: the one place that fetches anything from the network for images and videos.

Every download is bounded three ways, whatever the server does:

- in bytes (``max_bytes``), checked against the declared size before the
  body is read and against the bytes received while it is read;
- in total time (``max_seconds``): a timer shuts the connection down when
  the time is up, so a server that sends one byte per second (in the body
  or in the headers) cannot keep a run waiting for ever. A per-read timeout
  alone would not help there: every read returns in time.
- in speed, by curl's low-speed rule: a transfer that has averaged under
  ``LOW_SPEED_BYTES_PER_SECOND`` over the last ``LOW_SPEED_SECONDS`` is cut
  then, so a drip fails in half a minute rather than at the total limit,
  while a large download that keeps moving runs as long as it needs (up to
  ``max_seconds``).
- in where it may lead: only http:// and https:// addresses are fetched, and
  every redirect is checked the same way (``urllib`` on its own follows
  redirects to ftp://).

Addresses are quoted as a browser does before they are sent, so that a URL
copied from the address bar with a space or accents in its path, or a
non-ASCII host name, works; an address that is already quoted is left as it
is (``%20`` stays ``%20``).

Not bounded by the timer: the host-name look-up, which the operating system
does (its resolver gives up after some seconds on its own).
"""

from __future__ import annotations

import collections
import functools
import http.client
import io
import re
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import BinaryIO, List, Optional

from ..core.errors import ArgumentError

__all__ = [
    "MAX_DOWNLOAD_BYTES",
    "DOWNLOAD_SECONDS",
    "URL_TIMEOUT_SECONDS",
    "LOW_SPEED_BYTES_PER_SECOND",
    "LOW_SPEED_SECONDS",
    "is_url",
    "quote_url",
    "download",
    "fetch_url",
]

# Image downloads stop at this size, and after this long in all; a single
# wait for data from the server is cut at URL_TIMEOUT_SECONDS. A photo is a
# few MB; the limits only stop a wrong or hostile address.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
DOWNLOAD_SECONDS = 300
URL_TIMEOUT_SECONDS = 30
# curl's --speed-limit / --speed-time: slower than this on average, over this
# long, is a server that is not really sending (headers count as nothing
# received). Read at each download, so tests may change them.
LOW_SPEED_BYTES_PER_SECOND = 1000
LOW_SPEED_SECONDS = 30

ALLOWED_SCHEMES = ("http", "https")

_USER_AGENT = "transforemotion (https://pypi.org/project/transforemotion)"


def is_url(source) -> bool:
    """True for text that starts with http:// or https:// (any case)."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


# --- addresses ----------------------------------------------------------------

# Characters left as they are in each part: the delimiters that give a URL its
# structure, and "%" so that an address quoted once is not quoted twice.
_PATH_SAFE = "/:@!$&'()*+,;=~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _quote_part(text: str, safe: str) -> str:
    quoted = urllib.parse.quote(text, safe=safe)
    # A "%" that does not start an escape ("100% happy.jpg") is a literal one.
    return _STRAY_PERCENT.sub("%25", quoted)


def _ascii_host(host: str, url: str) -> str:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ArgumentError(f"{url} has a host name ({host}) that cannot be written as an internet address.") from None


def quote_url(url: str) -> str:
    """``url`` as a browser sends it: spaces and non-ASCII characters in the path
    and query percent-encoded as UTF-8, a non-ASCII host name in its ASCII
    (IDNA) form, existing ``%XX`` escapes kept, the ``#fragment`` dropped
    (it is never sent to a server).

    >>> quote_url("https://example.org/my face.jpg")
    'https://example.org/my%20face.jpg'
    >>> quote_url("https://example.org/my%20face.jpg?size=large")
    'https://example.org/my%20face.jpg?size=large'
    """
    parts = urllib.parse.urlsplit(url.strip())
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if hostport.startswith("["):  # an IPv6 address: ASCII already
        host, port = hostport, ""
    else:
        host, colon, port = hostport.partition(":")
        port = colon + port
    if not host:
        raise ArgumentError(f"{url} has no host name; a URL looks like https://example.org/face.jpg.")
    if port[1:] and not port[1:].isdigit():
        raise ArgumentError(f"{url} has an invalid port ({port[1:]!r}).")
    netloc = _quote_part(userinfo, "!$&'()*+,;=:%") + at + _ascii_host(host, url) + port
    return urllib.parse.urlunsplit((
        parts.scheme.lower(),
        netloc,
        _quote_part(parts.path, _PATH_SAFE) or "/",
        _quote_part(parts.query, _QUERY_SAFE),
        "",
    ))


# --- the total-time and low-speed limits --------------------------------------

class _Deadline:
    """Shuts down every connection of one download when its time is up, or
    when it has been too slow for too long.

    The connections register their sockets as they are made (before the TLS
    handshake, so a slow handshake is cut too); a watcher thread shuts them
    down when the time is up or the speed rule is broken, which ends any read
    in progress at once. Each socket is duplicated on registration, so the
    shutdown reaches the right connection even if the original has been
    closed and its number reused. The reader adds what it receives to
    ``received``; ``reason`` says why it was cut ("time" or "speed").
    """

    def __init__(self, seconds: float, low_speed: float = 0, low_speed_seconds: float = 0):
        self.seconds = seconds
        self.low_speed, self.low_speed_seconds = low_speed, low_speed_seconds
        self.received = 0
        self.reason: Optional[str] = None
        self.window_bytes = 0  # what came in the window that broke the speed rule
        self.window_seconds = 0.0
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="download-deadline", daemon=True)
        self._thread.start()

    @property
    def expired(self) -> bool:
        return self.reason is not None

    def remaining(self) -> float:
        return max(0.0, self._ends - time.monotonic())

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            copy = sock.dup()
            self._sockets.append(copy)
            if self.expired:
                self._shut(copy)
        return sock

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed by the other side

    def _watch(self) -> None:
        window = self.low_speed_seconds if self.low_speed > 0 else 0
        # Samples of (time, bytes so far); the oldest is the newest one at least a window old,
        # so the speed is averaged over a little more than the window, never less.
        samples = collections.deque([(time.monotonic(), 0)])
        tick = min(1.0, window / 10) if window else threading.TIMEOUT_MAX
        while not self._stop.wait(max(0.0, min(tick, self.remaining()))):
            now = time.monotonic()
            if now >= self._ends:
                self._expire("time")
                return
            if not window:
                continue
            samples.append((now, self.received))
            while len(samples) > 1 and now - samples[1][0] >= window:
                samples.popleft()
            then, before = samples[0]
            if now - then >= window and self.received - before < self.low_speed * (now - then):
                self.window_bytes, self.window_seconds = self.received - before, now - then
                self._expire("speed")
                return

    def _expire(self, reason: str) -> None:
        with self._lock:
            self.reason = reason
            for sock in self._sockets:
                self._shut(sock)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _WatchedConnection:
    """Mixin for http.client connections: hand each new socket to the deadline."""

    def __init__(self, *args, deadline: _Deadline, **kwargs):
        super().__init__(*args, **kwargs)
        create = self._create_connection  # socket.create_connection, kept per connection by http.client
        self._create_connection = lambda *a, **k: deadline.watch(create(*a, **k))


class _WatchedHTTPConnection(_WatchedConnection, http.client.HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedConnection, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline):
        super().__init__()
        self._deadline = deadline

    def http_open(self, req):
        return self.do_open(functools.partial(_WatchedHTTPConnection, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline, context: ssl.SSLContext):
        super().__init__(context=context)
        self._deadline = deadline
        self._tls = context

    def https_open(self, req):
        return self.do_open(functools.partial(_WatchedHTTPSConnection, deadline=self._deadline), req,
                            context=self._tls)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) addresses only, saying where a refused one led."""

    def __init__(self, original: str):
        super().__init__()
        self._original = original

    def http_error_302(self, req, fp, code, msg, headers):
        location = headers.get("location") or headers.get("uri")
        if location:
            target = urllib.parse.urljoin(req.full_url, location)
            if urllib.parse.urlsplit(target).scheme.lower() not in ALLOWED_SCHEMES:
                fp.close()
                raise ArgumentError(
                    f"{self._original} redirects to {target}, which is not an http:// or https:// address; only "
                    "those are followed. Download the file yourself and pass its path."
                )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


@functools.lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Loading the system's certificates takes milliseconds; do it once.
    return ssl.create_default_context()


def _opener(deadline: _Deadline, original: str) -> urllib.request.OpenerDirector:
    # build_opener keeps its proxy handling (http_proxy, https_proxy, no_proxy)
    # and replaces its default http, https and redirect handlers by these.
    return urllib.request.build_opener(
        _HTTPHandler(deadline), _HTTPSHandler(deadline, _tls_context()), _RedirectHandler(original)
    )


# --- downloading --------------------------------------------------------------

def _megabytes(n: float) -> str:
    return f"{n / 1e6:,.1f} MB" if n < 10e6 else f"{n / 1e6:,.0f} MB"


def download(url: str, out: BinaryIO, max_bytes: int, timeout: float = URL_TIMEOUT_SECONDS,
             refuse_html: bool = False, max_seconds: float = DOWNLOAD_SECONDS) -> Optional[int]:
    """Stream an http(s) URL into ``out``, within ``max_bytes`` and ``max_seconds`` in all.

    Args:
        url: an http:// or https:// address, quoted or not (see :func:`quote_url`).
        out: a binary file object; only complete chunks are written to it.
        max_bytes: refuse a larger download (before reading, when the server
            declares its size).
        timeout: the longest single wait for the server (connecting, or the
            next piece of data).
        refuse_html: when the server answers with a web page, return None
            without reading it (a video page that needs yt-dlp).
        max_seconds: the longest the whole download may take, headers
            included; at that time the connection is shut.

    Returns:
        The number of bytes written, or None for a refused web page.

    Raises:
        ValueError: the address is not http(s), a redirect leads elsewhere,
            the server answers with an error, the download is larger or
            slower than the limits, or is cut off; the message names the URL.
    """
    if not is_url(url):
        raise ArgumentError(f"Only http:// and https:// URLs are supported; got {url!r}.")
    if not max_seconds > 0 or not max_bytes > 0:
        raise ArgumentError(f"max_seconds and max_bytes must be positive; got {max_seconds!r} and {max_bytes!r}.")
    address = quote_url(url)
    deadline = _Deadline(max_seconds, LOW_SPEED_BYTES_PER_SECOND, LOW_SPEED_SECONDS)
    written = 0

    def too_slow() -> ValueError:
        if deadline.reason == "speed":
            return ValueError(
                f"Downloading {url} was stopped: it received {deadline.window_bytes:,} bytes in the last "
                f"{deadline.window_seconds:.0f} s ({written:,} bytes in all), under the "
                f"{LOW_SPEED_BYTES_PER_SECOND:,} bytes per second a transfer must keep up over "
                f"{LOW_SPEED_SECONDS:g} s. The server is sending too slowly or has stalled; try again later, "
                "or download the file yourself (for example in a browser) and pass its path."
            )
        return ValueError(
            f"Downloading {url} took longer than {max_seconds:g} s ({_megabytes(written)} received), so it was "
            "stopped. The server is too slow or does not answer; download the file yourself (for example in a "
            "browser) and pass its path."
        )

    limit = f"the {_megabytes(max_bytes)} limit"
    request = urllib.request.Request(address, headers={"User-Agent": _USER_AGENT})
    try:
        with _opener(deadline, url).open(request, timeout=min(timeout, max_seconds)) as response:
            if refuse_html and response.headers.get_content_type() in ("text/html", "application/xhtml+xml"):
                return None
            declared = response.headers.get("Content-Length", "").strip()
            declared_size = int(declared) if declared.isdigit() else None
            if declared_size is not None and declared_size > max_bytes:
                raise ArgumentError(f"{url} is {_megabytes(declared_size)}, more than {limit}. "
                                 "Download it yourself and pass the file.")
            while True:
                chunk = response.read1(1 << 16)
                if deadline.expired:
                    raise too_slow()
                if not chunk:
                    break
                written += len(chunk)
                deadline.received = written
                if written > max_bytes:
                    raise ArgumentError(f"{url} is larger than {limit}; download stopped. "
                                     "Download it yourself and pass the file.")
                out.write(chunk)
        if declared_size is not None and written < declared_size:
            raise ArgumentError(f"The download of {url} was cut off after {written:,} of {declared_size:,} bytes. "
                             "Try again, or download the file yourself and pass its path.")
        return written
    except urllib.error.HTTPError as exc:
        exc.close()  # an HTTPError holds the open connection
        raise ArgumentError(f"Could not download {url}: the server answered {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        if deadline.expired:
            raise too_slow() from None
        reason = getattr(exc, "reason", None) or exc
        raise ArgumentError(
            f"Could not download {url} ({reason}). Check the address and the internet connection, "
            "or download the file and pass its path."
        ) from None
    finally:
        deadline.close()


def fetch_url(url: str, max_bytes: int = MAX_DOWNLOAD_BYTES, timeout: float = URL_TIMEOUT_SECONDS,
              max_seconds: float = DOWNLOAD_SECONDS) -> bytes:
    """Download an http(s) URL into memory, within the limits of :func:`download`."""
    buffer = io.BytesIO()
    download(url, buffer, max_bytes, timeout, max_seconds=max_seconds)
    if not buffer.getbuffer().nbytes:
        raise ArgumentError(f"{url} returned an empty response.")
    return buffer.getvalue()
