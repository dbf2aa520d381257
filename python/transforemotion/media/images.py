"""Reading images from files and URLs into RGB arrays,
with the checks that keep bad input from turning into crashes, hangs or silent wrong answers.

Which files are read: JPEG (and MPO, the multi-picture JPEG some phones
write), PNG, BMP, TIFF, WebP, GIF (its first frame) and PPM/PGM/PBM (the
Netpbm formats some face databases are distributed in) — see
:data:`IMAGE_FORMATS`. Whatever a file is called, only these decoders are
tried. Pillow can read many more formats, and would otherwise pick one from
the file's first bytes: an EPS file named ``face.jpg`` would be handed to
Ghostscript, a program interpreter that can run for ever. Anything else is a
ValueError that names the file, says what it holds when that is recognisable
(EPS, PDF, HEIC, a web page...), and lists the accepted formats.

Local paths are checked before they are opened: a named pipe (FIFO), a
socket or a device is refused, since opening or reading one can block for
ever. Downloads live in :mod:`transforemotion.media.http`,
folder listings in :mod:`transforemotion.media.folders`.
"""

from __future__ import annotations

import io
import os
import stat
import urllib.parse
import warnings
from typing import Optional, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError


from ..core.errors import ArgumentError, InputNotFoundError
from ..core.messages import function, value
from .folders import IMAGE_FILE_EXTENSIONS, VIDEO_EXTENSIONS
from .http import fetch_url, is_url

__all__ = ["IMAGE_FORMATS", "MAX_IMAGE_PIXELS", "check_local_file", "load_image", "open_image"]

# Pillow's names of the decoders tried, in this order. JPEG files with several
# pictures (MPO, written by some phone cameras) go through the JPEG decoder,
# which reads the first picture.
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP", "GIF", "PPM")
_FORMAT_NAMES = "JPEG, PNG, BMP, TIFF, WebP, GIF, PPM/PGM"

# Images above this many pixels are refused: a small file can declare a huge
# canvas (a "decompression bomb") and exhaust memory when decoded. 100 MP is
# larger than any camera frame a study is likely to use.
MAX_IMAGE_PIXELS = 100_000_000


def _looks_like_other_scheme(source: str) -> bool:
    scheme = urllib.parse.urlsplit(source).scheme
    # One-letter schemes are Windows drive letters (C:\...), not URLs.
    return len(scheme) > 1 and "://" in source


def _special_file_kind(mode: int) -> Optional[str]:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def check_local_file(path: str, what: str = "image") -> str:
    """Raise the error a researcher can act on for a path that cannot be read; return the path.

    Checked without opening the file: it exists, is not a folder, is a
    regular file (a named pipe, socket or device is refused: opening or
    reading one can block for ever), and is not empty.

    Raises:
        FileNotFoundError: nothing at ``path`` (or a link to nothing).
        ValueError: anything else, naming the path.
    """
    if not isinstance(path, str) or not path:
        hint = " Save the picture to a file (PNG keeps it exact) and give its path." if hasattr(path, "shape") else ""
        raise ArgumentError(f"Each {what} must be a file path or an http(s) URL given as a string; got "
                            f"{value(path)}.{hint}")
    if _looks_like_other_scheme(path):
        raise ArgumentError(f"Only http:// and https:// URLs are supported; got {path!r}.")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputNotFoundError(f"{what.capitalize()} file not found: {path}") from None
    except OSError as exc:  # a name too long, a parent folder without permission...
        raise ArgumentError(f"{path} cannot be read ({exc.strerror or exc}).") from None
    if stat.S_ISDIR(info.st_mode):
        article = "an" if what[0] in "aeiou" else "a"
        advice = " For a folder of images use image_scores_dir()." if what == "image" else ""
        raise ArgumentError(f"{path} is a folder, not {article} {what} file.{advice}")
    kind = _special_file_kind(info.st_mode)
    if kind:
        raise ArgumentError(f"{path} is {kind}, not a regular {what} file, so it was not opened (reading it could wait "
                         f"for ever). Pass the file itself, or copy the data into one.")
    if info.st_size == 0:
        raise ArgumentError(f"{what.capitalize()} file is empty (0 bytes): {path}")
    return path


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any PIL mode to 8-bit RGB, keeping what a viewer would show."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        # PIL's own conversion clips 16-bit values at 255 (a white image):
        # rescale by the type's range instead.
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, mode="L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        # Transparent areas become white, as a viewer shows them, not the
        # arbitrary colour stored under the transparency.
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


