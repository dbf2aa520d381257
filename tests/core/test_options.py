"""Options as data (core/options.py): one field carries the default, the check, the help and the flag."""

from __future__ import annotations

import argparse
import inspect
from dataclasses import dataclass

import pytest

import transforemotion as te
from transforemotion.core.checks import check_count, check_flag
from transforemotion.core.errors import ArgumentError
from transforemotion.core.options import (add_flags, changed_options, check_fields, flag_values, option,
                                          option_names, pick, takes_options)
from transforemotion.engine import ScoringOptions
from transforemotion.media import FrameSampling, SavedFiles

CHECKED = []


def counted_count(name, given):
    CHECKED.append(name)
    return check_count(name, given)


@dataclass(frozen=True)
class Knobs:
    size: int = option(3, "how big", check=counted_count, cli=dict(type=int, metavar="N"))
    loud: bool = option(False, "make noise", check=check_flag, cli=dict(action="store_true"))
    names: tuple = option(None, "some names", cli=dict(nargs="+"), from_cli=lambda v: v if v is None else tuple(v),
                          public_default="none")

    def __post_init__(self):
        check_fields(self)


@takes_options("thing size times", options=Knobs)
def shout(thing, times=1, *, options: Knobs):
    return thing, times, options


def test_the_signature_is_flat_in_the_given_order_with_unnamed_options_last():
    parameters = inspect.signature(shout).parameters
    assert list(parameters) == ["thing", "size", "times", "loud", "names"]
    assert parameters["size"].default == 3 and parameters["names"].default == "none"
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters.values())


def test_positional_and_keyword_calls_make_the_object_and_check_each_option_once():
    CHECKED.clear()
    thing, times, knobs = shout("a", 5, 2, loud=True, names=None)
    assert (thing, times) == ("a", 2)
    assert knobs == Knobs(size=5, loud=True)
    assert CHECKED == ["size", "size"]  # once for the call, once for the Knobs made just above
    with pytest.raises(ArgumentError, match="size"):
        shout("a", size=0)
    with pytest.raises(TypeError, match="colour"):
        shout("a", colour="red")


def test_an_own_argument_left_out_of_the_order_is_a_mistake_found_at_import():
    with pytest.raises(TypeError, match="times"):
        takes_options("thing", options=Knobs)(lambda thing, times=1, *, options: None)


def test_skip_and_keyword_only_and_an_own_argument_that_replaces_an_option():
    @takes_options("thing * size loud", skip=("names",), options=Knobs)
    def quiet(thing, loud="sometimes", *, options: Knobs):
        return loud, options

    parameters = inspect.signature(quiet).parameters
    assert list(parameters) == ["thing", "size", "loud"]
    assert parameters["size"].kind is inspect.Parameter.KEYWORD_ONLY
    assert parameters["loud"].default == "sometimes"  # its own default, not the option's
    with pytest.raises(ArgumentError, match="loud"):  # ...and still checked as the option
        quiet("a")
    assert quiet("a", loud=True)[1].loud is True


def test_flags_come_from_the_fields_and_read_back_into_keyword_arguments():
    parser = argparse.ArgumentParser()
    add_flags(parser, Knobs, skip=("loud",), changes={"size": {"default": 7}})
    assert "--loud" not in parser.format_help() and "how big" in parser.format_help()
    parsed = parser.parse_args(["--names", "x", "y"])
    assert flag_values(parsed, Knobs) == {"size": 7, "names": ("x", "y")}
    assert changed_options(pick(Knobs, flag_values(parsed, Knobs))) == {"size": 7, "names": ("x", "y")}
    assert option_names(Knobs) == ("size", "loud", "names")


def test_the_shared_options_keep_transforemotions_public_defaults():
    video = inspect.signature(te.video_scores).parameters
    assert video["nframes"].default == 100 and video["start"].default == 0 and video["save_dir"].default == "temp/"
    assert inspect.signature(te.video_scores).bind("a.mp4", ["x", "y"], 50).arguments["nframes"] == 50
    assert inspect.signature(te.vad_scores).parameters["model"].default == "auto"
    assert "templates" not in inspect.signature(te.embed_images).parameters
    assert "face_boxes" not in inspect.signature(te.evaluate_dir).parameters
    # Each public function that takes a group takes every option of it that applies (new ones go last).
    for function in (te.image_scores, te.video_scores, te.score_corpus, te.vad_scores):
        assert set(option_names(ScoringOptions)) <= set(inspect.signature(function).parameters)
    for function in (te.video_scores, te.embed_video, te.vad_scores):
        assert set(option_names(FrameSampling)) | set(option_names(SavedFiles)) <= set(
            inspect.signature(function).parameters)


def test_objects_check_every_field_and_the_rules_between_them():
    assert FrameSampling(nframes=te.media.DEFAULT_NFRAMES).nframes is None  # left at its default
    assert FrameSampling(start=2, end=-1).start == 2.0
    with pytest.raises(ArgumentError, match="end.*must be after"):
        FrameSampling(start=5, end=3)
    with pytest.raises(ArgumentError, match="face_boxes"):
        ScoringOptions(face_boxes=True, face_selection="none")
    with pytest.raises(ArgumentError, match="video_name"):
        SavedFiles(video_name="../up")
