"""person_rows: which rows a result keeps, and the rows added where a person is missing (hand-worked)."""

import numpy as np
import pytest

from transforemotion.faces.tracking import NO_PERSON, person_rows


def planned(frames, person, persons=None):
    source, blank, ids = person_rows(frames, person, persons)
    return source.tolist(), blank.tolist(), ids.tolist()


# frame:  0  0  15  30 30  45  60 60  75  90
# person: 0  1   1   0  1  -   0  2   -   -      (- : a frame where no face was found)
FRAMES = [0, 0, 15, 30, 30, 45, 60, 60, 75, 90]
PERSON = [0, 1, 1, 0, 1, NO_PERSON, 0, 2, NO_PERSON, NO_PERSON]


def test_a_person_missing_between_first_and_last_appearance_gets_a_blank_row():
    source, blank, ids = planned(FRAMES, PERSON)
    # person 0 (frames 0-60) is missing at 15 and 45; at 45 the blank row replaces the no-face row;
    # person 1 (0-30) and person 2 (60) miss nothing; frames 75 and 90 keep their no-face rows
    assert ids == [0, 1, 1, 0, 0, 1, 0, 0, 2, NO_PERSON, NO_PERSON]
    assert blank == [False, False, False, True, False, False, True, False, False, False, False]
    assert source == [0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9]  # a blank row copies a row of its own frame


def test_persons_keeps_the_most_seen_and_a_frame_left_empty_keeps_one_row():
    # persons 0 and 1 have 3 rows each, person 2 one: the tie goes to the lower id
    source, blank, ids = planned(FRAMES, PERSON, persons=1)
    assert ids == [0, 0, 0, 0, 0, NO_PERSON, NO_PERSON]
    assert blank == [False, True, False, True, False, False, False]
    assert source == [0, 2, 3, 5, 6, 8, 9]
    # frame 30 held only the dropped person 1: it keeps a blank row without a person
    source, blank, ids = planned([0, 15, 15, 30], [0, 1, 0, 1], persons=1)
    assert (source, blank, ids) == ([0, 2, 3], [False, False, True], [0, 0, NO_PERSON])


def test_nothing_to_fill_leaves_the_rows_as_they_are():
    assert planned([0, 5, 5, 10], [0, 0, 1, 1]) == ([0, 1, 2, 3], [False] * 4, [0, 0, 1, 1])
    assert planned([], []) == ([], [], [])
    assert planned([3, 4], [NO_PERSON, NO_PERSON]) == ([0, 1], [False, False], [NO_PERSON, NO_PERSON])


def test_bad_rows_are_named():
    with pytest.raises(ValueError, match="one value per row"):
        person_rows([0, 1], [0])
    with pytest.raises(ValueError, match="persons"):
        person_rows([0, 1], [0, 0], persons=0)
