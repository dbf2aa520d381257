"""Person ids for score rows, and what the scoring functions do with them: keep the people seen most
often (``persons=``), list the frames a person is missing from, and give ids names (``person_names=``)."""

from __future__ import annotations

import numbers
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ...core.errors import ArgumentError
from ...core.messages import arg, value, warn
from .tracker import PersonTracker

__all__ = ["NO_PERSON", "track_rows", "most_seen_persons", "person_gaps", "person_rows", "check_person_names",
           "name_persons"]

# The person id of a row without a face.
NO_PERSON = -1


def track_rows(frames, boxes, confidence=None, embeddings=None, frame_size=None,
               tracker: Optional[PersonTracker] = None) -> np.ndarray:
    """Person ids for score rows: one row per face, the rows of one sampled frame next to each other.

    Args:
        frames: (rows,) the sampled frame of each row (any values; a change
            of value starts the next frame, so rows must be in frame order).
        boxes: (rows, 4) face boxes; NaN rows are frames without a face
            (they get :data:`NO_PERSON` and still count as a frame).
        confidence, embeddings: per row, as for :meth:`PersonTracker.update`
            (rows without a face may hold anything).
        frame_size: (height, width) of the video's frames.
        tracker: a :class:`PersonTracker` to use (for other options).

    Returns:
        int64 array (rows,) of person ids.
    """
    frames = np.asarray(frames)
    boxes = np.asarray(boxes, dtype=np.float64)
    if frames.ndim != 1 or boxes.ndim != 2 or len(boxes) != len(frames) or boxes.shape[1] < 4:
        raise ArgumentError(f"{arg('frames')} and {arg('boxes')} must have one value and one box (x1, y1, x2, y2) "
                         f"per row; got shapes {frames.shape} and {boxes.shape}.")
    boxes = boxes[:, :4]
    tracker = tracker or PersonTracker()
    person = np.full(len(frames), NO_PERSON, dtype=np.int64)
    confidence = None if confidence is None else np.asarray(confidence, dtype=np.float64).reshape(-1)
    embeddings = None if embeddings is None else np.asarray(embeddings, dtype=np.float64)
    start = 0
    while start < len(frames):
        stop = start + 1
        while stop < len(frames) and frames[stop] == frames[start]:
            stop += 1
        rows = np.arange(start, stop)
        rows = rows[np.all(np.isfinite(boxes[rows]), axis=1)]
        person[rows] = tracker.update(boxes[rows], None if confidence is None else confidence[rows],
                                      None if embeddings is None else embeddings[rows], frame_size)
        start = stop
    return person


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
            (:func:`most_seen_persons`); None keeps everyone.

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
    elif isinstance(person_names, (list, tuple)):
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


def name_persons(person_ids, person_names: Union[Mapping[int, str], Sequence[str]]) -> List[Optional[str]]:
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
        warn("; ".join(parts) + f". The video has {len(present)} person(s): {', '.join(map(str, present))}. "
             f"Use {arg('persons')} to keep only the people seen most often.")
    return [None if p == NO_PERSON else named.get(int(p), str(int(p))) for p in ids]
