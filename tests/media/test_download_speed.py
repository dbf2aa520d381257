"""curl's low-speed rule in downloads: a drip is cut after LOW_SPEED_SECONDS, a download that
keeps moving is not (issue 21, hostile item 8). A real HTTP server on 127.0.0.1 throughout; the
rule's two numbers are shrunk so that the tests take seconds, not half minutes."""

import io
import os
import time

import pytest

from transforemotion import media
from transforemotion.media import http as downloads

import local_http


@pytest.fixture
def server():
    running = local_http.LocalServer()
    yield running
    running.close()


@pytest.fixture
def quick_rule(monkeypatch):
    """The rule with a 1 s window: under 1,000 bytes per second over 1 s is cut."""
    monkeypatch.setattr(downloads, "LOW_SPEED_BYTES_PER_SECOND", 1000)
    monkeypatch.setattr(downloads, "LOW_SPEED_SECONDS", 1.0)


def steady(data: bytes, chunk: int, interval: float, first: int = 0):
    """``first`` bytes at once, then ``chunk`` bytes every ``interval`` seconds, with the size declared."""
    def send(request):
        request.send_response(200)
        request.send_header("Content-Type", "application/octet-stream")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data[:first])
        request.wfile.flush()
        stop = time.monotonic() + local_http.SLOW_ROUTE_SECONDS
        for start in range(first, len(data), chunk):
            if time.monotonic() > stop:
                return
            time.sleep(interval)
            request.wfile.write(data[start:start + chunk])
            request.wfile.flush()
    return send


def test_the_rule_is_curls_numbers():
    assert (downloads.LOW_SPEED_BYTES_PER_SECOND, downloads.LOW_SPEED_SECONDS) == (1000, 30)
    assert downloads.LOW_SPEED_SECONDS < downloads.DOWNLOAD_SECONDS / 5  # "well under" the total limit


def test_a_drip_is_cut_by_the_speed_rule_long_before_the_total_limit(server, quick_rule):
    # 10 bytes a second, forever as far as the client can tell: 300 s of waiting before.
    url = server.route("/drip.jpg", local_http.slow_body(os.urandom(5000), interval=0.1))
    began = time.monotonic()
    with pytest.raises(ValueError) as info:
        media.fetch_url(url)
    took = time.monotonic() - began
    assert took < 3.5, took
    message = str(info.value)
    assert url in message and "1,000 bytes per second" in message and "over 1 s" in message
    assert "download the file yourself" in message


def test_endless_headers_count_as_nothing_received(server, quick_rule):
    url = server.route("/headers.jpg", local_http.slow_headers(interval=0.05))
    began = time.monotonic()
    with pytest.raises(ValueError, match=r"received 0 bytes in the last 1 s"):
        media.download(url, io.BytesIO(), max_bytes=10_000)
    assert time.monotonic() - began < 3.5


def test_a_download_that_stalls_after_a_good_start_is_cut_a_window_later(server, quick_rule):
    data = os.urandom(200_000)
    url = server.route("/stall.bin", steady(data, chunk=1, interval=0.1, first=100_000))
    began = time.monotonic()
    with pytest.raises(ValueError, match=r"100,0\d\d bytes in all"):
        media.download(url, io.BytesIO(), max_bytes=1_000_000)
    assert 0.9 < time.monotonic() - began < 3.5


@pytest.mark.slow
def test_slow_but_steady_above_the_limit_completes(server, quick_rule):
    """8 kB/s for 3 s: slower than a drip-free server, faster than the limit, longer than the window."""
    data = os.urandom(24_000)
    url = server.route("/steady.bin", steady(data, chunk=800, interval=0.1))
    out = io.BytesIO()
    began = time.monotonic()
    assert media.download(url, out, max_bytes=1_000_000) == len(data)
    assert time.monotonic() - began > 2.5  # it really outlasted the 1 s window
    assert out.getvalue() == data


def test_a_large_fast_download_completes(server, monkeypatch):
    """64 MB: with the rule's window shrunk to 0.2 s and a 1 MB/s floor, nothing is cut."""
    monkeypatch.setattr(downloads, "LOW_SPEED_BYTES_PER_SECOND", 1_000_000)
    monkeypatch.setattr(downloads, "LOW_SPEED_SECONDS", 0.2)
    data = os.urandom(64 * 1024 * 1024)
    url = server.route("/large.bin", local_http.file(data))
    out = io.BytesIO()
    assert media.download(url, out, max_bytes=len(data)) == len(data)
    assert out.getvalue() == data
