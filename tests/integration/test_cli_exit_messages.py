"""Issue 27: exit codes and messages that say what happened (one line where the README promises one)."""

import pytest

from transforemotion import cli

CLASSES = ["joy", "anger"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def text_jpg(tmp_path):
    path = tmp_path / "text.jpg"
    path.write_text("hello")
    return str(path)


def test_embed_exits_3_when_some_failed_and_2_when_none_was_embedded(capsys, tiny_model, image_dir, text_jpg, tmp_path):
    code, _, err = run(capsys, "embed", "image", str(image_dir / "astronaut.jpg"), text_jpg,
                       "-o", str(tmp_path / "e.parquet"), "--local-model-path", tiny_model, "--quiet")
    assert code == 3, err
    code, _, err = run(capsys, "embed", "image", text_jpg, "-o", str(tmp_path / "f.parquet"),
                       "--local-model-path", tiny_model, "--quiet")
    assert code == 2, err
    assert err.count("\n") == 1 and "nothing could be scored" in err


def test_vad_with_nothing_scored_exits_2_as_image_does(capsys, tiny_model, text_jpg):
    code, _, err = run(capsys, "vad", text_jpg, "--local-model-path", tiny_model, "--quiet")
    assert code == 2, err
    assert err.count("\n") == 1 and "nothing could be scored" in err


def test_nothing_scored_is_one_line_with_the_reason(capsys, tiny_model, text_jpg):
    code, _, err = run(capsys, "image", text_jpg, "--classes", *CLASSES, "--local-model-path", tiny_model, "--quiet")
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("transforemotion: error: nothing could be scored") and "text.jpg" in lines[0]
    assert "the others were scored" not in err and "item(s)" not in err


def test_one_failed_input_among_several_is_said_once_in_the_singular(capsys, tiny_model, image_dir, text_jpg):
    code, _, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), text_jpg, "--classes", *CLASSES,
                       "--local-model-path", tiny_model, "--quiet")
    assert code == 3
    assert err.count("missing values") == 1 and "Its row has missing values" in err
    assert "the others were scored" in err and "item(s)" not in err


@pytest.mark.parametrize("said, expected", [((), "transforemotion: interrupted."),
                                            (("stopped; 2 of 5 units finished",),
                                             "transforemotion: interrupted: stopped; 2 of 5 units finished")])
def test_ctrl_c_says_it_was_interrupted(capsys, monkeypatch, image_dir, said, expected):
    def interrupt(args):
        raise KeyboardInterrupt(*said)

    monkeypatch.setattr(cli, "run_image", interrupt)
    code, _, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), "--classes", *CLASSES)
    assert code == 130
    assert err == expected + "\n"


def test_a_list_flag_that_took_the_path_is_named_in_one_line(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["video", "--classes", "joy", "anger", "clip.mp4"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert len(err.splitlines()) == 1, err
    assert "--classes took 'clip.mp4'" in err and "before --classes" in err and "-- clip.mp4" in err


def test_a_path_after_double_dash_is_read_as_the_path(capsys, tiny_model, image_dir):
    code, out, err = run(capsys, "image", "--classes", *CLASSES, "--local-model-path", tiny_model, "--quiet", "--",
                         str(image_dir / "astronaut.jpg"))
    assert code == 0, err


# --- a picture given as a video, a video as a picture: the kind of file and the function to use ---------

def test_a_picture_given_to_video_scores_says_use_image_scores(tiny_model, image_dir, text_jpg):
    import transforemotion as te

    for picture in (str(image_dir / "astronaut.jpg"), text_jpg):
        with pytest.raises(ValueError, match=r"is a picture, not a video: use image_scores\(\)"):
            te.video_scores(picture, CLASSES, local_model_path=tiny_model)


def test_a_video_given_to_image_scores_says_use_video_scores(tiny_model, face_video, tmp_path, capsys):
    import shutil

    import transforemotion as te

    clip = str(tmp_path / "clip.avi")
    shutil.copy(face_video, clip)
    with pytest.raises(ValueError, match=r"clip.avi is a video, not a picture: use video_scores\(\)"):
        te.image_scores(clip, CLASSES, local_model_path=tiny_model)
    code, _, err = run(capsys, "image", clip, "--classes", *CLASSES, "--local-model-path", tiny_model, "--quiet")
    assert code == 2 and "is a video, not a picture: use transforemotion video" in err


def test_the_shell_names_its_own_command_for_a_picture(capsys, tiny_model, image_dir):
    code, _, err = run(capsys, "video", str(image_dir / "astronaut.jpg"), "--classes", *CLASSES,
                       "--local-model-path", tiny_model)
    assert code == 2 and "is a picture, not a video: use transforemotion image" in err
