"""People, not positions: a stable ``person`` id for each face through a video.

With ``face_selection="all"`` every sampled frame gives one row per face, and
the ``face`` column is the face's left-to-right rank *in that frame*: when two
people swap sides, "face 0" jumps from one to the other. :class:`PersonTracker`
follows faces from sampled frame to sampled frame and numbers the people
instead: 0 for the first person seen, 1 for the next, and so on (people
first seen in the same frame are numbered left to right).

How a face is followed
----------------------
The tracker is online (each frame is decided when it arrives, never revised)
and works like SORT/ByteTrack with an appearance model for re-identification
(the options named below are the fields of :class:`TrackerConfig`):

- Motion. Each person's box (centre, and the logarithm of width and height)
  follows a constant-velocity filter in units of *sampled* frames, so with
  frames sampled every 15 video frames a face may move far between samples;
  what counts is that it keeps moving the way it was moving. A face matches
  a person if its centre is within ``max_distance`` box sizes of where that
  person was predicted to be (the tolerance grows by ``distance_growth`` for
  every sampled frame the person was missed) and its size within a factor of
  ``max_size_change``; the closer, and the more the boxes overlap (IoU), the
  better the match.
- Two stages, as in ByteTrack. Confident faces (``high_confidence``) are
  matched first, with motion and appearance; the less confident ones (often a
  face half hidden behind another) are then matched on motion alone to the
  people left over, so that a person partly hidden while two people cross
  keeps their id without a half-hidden face spoiling their appearance model.
- Appearance (optional). Each face may come with an embedding vector: the
  cheap model-independent :func:`face_descriptor` below, or any other vector,
  such as a CLIP image embedding; the tracker L2-normalises it. A person's
  appearance is a running average of their unhidden, confident faces. It
  helps choose between people when motion alone is ambiguous, vetoes a match
  that moves plausibly but looks like someone else, and re-identifies a person
  who was missed for a while or left the picture and came back. A person seen
  in the previous frame whom motion places elsewhere is re-identified only on
  near-certain appearance (``reidentify_seen``): such a jump happens at a cut
  to another shot, where the new face is more often someone else.
- Self-calibration. Whether two vectors are "similar" depends on the
  embedding (and, for our descriptor, on the video: two grey faces look more
  alike than a red and a blue jumper). The tracker therefore learns the scale
  from the video itself: similarities of faces that motion alone attributes
  without doubt are known "same person" values, and those between people seen
  in the same frame are known "different person" values. Similarities are
  measured against these (``appearance_prior`` until enough have been seen),
  and if the two overlap, appearance is not used at all (see
  :attr:`PersonTracker.appearance_reliable`).

Matching in each stage is an optimal assignment over the pairs that pass the
gates (the shortest augmenting path method of Jonker and Volgenant, our own
in :mod:`.assignment`).

What it can and cannot do
-------------------------
- Ids are per video (per tracker): person 3 of one video has nothing to do
  with person 3 of another, and nothing is recognised across videos.
- Ids are never reused or revised; a person the tracker fails to recognise
  gets a new id. People who cross, are hidden for a few sampled frames
  (``max_predict_frames``), or leave and come back while appearance
  embeddings are given (within ``max_lost_frames`` sampled frames, and while
  they are among the ``max_lost_tracks`` most recently lost people), keep
  their id.
- Without embeddings only motion links faces: a person who leaves the
  picture, or is missed for more than ``max_predict_frames`` sampled frames,
  comes back with a new id.
- Motion assumes samples close enough in time that a face moves about
  ``max_distance`` face sizes or less (beyond what its last movement
  predicts) from one sampled frame to the next. With sparse samples (say,
  ``uniform=True`` over a long video) motion says little and only appearance
  links faces; with the cheap descriptor that is reliable for clearly
  different-looking people only (different hair, skin, clothing colours or
  face texture), not for telling look-alikes apart.
- At a cut between camera shots, a face that lands where another person's
  face was (within ``max_distance``) and looks like them can take that
  person's id; the appearance veto lowers but cannot remove this risk. The
  tracker is not told about cuts.
- Appearance is only as good as the vectors: the cheap descriptor sees
  texture and colour, and two people in the same light with similar hair can
  look alike to it. A random-weight test model's CLIP embeddings barely tell
  faces apart (cosines of different LFW faces up to 0.999 against at least
  0.993 for the same face); the self-calibration makes the most of what
  separation a video shows, and turns appearance off where there is none.
- An unmatched face with low confidence also gets a new id (every face row
  needs a person), so detector false positives become short-lived people;
  :func:`most_seen_persons` drops them.

Memory
------
Bounded whatever the video's length: the tracker keeps the people matched in
the last frame, plus at most ``max_lost_tracks`` people not seen in it (those
lost longest are forgotten first), each forgotten after ``max_lost_frames``
sampled frames unseen (people without an appearance vector, or seen only
once, after ``max_predict_frames``). Each person is a few numbers plus one
embedding vector. The self-calibration keeps the last ``CALIBRATION_SAMPLES``
values of each kind. So at most (faces in the current frame +
``max_lost_tracks``) people are stored; with the defaults and two or three
faces per frame, a few dozen vectors. Time: about a millisecond a frame for
two faces with appearance vectors, and under half a millisecond a face for the
vectors (bench/bench_tracking.py), against tens of milliseconds for finding
the faces.

Modules
-------
- :mod:`.tracker`: :class:`PersonTracker`; :mod:`.config`: :class:`TrackerConfig`,
  its options in one frozen, checked object; :mod:`.tracks`: what it keeps of
  each person, and box geometry; :mod:`.assignment`: the assignment solver.
- :mod:`.appearance`: :func:`face_descriptor`, the model-independent
  appearance vector the scoring path gives the tracker.
- :mod:`.rows`: :func:`track_rows` runs a tracker over score rows (one row
  per face, rows of one frame together). What a result does with the ids
  (``persons=``, rows where a person is missing, ``person_names=``) is the
  engine's: :mod:`transforemotion.engine.persons`.
"""

from .appearance import DESCRIPTOR_SIZE, face_descriptor
from .assignment import linear_sum_assignment
from .config import TrackerConfig
from .rows import NO_PERSON, track_rows
from .tracker import PersonTracker

__all__ = ["PersonTracker", "TrackerConfig", "face_descriptor", "DESCRIPTOR_SIZE", "linear_sum_assignment",
           "track_rows", "NO_PERSON"]
