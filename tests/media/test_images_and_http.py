"""Hostile and careless input to image reading, downloads and folder listing (issue #9).

Each test names the failure it guards against; all use real files, real
subprocesses and a real HTTP server on 127.0.0.1.
"""

import io
import math
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from PIL import Image

import transforemotion as te
from transforemotion import media

import local_http

CLASSES = ["joy", "anger", "surprise"]


@pytest.fixture
def server():
    running = local_http.LocalServer()
    yield running
    running.close()


def encoded(picture: np.ndarray, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def picture():
    # Smooth, so that JPEG keeps it close; different in each channel, so that a channel swap shows.
    y, x = np.mgrid[0:24, 0:32]
    return np.stack([x * 8, y * 10, 255 - x * 4 - y * 3], axis=-1).astype(np.uint8)


# --- which formats are read ---------------------------------------------------------

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n%%EndComments\n{} loop\n"


@pytest.mark.slow
def test_eps_named_jpg_is_refused_without_running_ghostscript(tmp_path):
    # Pillow would hand this to Ghostscript, and "{} loop" never ends: run it in
    # a separate process so that a regression fails here instead of hanging.
    path = tmp_path / "face.jpg"
    path.write_bytes(EPS)
    script = textwrap.dedent(f"""
        from transforemotion.media import load_image
        try:
            load_image({str(path)!r})
        except ValueError as exc:
            print(exc)
    """)
    package_root = os.path.dirname(os.path.dirname(media.__file__))  # the transforemotion under test
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root, os.environ.get("PYTHONPATH", "")]))
    try:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("reading an EPS file named .jpg did not finish within 60 s")
    message = done.stdout
    assert "face.jpg" in message and "PostScript/EPS" in message
    assert "JPEG, PNG" in message  # the accepted formats are listed


@pytest.mark.parametrize("fmt, name", [("ICO", "face.jpg"), ("TGA", "face.png"), ("PCX", "face.bmp"),
                                       ("SGI", "face.jpg")])
def test_formats_outside_the_allow_list_are_refused_whatever_the_name(tmp_path, picture, fmt, name):
    path = tmp_path / name
    path.write_bytes(encoded(picture, fmt))
    with pytest.raises(ValueError, match="Accepted formats: JPEG") as info:
        media.load_image(str(path))
    assert name in str(info.value)


@pytest.mark.parametrize("content, holds", [
    (b"%PDF-1.7\n" + b"0" * 100, "PDF"),
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100, "HEIC"),
    (b"<!DOCTYPE html><html><body>Not found</body></html>", "web page"),
])
def test_refused_file_says_what_it_holds(tmp_path, content, holds):
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=holds):
        media.load_image(str(path))


@pytest.mark.parametrize("fmt, options, lossless", [
    ("PNG", {}, True), ("BMP", {}, True), ("TIFF", {}, True), ("WEBP", {"lossless": True}, True),
    ("PPM", {}, True), ("JPEG", {"quality": 95}, False),
])
def test_accepted_formats_are_read(tmp_path, picture, fmt, options, lossless):
    path = tmp_path / f"face.{fmt.lower()}"
    path.write_bytes(encoded(picture, fmt, **options))
    rgb = media.load_image(str(path))
    if lossless:
        np.testing.assert_array_equal(rgb, picture)
    else:
        assert rgb.shape == picture.shape and np.abs(rgb.astype(int) - picture).mean() < 5


def test_gif_and_phone_mpo_files_are_read(tmp_path, picture):
    gif = tmp_path / "face.gif"
    Image.fromarray(picture).save(gif)
    assert media.load_image(str(gif)).shape == picture.shape
    # MPO: the multi-picture JPEG of some phone cameras; the first picture is read.
    mpo = tmp_path / "phone.jpg"
    second = Image.fromarray(255 - picture)
    Image.fromarray(picture).save(mpo, format="MPO", save_all=True, append_images=[second], quality=95)
    with Image.open(mpo) as check:
        assert check.format == "MPO"
    assert np.abs(media.load_image(str(mpo)).astype(int) - picture).mean() < 5


# --- downloads: total time and size ----------------------------------------------------

def test_a_server_sending_one_byte_at_a_time_is_cut_at_the_total_limit(server, picture):
    url = server.route("/slow.png", local_http.slow_body(encoded(picture, "PNG"), interval=0.1))
    began = time.monotonic()
    with pytest.raises(ValueError, match=r"longer than 1 s") as info:
        media.fetch_url(url, max_seconds=1.0)
    assert time.monotonic() - began < 4
    assert "/slow.png" in str(info.value)


def test_a_server_sending_endless_headers_is_cut_at_the_total_limit(server):
    url = server.route("/headers.jpg", local_http.slow_headers(interval=0.1))
    began = time.monotonic()
    with pytest.raises(ValueError, match="longer than 1 s"):
        media.download(url, io.BytesIO(), max_bytes=10_000, max_seconds=1.0)
    assert time.monotonic() - began < 4


def test_a_download_cut_off_before_its_declared_size_is_an_error(server):
    url = server.route("/cut.jpg", local_http.cut_off(b"x" * 1000, declared=5000))
    out = io.BytesIO()
    with pytest.raises(ValueError, match="cut off after 1,000 of 5,000 bytes"):
        media.download(url, out, max_bytes=10_000)


def test_declared_and_actual_sizes_are_both_limited(server):
    url = server.route("/big.bin", local_http.file(b"x" * 5000))
    with pytest.raises(ValueError, match="more than"):
        media.download(url, io.BytesIO(), max_bytes=1000)


# --- downloads: addresses --------------------------------------------------------------

