"""`transforemotion vad`: the same numbers as vad_scores, as a table, with messages spelled for the shell."""

import csv
import io
import json

import pytest

import transforemotion as te
from transforemotion import cli


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_images_give_the_api_numbers_and_na_where_no_face(capsys, tiny_model, image_dir):
    face, blank = str(image_dir / "astronaut.jpg"), str(image_dir / "blank.png")
    code, out, err = run(capsys, "vad", face, blank, "--local-model-path", tiny_model)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["image", "valence", "arousal", "dominance"]
    assert [r["image"] for r in rows] == [face, blank]
    api = te.vad_scores(face, local_model_path=tiny_model)
    assert [float(rows[0][d]) for d in api] == pytest.approx([api[d][0] for d in api], abs=1e-6)
    assert rows[1]["valence"] == "NA" and "blank.png" in err and "No face" in err


def test_a_folder_and_custom_labels_as_json(capsys, tiny_model, image_dir, tmp_path):
    labels = {"arousal": {"high": "an excited face", "low": "a calm face"}}
    path = tmp_path / "labels.json"
    path.write_text(json.dumps(labels))
    code, out, _ = run(capsys, "vad", str(image_dir), "--dimensions", "arousal", "--label-type", "custom",
                       "--custom-labels", str(path), "--face-selection", "none", "--format", "json",
                       "--local-model-path", tiny_model)
    assert code == 0
    table = json.loads(out)
    assert [p.rsplit("/", 1)[-1] for p in table["image"]] == ["astronaut.jpg", "blank.png", "two_faces.png"]
    high = te.image_scores(table["image"], ["an excited face", "a calm face"], face_selection="none",
                           local_model_path=tiny_model)["an excited face"]
    assert table["arousal"] == pytest.approx(high, abs=1e-4)
    code, inline, _ = run(capsys, "vad", str(image_dir), "--dimensions", "arousal", "--label-type", "custom",
                          "--custom-labels", json.dumps(labels), "--face-selection", "none", "--format", "json",
                          "--local-model-path", tiny_model)
    assert code == 0 and json.loads(inline) == table


def test_a_video_has_frame_and_time(capsys, tiny_model, face_video, tmp_path):
    out_file = tmp_path / "vad.csv"
    code, _, err = run(capsys, "vad", face_video, "--nframes", "3", "--ffreq", "5", "--dimensions", "valence",
                       "--local-model-path", tiny_model, "-o", str(out_file), "--quiet")
    assert code == 0, err
    with out_file.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["frame", "time", "valence"]
    assert [r["frame"] for r in rows] == ["0", "5", "10"]
    api = te.vad_scores(face_video, dimensions="valence", nframes=3, ffreq=5, local_model_path=tiny_model)
    assert [float(r["valence"]) for r in rows] == pytest.approx(api["valence"], abs=1e-6)


@pytest.mark.parametrize("argv, message", [
    (["some text"], "text input is not supported"),
    (["IMAGE", "--nframes", "10"], "--nframes 10 applies to a video only"),
    (["IMAGE", "--label-type", "custom"], "--custom-labels must be provided when --label-type custom"),
    (["IMAGE", "--label-type", "custom", "--custom-labels", "valence=happy"], "--custom-labels takes a JSON"),
])
def test_errors_are_one_line_in_flags(capsys, tiny_model, image_dir, argv, message):
    argv = [str(image_dir / "astronaut.jpg") if a == "IMAGE" else a for a in argv]
    code, out, err = run(capsys, "vad", *argv, "--local-model-path", tiny_model)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "=" not in err.split(message)[0]  # no Python spelling such as input_type='image'
