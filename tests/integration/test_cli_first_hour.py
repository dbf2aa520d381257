"""The command line as a newcomer and a script meet it: exit codes that say what happened, help without noise,
--version, a hint for labels given with commas, --timestamps, the offline test model, one paragraph when the hub
cannot be reached, and one line when a corpus run is interrupted (real processes, real signals)."""

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
from PIL import Image

import transforemotion as te
from transforemotion import cli
from conftest import claim_frames, moving_face_frames, write_video

CLASSES = ["joy", "anger"]
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(te.__file__)))


def environment(**extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_ROOT, os.environ.get("PYTHONPATH", "")]))
    env.update(extra)
    return env


def shell(*argv, timeout=300, **env):
    return subprocess.run([sys.executable, "-m", "transforemotion", *argv], capture_output=True, text=True,
                          timeout=timeout, env=environment(**env))


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- exit codes ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_nothing_that_could_be_scored_exits_2_from_a_real_shell(tiny_model, tmp_path):
    not_an_image = tmp_path / "notanimage.jpg"
    not_an_image.write_text("hello")
    done = shell("image", str(not_an_image), "--classes", *CLASSES, "--local-model-path", tiny_model)
    assert done.returncode == 2, done.stderr
    assert "notanimage.jpg" in done.stderr and "nothing could be scored" in done.stderr


def test_some_inputs_failed_exits_3_and_everything_read_exits_0(capsys, tiny_model, image_dir, tmp_path):
    bad = tmp_path / "b.jpg"
    bad.write_bytes(b"not a picture")
    code, out, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), str(bad), "--classes", *CLASSES,
                         "--local-model-path", tiny_model)
    assert code == 3, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["joy"] != "NA" and rows[1]["joy"] == "NA"
    # A picture without a face was read: the run is complete, its row is NA.
    code, out, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), str(image_dir / "blank.png"),
                         "--classes", *CLASSES, "--local-model-path", tiny_model)
    assert code == 0 and "No face" in err


def test_a_truncated_video_exits_3(capsys, tiny_model, face, tmp_path):
    path = claim_frames(write_video(tmp_path / "cut.avi", moving_face_frames(face, count=8)), 12)
    code, out, err = run(capsys, "video", path, "--classes", *CLASSES, "--nframes", "12", "--ffreq", "1",
                         "--face-selection", "none", "--local-model-path", tiny_model, "--quiet")
    assert code == 3, err
    assert "4 of 12 sampled frames could not be decoded" in err


@pytest.mark.slow
def test_corpus_exit_codes_tell_all_failed_from_some_failed(tiny_model, face, tmp_path):
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"\0" * 1000)
    good = write_video(tmp_path / "good.avi", moving_face_frames(face, count=6))
    common = ["--classes", *CLASSES, "--nframes", "3", "--ffreq", "2", "--face-selection", "none",
              "--local-model-path", tiny_model, "--quiet"]
    every_one_failed = shell("corpus", str(broken), "--output-dir", str(tmp_path / "all-failed"), *common)
    assert every_one_failed.returncode == 2, every_one_failed.stderr
    assert "1 of 1 units could not be scored" in every_one_failed.stderr
    some_failed = shell("corpus", good, str(broken), "--output-dir", str(tmp_path / "some"), *common,
                        "-o", str(tmp_path / "scores.csv"))
    assert some_failed.returncode == 3, some_failed.stderr
    with open(tmp_path / "scores.csv", newline="") as fh:
        assert [r["source"] for r in csv.DictReader(fh)] == [good] * 3
    all_good = shell("corpus", good, "--output-dir", str(tmp_path / "good"), *common)
    assert all_good.returncode == 0, all_good.stderr


# --- help, version, flags ---------------------------------------------------------------------

@pytest.mark.parametrize("command", [[], ["image"], ["video"], ["corpus"], ["evaluate"], ["models"],
                                     ["test-model"]])
