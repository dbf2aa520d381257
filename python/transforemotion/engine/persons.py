"""People in a result: the ``person`` column, the options that choose among people, and their names.

Everything a scoring function does with person ids lives here, for every
front (``video_scores``, ``score_corpus``/``read_corpus``, the VAD
functions): :func:`check_person_options` checks ``persons=`` and
``person_names=`` at the door; :class:`PersonFollower` runs the tracker
(:mod:`transforemotion.faces.tracking`) over a video's rows batch by batch
as they come, so that a long video's appearance vectors are never all in
memory; :func:`with_persons` (rows of one video) and
:func:`persons_by_video` (a corpus's columns) keep the people asked for
(:func:`most_seen_persons`) and add a row with missing values for each
person in each sampled frame between their first and last appearance where
they were not found (:func:`person_rows`); :func:`name_person_column` gives
the ids names (:func:`name_persons`).
"""

from __future__ import annotations

import numbers
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.checks import check_count, is_sequence
from ..core.errors import ArgumentError
from ..core.messages import arg, value, warn
from ..faces.tracking import NO_PERSON, PersonTracker, track_rows
from .stream import NO_FACE, Rows

__all__ = ["PersonFollower", "PersonNames", "with_persons", "persons_by_video", "check_person_options",
           "check_person_names", "frame_groups", "person_value", "name_person_column", "name_persons",
           "most_seen_persons", "person_gaps", "person_rows"]

PersonNames = Union[None, Sequence[str], Dict[int, str]]


def check_person_options(face_selection: str, persons, person_names: PersonNames = None,
                         names_allowed: bool = True) -> Optional[int]:
    """``persons`` (None or a whole number of at least 1) and ``person_names`` (see
    :func:`check_person_names`), checked before any work; both
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
        named = check_person_names(person_names)
    persons = None if persons is None else check_count("persons", persons, 1)
    if persons is not None and person_names is not None and max(named) >= persons:
        raise ArgumentError(f"{arg('persons', persons)} keeps {persons} people, numbered 0 to {persons - 1} in the "
                            f"order they are first seen, and {arg('person_names')} names them; it names person "
                            f"{max(named)}. Give at most {persons} names, for example "
                            f"{value(['therapist', 'client'][:min(persons, 2)])}.")
    return persons


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
    where they were not found (see :func:`person_rows`)."""
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


def name_person_column(columns: Dict[str, list], person_names: PersonNames, persons: Optional[int] = None,
                       column: str = "person") -> Dict[str, list]:
    """The result with its ``person`` ids replaced by ``person_names`` (None: unchanged). A row without
    a person gets None; an id without a name keeps its number as text, with a warning (``persons``: the
    number of people asked for, which the warning takes into account)."""
    if person_names is None or column not in columns:
        return columns
    ids = [NO_PERSON if v is None or v != v else int(v) for v in columns[column]]
    return {**columns, column: name_persons(np.asarray(ids, np.int64), person_names, persons)}


def persons_by_video(columns: Dict[str, list], id_column: str, person: np.ndarray,
                     persons: Optional[int]) -> Dict[str, list]:
    """The corpus's columns with ``person`` after ``time``, for each video only the ``persons`` people
    seen most often (None: all), and a row with missing values for each person in each frame between
    their first and last appearance where they were not found; rows of images are left as they are."""
    ids = columns[id_column]
    frames = columns["frame"]
    n = len(ids)
    source: List[int] = []
    blank: List[bool] = []
    who: List[int] = []
    start = 0
    while start < n:
        stop = start + 1
        while stop < n and ids[stop] == ids[start]:
            stop += 1
        if frames[start] == frames[start]:  # a video (images have no frame)
            s, b, p = person_rows(np.asarray(frames[start:stop], float), person[start:stop], persons)
            source += (s + start).tolist()
            blank += b.tolist()
            who += p.tolist()
        else:
            source += list(range(start, stop))
            blank += [False] * (stop - start)
            who += [NO_PERSON] * (stop - start)
        start = stop
    out: Dict[str, list] = {}
    for name, values in columns.items():
        keep = name in (id_column, "frame", "time")
        out[name] = [values[i] if keep or not b else _missing(values[i]) for i, b in zip(source, blank)]
        if name == "time":
            out["person"] = [person_value(p) for p in who]
    return out


def _missing(v):
    return None if isinstance(v, str) else float("nan")


def _person_array(name: str, person_ids) -> np.ndarray:
    ids = np.asarray(person_ids)
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        raise ArgumentError(f"{arg(name)} must be a list of whole-number person ids; got {value(ids.tolist())}.")
    return ids.astype(np.int64)


