"""Our errors: each input error is also the builtin callers already catch, and the CLI tells them apart."""

import subprocess
import sys

import pytest

import transforemotion as te
from transforemotion import cli
from transforemotion.core import errors


def test_input_errors_are_ours_and_the_builtin(tmp_path):
    with pytest.raises(ValueError) as bad_argument:
        te.image_scores(str(tmp_path / "x.jpg"), ["joy"])
    assert isinstance(bad_argument.value, te.TransforemotionError)
    assert isinstance(bad_argument.value, te.InputError)
    with pytest.raises(FileNotFoundError) as missing:
        te.image_scores(str(tmp_path / "missing.jpg"), ["joy", "anger"])
    assert isinstance(missing.value, errors.InputNotFoundError)
    assert isinstance(missing.value, te.InputError)


def test_every_error_class_derives_from_the_builtin_it_names():
    pairs = {
        errors.ArgumentError: ValueError,
        errors.InputNotFoundError: FileNotFoundError,
        errors.MissingPackageError: ImportError,
        errors.FolderInUseError: RuntimeError,
        errors.ModelUnavailableError: OSError,
    }
    for ours, builtin in pairs.items():
        assert issubclass(ours, builtin) and issubclass(ours, errors.TransforemotionError)
    assert not issubclass(errors.MissingPackageError, errors.InputError)


def test_r_condition_classes_go_from_specific_to_general():
    assert errors.condition_classes(errors.ArgumentError("x")) == [
        "transforemotion_argument_error", "transforemotion_input_error", "transforemotion_error"]
    assert errors.condition_classes(errors.MissingPackageError("x")) == [
        "transforemotion_missing_package_error", "transforemotion_error"]
    assert errors.condition_classes(ValueError("not ours")) == []


def test_cli_exit_codes_tell_input_from_environment_from_faults(tmp_path, capsys, monkeypatch):
    assert cli.main(["image", str(tmp_path / "missing.jpg"), "--classes", "joy", "anger"]) == cli.EXIT_BAD_INPUT
    assert "error:" in capsys.readouterr().err

    def broken(args):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "run_image", broken)
    image = tmp_path / "a.jpg"
    image.write_bytes(b"")
    assert cli.main(["image", str(image), "--classes", "joy", "anger"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: a bug" in err and "report" in err

    def no_package(args):
        raise errors.MissingPackageError("needs the eval extra")

    monkeypatch.setattr(cli, "run_image", no_package)
    assert cli.main(["image", str(image), "--classes", "joy", "anger"]) == cli.EXIT_ENVIRONMENT


@pytest.mark.slow
def test_the_shell_sees_the_exit_code(tmp_path):
    done = subprocess.run([sys.executable, "-m", "transforemotion", "image", str(tmp_path / "no.jpg"),
                           "--classes", "joy", "anger"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "no.jpg" in done.stderr