# First bytes of formats people meet that are not read here, to say what a
# refused file holds (a file's name often says something else).
_SIGNATURES = (
    (0, b"%!PS", "PostScript/EPS"),
    (0, b"\xc5\xd0\xd3\xc6", "EPS"),
    (0, b"%PDF", "PDF"),
    (0, b"8BPS", "Photoshop (PSD)"),
    (0, b"\x00\x00\x01\x00", "Windows icon (ICO)"),
    (4, b"ftypheic", "HEIC (iPhone photo)"),
    (4, b"ftypheix", "HEIC (iPhone photo)"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
    (0, b"\xff\x0a", "JPEG XL"),
    (0, b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
)


def _what_it_holds(head: bytes) -> Optional[str]:
    for offset, magic, name in _SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return f"{name} data"
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in head.lower()):
        return "an SVG drawing"
    return None


def open_image(stream, label: str) -> Image.Image:
    """Open an image with the decoders of :data:`IMAGE_FORMATS` only (the one place that does).

    ``stream`` is a binary file object positioned at the start; ``label``
    names the source in messages. Only the header is read here.

    Raises:
        ValueError: the data is not one of the accepted formats; the message
            says what it holds when that is recognisable.
    """
    try:
        return Image.open(stream, formats=IMAGE_FORMATS)
    except UnidentifiedImageError:
        if _extension(label) in VIDEO_EXTENSIONS:
            raise ArgumentError(f"{label} is a video, not a picture: use {function('video_scores')} for it.") from None
        stream.seek(0)
        holds = _what_it_holds(stream.read(64))
        detail = f" It holds {holds}." if holds else ""
        raise ArgumentError(
            f"{label} is not an image file that can be read.{detail} Accepted formats: {_FORMAT_NAMES}; convert "
            "the file to JPEG or PNG first."
        ) from None


def _extension(name) -> str:
    """A file name's extension in lower case ("" for none; a URL's query left out)."""
    return os.path.splitext(urllib.parse.urlsplit(str(name)).path)[1].lower()


def is_picture_name(name) -> bool:
    """Whether ``name`` ends as a picture file does (.jpg, .png, ...)."""
    return _extension(name) in IMAGE_FILE_EXTENSIONS


def load_image(source: Union[str, bytes], name: str = None) -> np.ndarray:
    """Read an image file, URL or encoded bytes into an RGB uint8 array (H, W, 3).

    Only the formats of :data:`IMAGE_FORMATS` are read, whatever the file's
    name. EXIF orientation is applied; grayscale, palette, RGBA, CMYK and
    16-bit images are converted to RGB. URLs are fetched with the limits of
    :func:`transforemotion.media.http.download`.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: not an accepted image format, empty, truncated, too
            large, not a regular file, or a URL that cannot be fetched; the
            message names the source.
    """
    if isinstance(source, bytes):
        label, stream = name or "image data", io.BytesIO(source)
    elif is_url(source):
        label, stream = source, io.BytesIO(fetch_url(source))
    else:
        label = check_local_file(source)
        try:
            stream = open(source, "rb")
        except OSError as exc:
            raise ArgumentError(f"{label} cannot be opened ({exc.strerror or exc}).") from None
    try:
        with stream, warnings.catch_warnings():
            # We apply our own pixel limit below; PIL's warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with open_image(stream, label) as opened:
                width, height = opened.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ArgumentError(
                        f"{label} is {width}x{height} pixels, above the {MAX_IMAGE_PIXELS // 1_000_000} megapixel "
                        "limit that protects against decompression bombs. Downscale the image first."
                    )
                opened.load()
                img = opened
                try:
                    img = ImageOps.exif_transpose(opened)
                except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the picture
                    pass
                rgb = np.asarray(_to_rgb(img))
    except ValueError:
        raise
    except Image.DecompressionBombError:
        raise ArgumentError(f"{label} declares an implausibly large image and was refused (decompression bomb).") from None
    except (OSError, SyntaxError, EOFError) as exc:
        raise ArgumentError(f"{label} could not be decoded; the file looks truncated or damaged ({exc}).") from None
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ArgumentError(f"{label} has no pixels.")
    return np.ascontiguousarray(rgb)