@pytest.mark.parametrize("given, sent", [
    ("https://example.org/my face.jpg", "https://example.org/my%20face.jpg"),
    ("https://example.org/f\u00e1ce.jpg", "https://example.org/f%C3%A1ce.jpg"),
    ("https://example.org/my%20face.jpg", "https://example.org/my%20face.jpg"),  # not quoted twice
    ("https://example.org/100% happy.jpg", "https://example.org/100%25%20happy.jpg"),
    ("https://b\u00fccher.example/a.jpg", "https://xn--bcher-kva.example/a.jpg"),
    ("HTTP://Example.org:8080/a b.jpg?size=big one&x=1#part", "http://Example.org:8080/a%20b.jpg?size=big%20one&x=1"),
    ("http://[::1]:8000/a.jpg", "http://[::1]:8000/a.jpg"),
    ("https://example.org", "https://example.org/"),
])
def test_urls_are_quoted_as_a_browser_sends_them(given, sent):
    from transforemotion.media.http import quote_url

    assert quote_url(given) == sent


@pytest.mark.parametrize("name", ["my face.png", "f\u00e1ce.png", "caf\u00e9 \u00e9t\u00e9 #1.png"])
def test_urls_copied_from_a_browser_are_fetched(server, picture, name):
    from urllib.parse import quote

    server.route("/" + quote(name), local_http.file(encoded(picture, "PNG"), "image/png"))
    # As pasted from the address bar (unquoted), and as a link gives it (quoted).
    for url in (server.url("/" + name.replace("#", "%23")), server.url("/" + quote(name))):
        np.testing.assert_array_equal(media.load_image(url), picture)


def test_redirects_to_other_http_addresses_are_followed(server, picture):
    server.route("/real.png", local_http.file(encoded(picture, "PNG"), "image/png"))
    url = server.route("/moved.png", local_http.redirect("/real.png", 301))
    np.testing.assert_array_equal(media.load_image(url), picture)


@pytest.fixture
def ftp_listener():
    """A TCP port that counts connections: an ftp:// redirect must never reach it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            accepted.append(1)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], accepted
    stop.set()
    thread.join()
    listener.close()


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:{port}/face.jpg", "file:///etc/passwd"])
def test_redirects_to_other_schemes_are_refused(server, ftp_listener, target):
    port, accepted = ftp_listener
    location = target.format(port=port)
    url = server.route("/face.jpg", local_http.redirect(location))
    with pytest.raises(ValueError, match="redirects to") as info:
        media.load_image(url)
    assert location in str(info.value) and "only those are followed" in str(info.value)
    assert accepted == []


# --- local files that are not regular files ----------------------------------------------

@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("named pipes need a POSIX system")
    path = tmp_path / "pipe.jpg"
    os.mkfifo(path)
    return path


def test_a_named_pipe_is_refused_before_it_is_opened(fifo):
    # Opening a pipe without a writer would block for ever; the check must come first.
    with pytest.raises(ValueError, match="named pipe") as info:
        media.check_local_file(str(fifo))
    assert "pipe.jpg" in str(info.value)
    with pytest.raises(ValueError, match="named pipe"):
        media.load_image(str(fifo))


def test_a_socket_is_refused(tmp_path):
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("Unix sockets need a POSIX system")
    path = tmp_path / "s.jpg"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(ValueError, match="a socket"):
            media.check_local_file(str(path))
    finally:
        server.close()


def test_a_device_is_refused():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero here")
    with pytest.raises(ValueError, match="a device"):
        media.load_image("/dev/zero")


def test_folder_listing_keeps_pipes_and_broken_links_so_none_is_dropped(tmp_path, fifo):
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "folder.jpg").mkdir()
    os.symlink(tmp_path / "missing.png", tmp_path / "gone.png")
    expected = [str(tmp_path / n) for n in ("a.jpg", "gone.png", "pipe.jpg")]
    assert media.list_image_files(str(tmp_path), r"\.(jpg|png)$") == expected
    assert media.list_image_files(str(tmp_path), r"\.(jpg|png)$", recursive=True) == expected


def test_image_scores_dir_gives_a_pipe_a_missing_row_and_goes_on(tiny_model, image_dir, tmp_path, fifo):
    (tmp_path / "astronaut.jpg").write_bytes((image_dir / "astronaut.jpg").read_bytes())
    with pytest.warns(te.TransforemotionWarning, match="pipe.jpg"):
        result = te.image_scores_dir(str(tmp_path), CLASSES, local_model_path=tiny_model)
    assert result["image_id"] == ["astronaut.jpg", "pipe.jpg"]
    assert not math.isnan(result["joy"][0]) and math.isnan(result["joy"][1])


def test_a_redirect_to_a_raw_utf8_address_is_followed(server, picture):
    # Servers send raw UTF-8 bytes in Location; http.client reads them as Latin-1.
    server.route("/f%C3%A1ce.png", local_http.file(encoded(picture, "PNG"), "image/png"))

    def send(request):
        request.send_response(302)
        request.send_header("Location", "/f\u00e1ce.png".encode("utf-8").decode("latin-1"))
        request.send_header("Content-Length", "0")
        request.end_headers()

    url = server.route("/old.png", send)
    np.testing.assert_array_equal(media.load_image(url), picture)


def test_a_picture_given_as_an_array_is_named_by_its_shape_not_printed(picture):
    with pytest.raises(ValueError) as info:
        te.image_scores(np.zeros((640, 480, 3), np.uint8), ["joy", "anger"])
    message = str(info.value)
    assert "ndarray of shape (640, 480, 3)" in message and "give its path" in message
    assert len(message) < 300
    with pytest.raises(ValueError, match=r"got \[0, 1, 2, .*, 51\.\.\.\.$") as info:
        te.image_scores([list(range(1000))], ["joy", "anger"])
    assert len(str(info.value)) < 300
