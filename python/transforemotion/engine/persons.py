"""People followed through a video: the ``person`` column of ``face_selection="all"`` video results.

The scoring path gives each face an appearance vector where the frame is at
hand (:mod:`.stream`); :class:`PersonFollower` runs the tracker over the
rows batch by batch as they come, so that a long video's appearance vectors
are never all in memory; :func:`with_persons` then keeps the people asked
for and adds a row with missing values for each person in each sampled
frame between their first and last appearance where they were not found.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from ..core.checks import check_count
from ..core.errors import ArgumentError
from ..core.messages import arg
from ..faces.tracking import NO_PERSON, PersonTracker, check_person_names, name_persons, person_rows, track_rows
from .stream import NO_FACE, Rows

__all__ = ["PersonFollower", "with_persons", "check_person_options", "frame_groups", "person_value",
           "name_person_column"]

PersonNames = Union[None, Sequence[str], Dict[int, str]]


def check_person_options(face_selection: str, persons, person_names: PersonNames = None,
                         names_allowed: bool = True) -> Optional[int]:
    """``persons`` (None or a whole number of at least 1) and ``person_names`` (see
    :func:`~transforemotion.faces.tracking.check_person_names`), checked before any work; both
    need ``face_selection="all"``, the only selection that follows people. Returns ``persons``."""
    given = [name for name, v in (("persons", persons), ("person_names", person_names)) if v is not None]
    if given and face_selection != "all":
        raise ArgumentError(f"{' and '.join(arg(g) for g in given)} choose among the people followed through a "
                            f"video, which needs {arg('face_selection', 'all')} (every face, each followed as a "
                            f"person); got {arg('face_selection', face_selection)}. Use "
                            f"{arg('face_selection', 'all')}, or leave {' and '.join(arg(g) for g in given)} out.")
    if person_names is not None:
        if not names_allowed:
            raise ArgumentError(f"{arg('person_names')} does not apply here: person ids are per video. Rename them "
                                f"in the table, as the README's section on people shows.")
        check_person_names(person_names)
    return None if persons is None else check_count("persons", persons, 1)


def frame_groups(keys: Sequence[object]) -> np.ndarray:
    """0, 1, 2, ... for the rows of each run of equal keys (the rows of one picture): rows of one frame
    share a number, which works for keys of any kind (a video's row numbers, a corpus's tuples)."""
    if not len(keys):
        return np.zeros(0, np.int64)
    change = [True] + [keys[i] != keys[i - 1] for i in range(1, len(keys))]
    return np.cumsum(change) - 1


class PersonFollower:
    """Person ids for the rows of one video, batch by batch: pass it to ``score_all`` as ``on_rows``.

    Frames must come in order (the scoring stream keeps input order). The
    rows of a frame's last picture in a batch are held back until the next
    batch, because a frame with more faces than the batch size is split
    between batches, and the tracker must see a frame's faces together.
    """

    def __init__(self, tracker: Optional[PersonTracker] = None):
        self.tracker = tracker or PersonTracker()
        self._ids: List[np.ndarray] = []
        self._held: Optional[Rows] = None
        self._frame_size = None

    def __call__(self, rows: Rows) -> None:
        if self._held is not None:
            rows = Rows.concat([self._held, rows], rows.scores.shape[1])
        if not len(rows):
            return
        cut = len(rows)
        while cut > 0 and rows.keys[cut - 1] == rows.keys[-1]:
            cut -= 1
        self._track(rows.slice(0, cut))
        self._held = rows.slice(cut, len(rows))

    def finish(self) -> np.ndarray:
        """Every row's person id (:data:`NO_PERSON` for rows without a face), in the order of the rows seen."""
        if self._held is not None:
            self._track(self._held)
            self._held = None
        return np.concatenate(self._ids) if self._ids else np.zeros(0, np.int64)

    def _track(self, rows: Rows) -> None:
        if not len(rows):
            return
        if self._frame_size is None and rows.frame_size is not None:
            known = np.flatnonzero(rows.frame_size[:, 0] > 0)
            self._frame_size = tuple(int(v) for v in rows.frame_size[known[0]]) if len(known) else None
        self._ids.append(track_rows(frame_groups(rows.keys), rows.boxes, rows.confidence, rows.appearance,
                                    self._frame_size, tracker=self.tracker))


def with_persons(rows: Rows, person: np.ndarray, persons: Optional[int] = None) -> Rows:
    """The rows with their ``person``, only the ``persons`` people seen most often (None: all), and a
    row with missing values for each person in each frame between their first and last appearance
    where they were not found (see :func:`~transforemotion.faces.tracking.person_rows`)."""
    source, blank, ids = person_rows(frame_groups(rows.keys), person, persons)
    n_labels = rows.scores.shape[1]

    def pick(values: np.ndarray, fill) -> np.ndarray:
        out = values[source].copy()
        out[blank] = fill
        return out

    out = Rows([rows.keys[i] for i in source],
               [NO_FACE if b else rows.status[i] for i, b in zip(source, blank)],
               pick(rows.face, -1), pick(rows.boxes, np.nan), pick(rows.confidence, np.nan),
               pick(rows.scores, np.nan) if n_labels else np.zeros((len(source), 0)), dict(rows.errors),
               None if rows.embeddings is None else pick(rows.embeddings, np.nan))
    out.person = ids
    return out


def person_value(person: int):
    """A person id as a result shows it: a whole number, NaN for a row without a person."""
    return float("nan") if person == NO_PERSON else int(person)


def name_person_column(columns: Dict[str, list], person_names: PersonNames, column: str = "person") -> Dict[str, list]:
    """The result with its ``person`` ids replaced by ``person_names`` (None: unchanged). A row without
    a person gets None; an id without a name keeps its number as text, with a warning."""
    if person_names is None or column not in columns:
        return columns
    ids = [NO_PERSON if v is None or v != v else int(v) for v in columns[column]]
    return {**columns, column: name_persons(np.asarray(ids, np.int64), person_names)}
