"""The engine's person column: the tracker run over batches of rows, and the rows shaped by person."""

import numpy as np
import pytest

from transforemotion.engine import NO_FACE, SCORED, PersonFollower, Rows, with_persons
from transforemotion.engine.persons import check_person_options, frame_groups, name_person_column
from transforemotion.faces.tracking import PersonTracker, track_rows


def box(cx, cy, side=80):
    return [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2]


def crossing_rows(frames=30):
    """Two people crossing (faces in left-to-right order, as the detector gives them), a frame without
    faces in the middle; as one Rows of a video (keys: the frame's position)."""
    keys, boxes, status = [], [], []
    for t in range(frames):
        if t == 12:
            keys.append(t), boxes.append([np.nan] * 4), status.append(NO_FACE)
            continue
        pair = sorted([box(100 + 15 * t, 240), box(535 - 15 * t, 250)], key=lambda b: b[0])
        for b in pair:
            keys.append(t), boxes.append(b), status.append(SCORED)
    n = len(keys)
    scores = np.random.default_rng(0).random((n, 2))
    rows = Rows(keys, status, np.zeros(n, np.int64), np.asarray(boxes, float), np.where(
        np.isnan(np.asarray(boxes)[:, 0]), np.nan, 0.99), scores)
    rows.frame_size = np.tile([480, 640], (n, 1)).astype(np.int32)
    return rows


def test_batches_split_anywhere_give_the_ids_of_one_pass():
    rows = crossing_rows()
    whole = track_rows(frame_groups(rows.keys), rows.boxes, rows.confidence, None, (480, 640),
                       tracker=PersonTracker())
    assert sorted(set(whole.tolist())) == [-1, 0, 1]
    for cuts in ([7], [1, 2, 3, 30, 31], list(range(1, len(rows)))):  # cuts inside frames too
        follower = PersonFollower()
        edges = [0] + cuts + [len(rows)]
        for a, b in zip(edges, edges[1:]):
            follower(rows.slice(a, b))
        assert follower.finish().tolist() == whole.tolist(), cuts


def test_with_persons_adds_blank_rows_with_their_frame_and_no_scores():
    rows = crossing_rows(6)
    rows.embeddings = np.ones((len(rows), 3), np.float32)
    assert len(rows) == 12  # six frames of two faces
    person = np.array([0, 1] * 6)
    # frame 2 of the six loses person 1's face: a blank row for person 1 appears there
    keep = [i for i in range(len(rows)) if not (rows.keys[i] == 2 and person[i] == 1)]
    sub = Rows([rows.keys[i] for i in keep], [rows.status[i] for i in keep], rows.face[keep], rows.boxes[keep],
               rows.confidence[keep], rows.scores[keep], {}, rows.embeddings[keep])
    out = with_persons(sub, person[keep])
    frame_two = [i for i, k in enumerate(out.keys) if k == 2]
    assert out.person[frame_two].tolist() == [0, 1]
    gap = frame_two[1]
    assert out.status[gap] == NO_FACE and out.face[gap] == -1
    assert np.isnan(out.boxes[gap]).all() and np.isnan(out.scores[gap]).all() and np.isnan(out.embeddings[gap]).all()
    assert np.isfinite(out.scores[frame_two[0]]).all()
    assert len(out) == len(sub) + 1


def test_names_replace_ids_and_options_need_every_face():
    columns = {"frame": [0, 0, 5], "person": [0, 1, float("nan")], "joy": [0.1, 0.2, float("nan")]}
    named = name_person_column(columns, ["host", "guest"])
    assert named["person"] == ["host", "guest", None] and named["joy"] == columns["joy"]
    assert name_person_column(columns, None) is columns
    assert check_person_options("all", 2.0) == 2  # R sends doubles
    with pytest.raises(ValueError, match="face_selection='all'"):
        check_person_options("largest", 2)
    with pytest.raises(ValueError, match="person_names.*per video"):
        check_person_options("all", None, ["a"], names_allowed=False)


def test_the_joined_rows_never_keep_the_appearance_vectors(tiny_model, astronaut):
    # Bounded memory on long videos: each batch's appearance vectors reach the tracker (on_rows), and the
    # joined result keeps none of them.
    from transforemotion import models
    from transforemotion.engine import Picture, ScoringPlan, score_all

    vlm = models.load_model(local_model_path=tiny_model)
    seen = []
    plan = ScoringPlan(("joy", "anger"), "all", 2, appearance=True)
    follower = PersonFollower()

    def both(rows):
        seen.append(rows.appearance)
        follower(rows)

    rows = score_all(vlm, (Picture(i, astronaut) for i in range(4)), plan, on_rows=both)
    assert rows.appearance is None and rows.frame_size is None
    assert seen and all(a is not None and a.dtype == np.float16 and a.shape[1] == 723 for a in seen)
    person = follower.finish()
    assert person.tolist() == [0, 0, 0, 0]  # the same picture four times: one person, found in each
