import csv
import io
import json
import math
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
