"""What a result does with person ids (transforemotion.engine.persons): person_rows (which rows a result keeps,
and the rows added where a person is missing, hand-worked), the people seen most, their gaps, their names."""

import numpy as np
import pytest

from transforemotion.core.messages import TransforemotionWarning
from transforemotion.engine.persons import check_person_names, most_seen_persons, name_persons, person_gaps, person_rows
from transforemotion.faces.tracking import NO_PERSON


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


def test_most_seen_persons_keeps_the_people_with_most_rows():
    ids = [0, 1, 2, 1, 1, 0, 3, 0, -1, -1, -1, 2]
    # counts: 0 -> 3, 1 -> 3, 2 -> 2, 3 -> 1; -1 is no person
    assert most_seen_persons(ids, 2).tolist() == [0, 1]
    assert most_seen_persons(ids, 3).tolist() == [0, 1, 2]
    assert most_seen_persons(ids, 10).tolist() == [0, 1, 2, 3]
    # a tie goes to the person seen first (the lower id)
    assert most_seen_persons([5, 4, 4, 5, 6], 1).tolist() == [4]
    assert most_seen_persons([-1, -1], 1).tolist() == []
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="persons"):
            most_seen_persons(ids, bad)


def test_person_gaps_lists_the_sampled_frames_a_person_is_missing_from():
    frames = [0, 0, 15, 30, 30, 45, 60, 60, 75]
    person = [0, 1, 1, 0, 1, -1, 0, 2, 0]
    gaps = person_gaps(frames, person)
    assert {k: v.tolist() for k, v in gaps.items()} == {0: [15, 45], 1: [], 2: []}
    # with the full sampling given: frame 90 had no row at all; it is after every last row, so no gap
    gaps = person_gaps(frames, person, sampled=[0, 15, 30, 45, 60, 75, 90])
    assert gaps[0].tolist() == [15, 45]
    with pytest.raises(ValueError, match="sampled"):
        person_gaps(frames, person, sampled=[0, 15, 30])
    with pytest.raises(ValueError, match="one value per row"):
        person_gaps(frames, person[:-1])


def test_person_names_from_a_list_or_a_mapping():
    ids = [0, 1, -1, 1, 0]
    assert name_persons(ids, ["left", "right"]) == ["left", "right", None, "right", "left"]
    assert name_persons(ids, {1: "guest", 0: "host"}) == ["host", "guest", None, "guest", "host"]


def test_missing_and_unused_person_names_warn_and_keep_the_number():
    with pytest.warns(TransforemotionWarning, match="person.s. 2 have no name.*persons"):
        assert name_persons([0, 2, 1], ["a", "b"]) == ["a", "2", "b"]
    with pytest.warns(TransforemotionWarning, match="person.s. 2 were given"):
        assert name_persons([0, 1], ["a", "b", "c"]) == ["a", "b"]


@pytest.mark.parametrize("names, message", [
    (["a", "a"], "differently"),
    (["a", ""], "non-empty"),
    ([], "empty"),
    ({-1: "a"}, "not a person id"),
    ({"0": "a"}, "not a person id"),
    ("ab", "list of names"),
    (["a", 3], "non-empty texts"),
])
def test_bad_person_names_are_refused_before_scoring(names, message):
    with pytest.raises(ValueError, match=message):
        check_person_names(names)