def most_seen_persons(person_ids, n) -> np.ndarray:
    """The ``n`` people with the most rows, in order of their ids (first appearance).

    Ties go to the person seen first. Rows without a person (:data:`NO_PERSON`)
    do not count. Fewer than ``n`` ids come back when fewer people were seen.
    Use it for a ``persons=N`` option: ``keep = np.isin(person, most_seen_persons(person, 2))``
    drops the passers-by of a two-person study.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ArgumentError(f"{arg('persons')} must be a whole number of people to keep, at least 1, for example "
                         f"{value(2)} for a dyad; got {value(n)}.")
    ids = _person_array("person_ids", person_ids)
    ids = ids[ids != NO_PERSON]
    if not ids.size:
        return np.zeros(0, dtype=np.int64)
    people, counts = np.unique(ids, return_counts=True)
    order = np.lexsort((people, -counts))  # most rows first, then the lower id
    return np.sort(people[order[: int(n)]])


def person_gaps(frames, person_ids, sampled=None) -> Dict[int, np.ndarray]:
    """For each person, the sampled frames between their first and last row where they have no row.

    Args:
        frames: (rows,) the sampled frame (number or position) of each row.
        person_ids: (rows,) the person of each row (:data:`NO_PERSON` rows are ignored).
        sampled: every sampled frame, in order; by default the distinct
            values of ``frames`` (every sampled frame has at least one row
            in ``video_scores`` output, a missing-value row where no face was found).

    Returns:
        {person id: sorted array of the frames to fill with missing-value rows}.
        People without gaps map to empty arrays.
    """
    frames = np.asarray(frames)
    ids = _person_array("person_ids", person_ids)
    if len(frames) != len(ids):
        raise ArgumentError(f"{arg('frames')} and {arg('person_ids')} must have one value per row; got "
                         f"{len(frames)} and {len(ids)}.")
    universe = np.unique(frames) if sampled is None else np.asarray(sampled)
    if sampled is not None and np.any(universe[1:] <= universe[:-1]):
        raise ArgumentError(f"{arg('sampled')} must list each sampled frame once, in increasing order.")
    if sampled is not None and not np.all(np.isin(frames, universe)):
        raise ArgumentError(f"Every frame of a row must be among {arg('sampled')}; missing: "
                         f"{value(np.setdiff1d(frames, universe).tolist()[:10])}.")
    gaps = {}
    for person in np.unique(ids[ids != NO_PERSON]):
        seen = np.unique(frames[ids == person])
        span = universe[(universe >= seen[0]) & (universe <= seen[-1])]
        gaps[int(person)] = span[~np.isin(span, seen)]
    return gaps


def person_rows(frames, person_ids, persons: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of a result by person: which to keep, and where a person missing from a frame gets a row.

    Args:
        frames: (rows,) the sampled frame of each row; the rows of one frame
            next to each other, frames in order (a change of value starts
            the next frame).
        person_ids: (rows,) each row's person (:data:`NO_PERSON` for a row
            without a face: a frame where none was found or that could not
            be read).
        persons: keep only this many people, those with the most rows
            (:func:`most_seen_persons`), numbered 0, 1, ... again in the
            order they were first seen (so ``person_names`` names exactly
            them); None keeps everyone, with their ids.

    Returns:
        (source, blank, person), one entry per row of the new result:
        ``source`` is the row it copies (for a blank row, a row of the same
        frame, whose frame and time it takes), ``blank`` is True where its
        face columns and scores are missing, and ``person`` its person id.

    Within each frame: the face rows of the people kept, in their order;
    then a blank row for each person kept who has rows before and after
    this frame but none in it (by id). A frame left with no row at all
    keeps one row without a person (its old one, or a blank one), so that
    every sampled frame still has a row.
    """
    frames = np.asarray(frames)
    ids = _person_array("person_ids", person_ids)
    if frames.ndim != 1 or len(frames) != len(ids):
        raise ArgumentError(f"{arg('frames')} and {arg('person_ids')} must have one value per row; got "
                            f"{len(frames)} and {len(ids)}.")
    if not len(ids):
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64)
    people = np.unique(ids[ids != NO_PERSON]) if persons is None else most_seen_persons(ids, persons)
    kept = (ids != NO_PERSON) & np.isin(ids, people)
    if persons is not None:  # the people kept are numbered 0, 1, ... again, in the order first seen
        ids = np.where(kept, np.searchsorted(people, ids), ids)
    starts = np.flatnonzero(np.r_[True, frames[1:] != frames[:-1]])
    group = np.cumsum(np.r_[True, frames[1:] != frames[:-1]]) - 1
    # Each kept person's first and last frame (as frame numbers 0, 1, ... of this result).
    first = {int(p): int(g) for p, g in zip(ids[kept][::-1], group[kept][::-1])}
    last = {int(p): int(g) for p, g in zip(ids[kept], group[kept])}
    arrive: Dict[int, List[int]] = {}
    for p, g in first.items():
        arrive.setdefault(g, []).append(p)
    source: List[int] = []
    blank: List[bool] = []
    person: List[int] = []
    active: set = set()
    for g, start in enumerate(starts):
        stop = starts[g + 1] if g + 1 < len(starts) else len(ids)
        active.update(arrive.get(g, ()))
        faces = [r for r in range(start, stop) if kept[r]]
        missing = sorted(active - {int(ids[r]) for r in faces})
        if faces or missing:
            source += faces + [start] * len(missing)
            blank += [False] * len(faces) + [True] * len(missing)
            person += [int(ids[r]) for r in faces] + missing
        else:
            without = [r for r in range(start, stop) if ids[r] == NO_PERSON]
            source.append(without[0] if without else start)
            blank.append(not without)
            person.append(NO_PERSON)
        active -= {p for p in active if last[p] == g}
    return np.asarray(source, np.int64), np.asarray(blank, bool), np.asarray(person, np.int64)


