"""The TRANSFOREMOTION_* settings: one module reads them, one parser per kind, messages that name the variable."""

import re
from pathlib import Path

import pytest

from transforemotion.core import checks, settings

PACKAGE = Path(settings.__file__).resolve().parents[1]


def test_only_the_settings_module_reads_our_environment_variables():
    readers = [f"{path.relative_to(PACKAGE)}: {line.strip()}"
               for path in PACKAGE.rglob("*.py") if path != Path(settings.__file__).resolve()
               for line in path.read_text(encoding="utf-8").splitlines()
               if re.search(r"\b(environ|getenv)\b", line) and "TRANSFOREMOTION_" in line]
    assert not readers


@pytest.mark.parametrize("raw, expected", [("", None), (" 7 ", 7), ("1", 1), ("10", 10)])
def test_whole_number(monkeypatch, raw, expected):
    monkeypatch.setenv("TRANSFOREMOTION_TEST_COUNT", raw)
    assert settings.whole_number("TRANSFOREMOTION_TEST_COUNT", 1, 10, "things", "Unset it.") == expected


@pytest.mark.parametrize("raw", ["0", "11", "2.5", "many", "-1"])
def test_whole_number_refuses_with_the_variable_and_the_range(monkeypatch, raw):
    monkeypatch.setenv("TRANSFOREMOTION_TEST_COUNT", raw)
    with pytest.raises(ValueError) as caught:
        settings.whole_number("TRANSFOREMOTION_TEST_COUNT", 1, 10, "things", "Unset it.")
    assert str(caught.value) == (f"The environment variable TRANSFOREMOTION_TEST_COUNT is {raw!r}; it must be a whole "
                                 "number from 1 to 10 (things). Unset it.")


@pytest.mark.parametrize("raw, expected", [("", True), ("1", True), ("Yes", True), (" on ", True), ("true", True),
                                           ("0", False), ("OFF", False), ("no", False), ("false", False)])
def test_progress_flag(monkeypatch, raw, expected):
    monkeypatch.setenv("TRANSFOREMOTION_PROGRESS", raw)
    assert settings.progress() is expected
    assert checks.resolve_progress() is expected
    assert checks.resolve_progress(not expected) is (not expected)  # the argument wins


def test_a_flag_refuses_other_words(monkeypatch):
    monkeypatch.setenv("TRANSFOREMOTION_PROGRESS", "Maybe")
    with pytest.raises(ValueError) as caught:
        settings.progress()
    assert str(caught.value) == ("The environment variable TRANSFOREMOTION_PROGRESS is 'maybe'; set it to 0 "
                                 "(no progress bars) or 1, or unset it.")


@pytest.mark.parametrize("raw, large, debug", [("", False, False), ("1", True, True), ("0", False, False),
                                               ("please", False, True)])
def test_switches_read_while_refusing_or_reporting_never_raise(monkeypatch, raw, large, debug):
    monkeypatch.setenv("TRANSFOREMOTION_ALLOW_LARGE", raw)
    monkeypatch.setenv("TRANSFOREMOTION_DEBUG", raw)
    assert settings.allow_large() is large
    assert settings.debug() is debug


def test_choice(monkeypatch):
    monkeypatch.delenv("TRANSFOREMOTION_CPU_BFLOAT16", raising=False)
    assert settings.cpu_bfloat16() == "auto"
    monkeypatch.setenv("TRANSFOREMOTION_CPU_BFLOAT16", " 1 ")
    assert settings.cpu_bfloat16() == "1"
    monkeypatch.setenv("TRANSFOREMOTION_CPU_BFLOAT16", "Yes")
    with pytest.raises(ValueError) as caught:
        settings.cpu_bfloat16()
    assert str(caught.value) == ("TRANSFOREMOTION_CPU_BFLOAT16 is 'yes'; give 0 (float32 on the CPU), 1 (bfloat16) "
                                 "or auto (bfloat16 where the CPU has AMX), or unset it.")


def test_batch_size_message_and_default(monkeypatch):
    monkeypatch.delenv("TRANSFOREMOTION_BATCH_SIZE", raising=False)
    assert checks.resolve_batch_size() == checks.DEFAULT_BATCH_SIZE == 32
    monkeypatch.setenv("TRANSFOREMOTION_BATCH_SIZE", "5000")
    with pytest.raises(ValueError) as caught:
        checks.resolve_batch_size()
    assert str(caught.value) == ("The environment variable TRANSFOREMOTION_BATCH_SIZE is '5000'; it must be a whole "
                                 "number from 1 to 4096 (pictures per batch). Unset it to use 32, or pass "
                                 "batch_size=32.")
    assert checks.resolve_batch_size(8) == 8


def test_the_old_names_stay_importable_from_checks():
    for name in ("resolve_batch_size", "resolve_progress", "resolve_face_workers", "usable_cores",
                 "DEFAULT_BATCH_SIZE", "MAX_BATCH_SIZE"):
        assert name in checks.__all__ and hasattr(checks, name)
    assert checks.usable_cores is settings.usable_cores
    assert checks.MAX_BATCH_SIZE == settings.MAX_BATCH_SIZE == 4096
