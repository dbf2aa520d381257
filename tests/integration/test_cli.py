import csv
import io
import json
import math
import os
import subprocess
import sys

import pytest

import transforemotion as te
from transforemotion import cli

CLASSES = ["joy", "anger"]


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_image_command_prints_csv_matching_the_api(capsys, tiny_model, image_dir):
    code, out, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), str(image_dir / "blank.png"),
                       "--classes", *CLASSES, "--local-model-path", tiny_model)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["image"].endswith(name) for r, name in zip(rows, ("astronaut.jpg", "blank.png"))] == [True, True]
    api = te.image_scores(str(image_dir / "astronaut.jpg"), CLASSES, local_model_path=tiny_model)
    assert float(rows[0]["joy"]) == pytest.approx(api["joy"][0])
    assert rows[1]["joy"] == "NA"
    assert "blank.png" in err and "No face" in err


def test_image_command_accepts_a_folder_and_json(capsys, tiny_model, image_dir):
    code, out, _ = run(capsys, "image", str(image_dir), "--classes", *CLASSES, "--face-selection", "none",
                       "--format", "json", "--local-model-path", tiny_model)
    assert code == 0
    table = json.loads(out)
    assert [p.rsplit("/", 1)[-1] for p in table["image"]] == ["astronaut.jpg", "blank.png", "two_faces.png"]
    assert all(math.isclose(a + b, 1.0) for a, b in zip(table["joy"], table["anger"]))


def test_video_command(capsys, tiny_model, face_video, tmp_path):
    out_file = tmp_path / "scores.csv"
    code, _, _ = run(capsys, "video", face_video, "--classes", *CLASSES, "--nframes", "3", "--ffreq", "5",
                     "--local-model-path", tiny_model, "-o", str(out_file), "--quiet")
    assert code == 0
    with out_file.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["frame"] for r in rows] == ["0", "5", "10"]


def test_errors_are_one_line_and_exit_2(capsys, tiny_model, tmp_path):
    code, out, err = run(capsys, "image", str(tmp_path / "missing.jpg"), "--classes", *CLASSES,
                         "--local-model-path", tiny_model)
    assert code == 2 and out == ""
    assert "missing.jpg" in err and "Traceback" not in err


def test_installed_entry_point_lists_models():
    done = subprocess.run([sys.executable, "-m", "transforemotion", "models"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == ("name,model_id,architecture,description,gpu,memory_gb,packages,"
                                           "transformers,available,reason")
    assert "oai-base,openai/clip-vit-base-patch32" in done.stdout


# --- the shell's own spelling, runs that go on, outputs that are checked -----------------------

def test_errors_speak_in_flags_not_python(capsys, tiny_model, image_dir):
    code, out, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), "--classes", *CLASSES,
                         "--face-selection", "none", "--face-boxes", "--local-model-path", tiny_model)
    assert code == 2 and out == ""
    assert "--face-boxes" in err and "--face-selection none" in err
    assert "face_boxes" not in err and "True" not in err
    code, _, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), "--classes", "joy",
                       "--local-model-path", tiny_model)
    assert code == 2 and "--classes" in err and "['joy']" not in err


def test_a_folder_run_goes_on_past_an_unreadable_file(capsys, tiny_model, image_dir, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes((image_dir / "astronaut.jpg").read_bytes())
    (folder / "b.jpg").write_bytes(b"not a picture at all")
    code, out, err = run(capsys, "image", str(folder), "--classes", *CLASSES, "--local-model-path", tiny_model)
    assert code == 3, err  # results written, one input failed
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["image"].rsplit("/", 1)[-1] for r in rows] == ["a.jpg", "b.jpg"]
    assert rows[0]["joy"] != "NA" and rows[1]["joy"] == "NA"
    assert "b.jpg" in err and err.count("\n") <= 2 and "Traceback" not in err


@pytest.mark.parametrize("where", ["missing-folder/out.csv", "."])
def test_bad_output_file_is_refused_before_any_work(capsys, tiny_model, image_dir, tmp_path, where):
    target = str(tmp_path / where)
    code, out, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), "--classes", *CLASSES,
                         "--local-model-path", tiny_model, "-o", target)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "--output" in err and len(err.strip().splitlines()) == 1
    assert not os.path.exists(tmp_path / "missing-folder")


def test_all_faces_from_the_shell(capsys, tiny_model, image_dir):
    code, out, _ = run(capsys, "image", str(image_dir / "two_faces.png"), "--classes", *CLASSES,
                       "--face-selection", "all", "--templates", "fer", "--local-model-path", tiny_model)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["face"] for r in rows] == ["0", "1"]
    assert list(rows[0])[:8] == ["image", "face", "x", "y", "width", "height", "confidence", "joy"]
    api = te.image_scores(str(image_dir / "two_faces.png"), CLASSES, face_selection="all", templates="fer",
                          local_model_path=tiny_model)
    assert float(rows[1]["joy"]) == pytest.approx(api["joy"][1])


def test_models_as_json(capsys):
    code, out, _ = run(capsys, "models", "--format", "json")
    assert code == 0 and json.loads(out)["name"][:2] == ["oai-base", "oai-large"]


def test_help_shows_defaults_for_every_option():
    done = subprocess.run([sys.executable, "-m", "transforemotion", "video", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for expected in ("--nframes N how many frames", "up to 100", "--ffreq N take every N-th frame (default: 15)",
                     "(default: temp/)", "--save-frames write the sampled frames"):
        assert expected in text, expected


@pytest.mark.slow
def test_short_clip_with_default_nframes_from_a_real_shell(tiny_model, face_video, tmp_path):
    out = tmp_path / "scores.csv"
    done = subprocess.run([sys.executable, "-m", "transforemotion", "video", face_video, "--classes", *CLASSES,
                           "--face-selection", "none", "--local-model-path", tiny_model, "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with out.open() as fh:
        assert [r["frame"] for r in csv.DictReader(fh)] == ["0", "15", "30", "45"]
    assert "--nframes" in done.stderr and "nframes=" not in done.stderr
    assert "Loading weights" not in done.stderr  # no third-party progress bars


@pytest.mark.slow
def test_evaluate_a_labelled_folder_from_the_shell(tiny_model, image_dir, tmp_path):
    root = tmp_path / "labelled"
    for folder, name in (("happy", "astronaut.jpg"), ("happy", "two_faces.png"), ("sad", "astronaut.jpg")):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).write_bytes((image_dir / name).read_bytes())
    scores_csv, report = tmp_path / "scores.csv", tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "transforemotion", "evaluate", str(root), "--label-map", "happy=joy",
                           "sad=sadness", "--local-model-path", tiny_model, "--scores-out", str(scores_csv),
                           "--format", "json", "-o", str(report)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    evaluation = json.loads(report.read_text())
    assert evaluation["classes"] == ["joy", "sadness"] and evaluation["n_used"] == 3
    with scores_csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["truth"] for r in rows] == ["joy", "joy", "sadness"]
    right = [max(("joy", "sadness"), key=lambda c: float(r[c])) == r["truth"] for r in rows]
    assert evaluation["accuracy"] == pytest.approx(sum(right) / 3)


def test_evaluate_refuses_a_bad_label_map(capsys, tiny_model, image_dir):
    code, out, err = run(capsys, "evaluate", str(image_dir), "--label-map", "happy", "--local-model-path", tiny_model)
    assert code == 2 and out == "" and "--label-map takes FOLDER=LABEL" in err