def check_person_names(person_names: Union[Mapping[int, str], Sequence[str]]) -> Dict[int, str]:
    """``person_names`` as {id: name}: a list or tuple (the first name for person 0, ...) or a dict
    from ids to names. Names must be non-empty, distinct texts. Check before scoring, so that a
    mistake is found before a long video is scored."""
    example = value(["left chair", "right chair"])
    if isinstance(person_names, Mapping):
        items = list(person_names.items())
        for key, _ in items:
            if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
                raise ArgumentError(f"{arg('person_names')} maps person ids (0, 1, ...) to names; "
                                 f"{value(key)} is not a person id.")
        named = {int(k): v for k, v in items}
    elif is_sequence(person_names):
        named = dict(enumerate(person_names))
    else:
        raise ArgumentError(f"{arg('person_names')} must be a list of names (the first for person 0, ...), for "
                         f"example {example}, or a mapping from person ids to names; got {value(person_names)}.")
    if not named:
        raise ArgumentError(f"{arg('person_names')} is empty; give at least one name, for example {example}.")
    for pid, name in named.items():
        if not isinstance(name, str) or not name.strip():
            raise ArgumentError(f"{arg('person_names')} must hold non-empty texts; person {pid} has {value(name)}.")
    seen: set = set()
    repeated = [name for name in named.values() if name in seen or seen.add(name)]
    if repeated:
        raise ArgumentError(f"{arg('person_names')} must name each person differently; repeated: "
                         f"{', '.join(value(r) for r in dict.fromkeys(repeated))}.")
    return named


def name_persons(person_ids, person_names: Union[Mapping[int, str], Sequence[str]],
                 persons: Optional[int] = None) -> List[Optional[str]]:
    """Each row's person as a name (None for rows without a person).

    A person without a name keeps their id as text (``"3"``), and names of
    ids that never occur are ignored; both with one warning, so that a long
    run is not lost to a miscount of the people in a video.
    """
    named = check_person_names(person_names)
    ids = _person_array("person_ids", person_ids)
    present = [int(p) for p in np.unique(ids[ids != NO_PERSON])]
    unnamed = [p for p in present if p not in named]
    unused = [p for p in named if p not in present]
    if unnamed or unused:
        parts = []
        if unnamed:
            parts.append(f"person(s) {', '.join(map(str, unnamed))} have no name in {arg('person_names')} and "
                         f"keep their number")
        if unused:
            parts.append(f"name(s) for person(s) {', '.join(map(str, unused))} were given but those ids do not "
                         f"occur")
        if persons is not None:
            hint = f" ({arg('persons', persons)} keeps at most {persons}, numbered 0 to {persons - 1})."
        elif unnamed:
            hint = f". Use {arg('persons')} to keep only the people seen most often."
        else:
            hint = "."
        warn("; ".join(parts) + f". The video has {len(present)} person(s): {', '.join(map(str, present))}" + hint)
    return [None if p == NO_PERSON else named.get(int(p), str(int(p))) for p in ids]