def test_help_gives_each_default_once_and_never_none(capsys, command):
    with pytest.raises(SystemExit) as exited:
        cli.main(command + ["--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    # An option whose help already gives its default is not given a second one.
    assert not re.search(r"default[^()]*\([^()]*\)[^()]*\) \(default:", text), text
    for option in re.split(r"\s(?=--?[a-z])", text):
        assert option.count("default") <= 1, option
    if command == ["video"]:
        assert "--classes LABEL [LABEL ...] two or more labels" in text  # required: no default to show
        assert "--ffreq N take every N-th frame (default: 15)" in text
        assert "(default: up to 100" in text and "--start SECONDS score from here (default: 0)" in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out.strip() == f"transforemotion {te.__version__}"


def test_labels_given_with_commas_get_a_hint(capsys, tiny_model, image_dir):
    code, _, err = run(capsys, "image", str(image_dir / "astronaut.jpg"), "--classes", "joy,anger,surprise",
                       "--local-model-path", tiny_model)
    assert code == 2
    assert "got joy,anger,surprise" in err
    assert "Give the labels separated by spaces, not as one text with commas: --classes joy anger surprise" in err


def test_video_timestamps_are_on_by_default_and_can_be_left_out(capsys, tiny_model, face_video):
    common = ["video", face_video, "--classes", *CLASSES, "--nframes", "2", "--ffreq", "5", "--quiet",
              "--face-selection", "none", "--local-model-path", tiny_model]
    for flags, columns in (([], ["frame", "time", *CLASSES]), (["--timestamps"], ["frame", "time", *CLASSES]),
                           (["--no-timestamps"], CLASSES)):
        code, out, err = run(capsys, *common, *flags)
        assert code == 0, err
        assert next(csv.reader(io.StringIO(out))) == columns, flags


@pytest.mark.slow
def test_test_model_writes_a_model_the_other_commands_load(tiny_model, image_dir, tmp_path):
    folder = tmp_path / "tiny"
    made = shell("test-model", str(folder))
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(folder) and "--local-model-path" in made.stderr
    assert os.path.isfile(folder / "config.json")
    scored = shell("image", str(image_dir / "astronaut.jpg"), "--classes", *CLASSES, "--local-model-path",
                   made.stdout.strip())
    assert scored.returncode == 0, scored.stderr
    row = next(csv.DictReader(io.StringIO(scored.stdout)))
    assert abs(float(row["joy"]) + float(row["anger"]) - 1) < 1e-6
    again = shell("test-model", str(folder))
    assert again.returncode == 2 and "is not empty" in again.stderr


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_without_a_hub_the_default_model_fails_with_one_paragraph(image_dir, tmp_path):
    endpoint = f"http://127.0.0.1:{closed_port()}"
    env = {k: "" for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    done = shell("image", str(image_dir / "astronaut.jpg"), "--classes", *CLASSES, HF_HOME=str(tmp_path / "hf"),
                 HF_ENDPOINT=endpoint, **env)
    assert done.returncode == 4, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    (message,) = lines
    assert f"The model hub at {endpoint} cannot be reached (the connection was refused)" in message
    assert "--local-model-path" in message and "transforemotion test-model FOLDER" in message
    for noise in ("MaxRetryError", "ConnectError", "HTTPConnectionPool", "Errno", "Traceback"):
        assert noise not in message


# --- Ctrl-C ----------------------------------------------------------------------------------

SLOW = textwrap.dedent("""
    import sys, time
    from transforemotion import models

    # Slow every forward pass down, so that the interrupt lands in the middle of the run.
    embed = models.VisionLanguageModel.embed_images
    def slow(self, images):
        time.sleep(0.15)
        return embed(self, images)
    models.VisionLanguageModel.embed_images = slow
""")
PYTHON_RUN = SLOW + textwrap.dedent("""
    import transforemotion as te
    te.score_corpus(sys.argv[1], ["joy", "anger"], sys.argv[2], nframes=20, ffreq=1, unit_size=2,
                    face_selection="none", local_model_path=sys.argv[3], progress=False)
""")
SHELL_RUN = SLOW + textwrap.dedent("""
    from transforemotion import cli
    sys.exit(cli.main(["corpus", sys.argv[1], "--output-dir", sys.argv[2], "--classes", "joy", "anger",
                       "--nframes", "20", "--ffreq", "1", "--unit-size", "2", "--face-selection", "none",
                       "--local-model-path", sys.argv[3], "--quiet"]))
""")


def parts(out):
    folder = os.path.join(out, "parts")
    return [n for n in os.listdir(folder) if n.endswith(".parquet")] if os.path.isdir(folder) else []


def interrupt(script, video, out, tiny_model):
    child = subprocess.Popen([sys.executable, "-c", script, video, out, tiny_model], env=environment(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(parts(out)) < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    return child.returncode, err


# Python ends an uncaught KeyboardInterrupt by dying of SIGINT, as the shell expects; the CLI exits 130.
@pytest.mark.slow
@pytest.mark.parametrize("script, code", [(PYTHON_RUN, -signal.SIGINT), (SHELL_RUN, 130)], ids=["python", "shell"])
def test_ctrl_c_during_a_corpus_run_ends_with_one_line(tiny_model, face, tmp_path, script, code):
    video = write_video(tmp_path / "long.avi", moving_face_frames(face, count=20))
    out = str(tmp_path / "out")
    returncode, err = interrupt(script, video, out, tiny_model)
    finished = len(parts(out))
    assert returncode == code, err
    assert 2 <= finished < 10, "the interrupt should land part-way through the 10 units"
    last = err.strip().splitlines()[-1]
    expected = f"stopped; {finished} of 10 units finished; run the same command again to continue"
    shell_line = f"transforemotion: interrupted: {expected}"
    assert last == (f"KeyboardInterrupt: {expected}" if script is PYTHON_RUN else shell_line), err
    # Run again: the finished units are skipped and the rest is scored.
    summary = te.score_corpus(video, CLASSES, out, nframes=20, ffreq=1, unit_size=2, face_selection="none",
                              local_model_path=tiny_model, progress=False)
    assert summary["status"].count("skipped") == finished and summary["status"].count("scored") == 10 - finished
