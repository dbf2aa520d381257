"""Writing the files a researcher will look at: output tables, corpus parts, saved frames, kept downloads.

Everything user-visible is written here, so that three promises hold in one
place:

- a file that could not be written is reported, never silently missing
  (``cv2.imwrite`` only returns False; :class:`~transforemotion.media.frames.FrameSaver`
  turns that into a warning that says how many, why, and what to do);
- a file is either complete or absent: it is written under a temporary name
  in the same folder and renamed at the end (:func:`atomic_write`), so an
  interrupted run never leaves half a table or half a frame behind;
- an existing file is never replaced by a download
  (:func:`move_without_overwriting`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from typing import IO, Iterator, Optional

from .errors import ArgumentError
from .messages import arg

__all__ = ["atomic_write", "write_bytes_atomically", "check_output_path", "move_without_overwriting"]


def check_output_path(path: str, name: str = "output") -> str:
    """Refuse an output file that cannot be written, before any work is done.

    ``name`` is the argument that holds the path; messages spell it for the
    caller (``output=`` in Python and R, ``--output`` in a shell).

    Returns the path unchanged. Raises ValueError when it is empty or not
    text, is an existing folder, or its folder does not exist or is a file.
    An existing file is fine: it will be replaced (atomically) at the end.
    """
    if not isinstance(path, str) or not path.strip():
        raise ArgumentError(f"{arg(name)} must be the path of a file to write; got {path!r}.")
    if os.path.isdir(path):
        raise ArgumentError(f"{arg(name, path)} is a folder; give a file name inside it, for example "
                         f"{arg(name, os.path.join(path, 'scores.csv'))}.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(folder):
        raise ArgumentError(f"{arg(name, path)}: the folder {folder} does not exist. Create it first, or choose a file "
                         "in a folder that exists.")
    if not os.path.isdir(folder):
        raise ArgumentError(f"{arg(name, path)}: {folder} is a file, not a folder, so nothing can be written inside it.")
    return path


def _temporary_name(path: str, recognisable: bool) -> str:
    folder, name = os.path.split(os.path.abspath(path))
    if recognisable:
        # "." + the final name + "." + random + ".tmp": a folder's owner (the
        # corpus store) can tell its own leftovers from other files.
        return os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    # Short and fixed in length, so that it fits wherever the final name fits;
    # a leading dot keeps it out of most file listings while it exists.
    return os.path.join(folder, f".te-{secrets.token_hex(6)}.tmp")


@contextlib.contextmanager
def atomic_write(path: str, mode: str = "w", encoding: Optional[str] = "utf-8", newline: Optional[str] = None,
                 durable: bool = True, recognisable: bool = False) -> Iterator[IO]:
    """Open ``path`` for writing so that it appears complete or not at all.

    The ``with`` block writes to a new temporary file in the same folder;
    when the block ends normally the file is flushed (and, with ``durable``,
    synced to disk) and renamed over ``path`` with :func:`os.replace`. When
    the block raises, the temporary file is removed and ``path`` is left as
    it was. ``mode`` is ``"w"`` (text, with ``encoding`` and ``newline``) or
    ``"wb"``. The new file gets the usual permissions (those of ``open``,
    after the umask), not the private ones of :func:`tempfile.mkstemp`.
    With ``recognisable``, the temporary name is ``.{name}.{random}.tmp``,
    so that whoever owns the folder can find and remove leftovers of an
    interrupted write.

    Raises OSError when the folder cannot be written or ``path`` is a folder.
    """
    if mode not in ("w", "wb"):
        raise ArgumentError(f"atomic_write mode must be 'w' or 'wb'; got {mode!r}.")
    while True:
        temporary = _temporary_name(path, recognisable)
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:  # another writer drew the same name; draw again
            continue
        except PermissionError as exc:
            # The temporary name is ours, not the caller's: name the file they asked for, and what to do.
            folder = os.path.dirname(os.path.abspath(path))
            refused = PermissionError(f"Cannot write {path}: the folder {folder} does not let you create files "
                                      f"in it ({exc.strerror}). Write to a folder you may write to, or ask for "
                                      "write permission on this one.")
            refused.errno = exc.errno  # (errno kept for callers that test it; str() stays the sentence above)
            raise refused from None
    try:
        try:
            if mode == "wb":
                stream = os.fdopen(handle, "wb")
            else:
                stream = os.fdopen(handle, "w", encoding=encoding, newline=newline)
        except BaseException:
            os.close(handle)
            raise
        with stream:
            yield stream
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


def move_without_overwriting(source: str, target: str) -> None:
    """Rename ``source`` to ``target``, raising FileExistsError if ``target`` exists.

    A hard link is made first (the system refuses it when the target exists,
    so no other program can slip a file in between a check and the rename),
    then the source name is removed. Where links are not supported (FAT
    drives, some network shares) the target is checked and the file renamed.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except (OSError, AttributeError, NotImplementedError):
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target) from None
        os.rename(source, target)
        return
    os.remove(source)


def write_bytes_atomically(path: str, data: bytes, recognisable: bool = False) -> None:
    """``data`` written to ``path`` through :func:`atomic_write` (complete or absent, synced to disk)."""
    with atomic_write(path, "wb", recognisable=recognisable) as fh:
        fh.write(data)
