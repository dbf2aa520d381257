"""Reading images from files and URLs into RGB arrays, with the checks that keep
bad input from turning into crashes, hangs or silent wrong answers."""

from __future__ import annotations

import io
import os
import re
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import BinaryIO, Optional, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["list_image_files", "MAX_IMAGE_PIXELS", "MAX_DOWNLOAD_BYTES", "is_url", "load_image", "download", "fetch_url", "check_local_file"]

# Images above this many pixels are refused: a small file can declare a huge
# canvas (a "decompression bomb") and exhaust memory when decoded. 100 MP is
# larger than any camera frame a study is likely to use.
MAX_IMAGE_PIXELS = 100_000_000

# URL downloads stop at this size and after this many seconds without data.
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
URL_TIMEOUT_SECONDS = 30

_USER_AGENT = "transforemotion (https://pypi.org/project/transforemotion)"


def is_url(source: str) -> bool:
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def _looks_like_other_scheme(source: str) -> bool:
    scheme = urllib.parse.urlsplit(source).scheme
    # One-letter schemes are Windows drive letters (C:\...), not URLs.
    return len(scheme) > 1 and "://" in source


def check_local_file(path: str, what: str = "image") -> str:
    """Raise the error a researcher can act on for a path that cannot be read."""
    if not isinstance(path, str) or not path:
        raise ValueError(f"Each {what} must be a file path or an http(s) URL given as a string; got {path!r}.")
    if _looks_like_other_scheme(path):
        raise ValueError(f"Only http:// and https:// URLs are supported; got {path!r}.")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{what.capitalize()} file not found: {path}")
    if os.path.isdir(path):
        article = "an" if what[0] in "aeiou" else "a"
        advice = " For a folder of images use image_scores_dir()." if what == "image" else ""
        raise ValueError(f"{path} is a folder, not {article} {what} file.{advice}")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{what.capitalize()} file is empty (0 bytes): {path}")
    return path


def download(url: str, out: BinaryIO, max_bytes: int, timeout: float = URL_TIMEOUT_SECONDS,
             refuse_html: bool = False) -> Optional[int]:
    """Stream an http(s) URL into ``out``, refusing more than ``max_bytes``.

    Returns the number of bytes written, or None without reading the body when
    ``refuse_html`` and the server sends a web page (for example a video page
    that needs yt-dlp). Every failure is a ValueError that names the URL.
    """
    if not is_url(url):
        raise ValueError(f"Only http:// and https:// URLs are supported; got {url!r}.")
    limit = f"the {max_bytes / 1e6:,.0f} MB limit"
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if refuse_html and response.headers.get_content_type() == "text/html":
                return None
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise ValueError(f"{url} is {int(declared) / 1e6:,.0f} MB, more than {limit}. "
                                 "Download it yourself and pass the file.")
            written = 0
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    return written
                written += len(chunk)
                if written > max_bytes:
                    raise ValueError(f"{url} is larger than {limit}; download stopped. "
                                     "Download it yourself and pass the file.")
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        exc.close()  # an HTTPError holds the open connection
        raise ValueError(f"Could not download {url}: the server answered {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ValueError(
            f"Could not download {url} ({reason}). Check the address and the internet connection, "
            "or download the file and pass its path."
        ) from None


def fetch_url(url: str, max_bytes: int = MAX_DOWNLOAD_BYTES, timeout: float = URL_TIMEOUT_SECONDS) -> bytes:
    """Download an http(s) URL into memory, refusing anything larger than ``max_bytes``."""
    buffer = io.BytesIO()
    download(url, buffer, max_bytes, timeout)
    if not buffer.getbuffer().nbytes:
        raise ValueError(f"{url} returned an empty response.")
    return buffer.getvalue()


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


def load_image(source: Union[str, bytes], name: str = None) -> np.ndarray:
    """Read an image file, URL or encoded bytes into an RGB uint8 array (H, W, 3).

    EXIF orientation is applied; grayscale, palette, RGBA, CMYK and 16-bit
    images are converted to RGB.

    Raises:
        FileNotFoundError: the path does not exist.
        ValueError: not an image, empty, truncated, too large, or a URL that
            cannot be fetched; the message names the source.
    """
    if isinstance(source, bytes):
        label, stream = name or "image data", io.BytesIO(source)
    elif is_url(source):
        label, stream = source, io.BytesIO(fetch_url(source))
    else:
        label = check_local_file(source)
        stream = source
    try:
        with warnings.catch_warnings():
            # We apply our own pixel limit below; PIL's warning would only repeat it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream) as opened:
                width, height = opened.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ValueError(
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
        raise ValueError(f"{label} declares an implausibly large image and was refused (decompression bomb).") from None
    except UnidentifiedImageError:
        raise ValueError(f"{label} is not an image file that can be read (JPEG, PNG, BMP, TIFF, WebP, GIF...).") from None
    except (OSError, SyntaxError, EOFError) as exc:
        raise ValueError(f"{label} could not be decoded; the file looks truncated or damaged ({exc}).") from None
    if rgb.ndim != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise ValueError(f"{label} has no pixels.")
    return np.ascontiguousarray(rgb)


def list_image_files(dir: str, pattern: str, recursive: bool = False) -> list:
    """Paths under ``dir`` whose file name matches ``pattern`` (case-insensitive), sorted."""
    if not isinstance(dir, str) or not dir:
        raise ValueError(f"dir must be the path of a folder; got {dir!r}.")
    if not os.path.exists(dir):
        raise FileNotFoundError(f"Folder not found: {dir}")
    if not os.path.isdir(dir):
        raise ValueError(f"{dir} is a file, not a folder. For single images use image_scores().")
    try:
        # Camera files are often .JPG: match regardless of case.
        regex = re.compile(pattern, re.IGNORECASE)
    except (re.error, TypeError) as exc:
        raise ValueError(f"pattern {pattern!r} is not a valid regular expression ({exc}).") from None
    found = []
    if recursive:
        for root, dirs, files in os.walk(dir):
            dirs.sort()
            found.extend(os.path.join(root, f) for f in files if regex.search(f))
    else:
        found = [os.path.join(dir, f) for f in os.listdir(dir) if regex.search(f) and os.path.isfile(os.path.join(dir, f))]
    return sorted(found)
