"""Running a request over pictures: reading images, the progress bar, and the warnings for what was skipped.

The public functions and ``evaluate_dir`` feed pictures through here, so a
picture that cannot be read or has no face is reported the same way
everywhere.
"""

from __future__ import annotations

from typing import Callable, Dict, Iterator, List, Optional, Sequence

from ..core.messages import InputsFailedWarning, arg, missing_value, say, warn
from ..media import load_image
from .columns import IMAGE_ID_COLUMN, rows_to_columns
from .request import ScoringRequest
from .stream import NO_FACE, Picture, Rows, score_all, warn_skipped

__all__ = ["read_images", "score_pictures", "score_image_files", "image_file_rows", "warn_unread", "no_face_advice",
           "PROGRESS_MIN_ITEMS"]

# Progress bars only for work long enough to be worth watching.
PROGRESS_MIN_ITEMS = 50
# Below this many pictures a call takes well under a second once the model is loaded (and the load says its own
# line), so it says nothing: a loop over single pictures stays quiet.
STATUS_MIN_ITEMS = 10


def no_face_advice() -> str:
    return f"To score the whole picture instead, use {arg('face_selection', 'none')}."


def read_images(sources: Sequence[str], raise_errors: bool) -> Iterator[Picture]:
    for i, source in enumerate(sources):
        try:
            yield Picture(i, load_image(source))
        except (ValueError, FileNotFoundError) as exc:
            if raise_errors:
                raise
            yield Picture(i, None, str(exc))


def _progress_bar(total: int, request: ScoringRequest, unit: str, desc: str):
    from tqdm.auto import tqdm

    show = request.progress and total >= PROGRESS_MIN_ITEMS
    return tqdm(total=total, unit=unit, desc=desc, disable=not show, leave=False)


def score_pictures(request: ScoringRequest, pictures, total: int, unit: str, desc: str,
                   on_rows: Optional[Callable[[Rows], None]] = None) -> Rows:
    """Every row, joined, with a progress bar; ``on_rows`` also sees each batch (the person tracker).
    With progress on, a line on standard error says at once what is happening for runs too short for
    the bar (from :data:`STATUS_MIN_ITEMS` to :data:`PROGRESS_MIN_ITEMS` pictures; the model's load says
    its own line)."""
    if request.progress and STATUS_MIN_ITEMS <= total < PROGRESS_MIN_ITEMS:  # from 50 on, the bar says it
        say(f"{desc}: finding faces and scoring {total} {unit}s…")
    with _progress_bar(total, request, unit, desc) as bar:
        last = [object()]

        def advance(rows: Rows) -> None:
            new = 0
            for key in rows.keys:
                if key != last[0]:
                    new, last[0] = new + 1, key
            bar.update(new)
            if on_rows is not None:
                on_rows(rows)

        return score_all(request.load, pictures, request.plan, on_rows=advance)


def warn_unread(rows: Rows, name: Callable[[object], object], what: str) -> None:
    """One warning (an :class:`InputsFailedWarning`) naming the inputs that could not be read, with a reason."""
    keys = list(rows.errors)
    if not keys:
        return
    first = rows.errors[keys[0]]
    others = len(set(rows.keys)) > len(keys)
    if len(keys) > 1:
        warn_skipped([name(k) for k in keys], f"Could not read the {what}", f"The first reason: {first}",
                     InputsFailedWarning, others_scored=others)
        return
    # One: its reason, which names it as a rule, then what became of its row.
    named = str(name(keys[0]))
    lead = f"Could not read the {what}: {first}" if named in first else f"Could not read the {what} {named}: {first}"
    warn(f"{lead.rstrip('.')}. Its row has missing values ({missing_value()})"
         + ("; the others were scored." if others else "."), InputsFailedWarning)


def score_image_files(request: ScoringRequest, paths: Sequence[str], ids: List[str], function_name: str
                      ) -> Dict[str, list]:
    """Score image files (a folder's), one row each (one per face with ``"all"``), keyed by ``image_id``.

    A file that cannot be read, or has no face, keeps its row with missing
    values and is named in a warning; the others are scored.
    """
    return rows_to_columns(*image_file_rows(request, paths, ids, function_name))


def image_file_rows(request: ScoringRequest, paths: Sequence[str], ids: List[str], function_name: str):
    """:func:`score_image_files` before the shaping: (rows, request, leading columns), for ``rows_to_columns``."""
    rows = score_pictures(request, read_images(paths, raise_errors=False), len(paths), "image", function_name)
    warn_unread(rows, ids.__getitem__, "image")
    warn_skipped([ids[k] for k in rows.keys_with(NO_FACE)], "No face was found", no_face_advice())
    return rows, request, {IMAGE_ID_COLUMN: ids.__getitem__}
