"""Without a hub, one paragraph instead of a wall of MaxRetryError text: the reason in a few words, and the ways on
in the caller's spelling."""

import socket

import pytest

from transforemotion.core.messages import caller
from transforemotion.models import hub


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def failure(url):
    requests = pytest.importorskip("requests")
    with pytest.raises(requests.RequestException) as caught:
        requests.head(url, timeout=5)
    return caught.value


def test_a_refused_connection_is_said_in_a_few_words():
    exc = failure(f"http://127.0.0.1:{closed_port()}/")
    assert "Max retries exceeded" in str(exc)  # the wall of text requests gives
    assert hub.short_reason(exc) == "the connection was refused"


def test_a_name_that_cannot_be_looked_up_is_said_in_a_few_words():
    exc = failure("http://transforemotion-test.invalid/")  # .invalid never resolves (RFC 2606)
    assert hub.short_reason(exc) == "its name could not be looked up: no network, or no DNS"


def test_an_unknown_failure_keeps_its_first_line_short():
    reason = hub.short_reason(RuntimeError("something odd\nwith a second line " + "x" * 300))
    assert reason == "something odd"
    assert len(hub.short_reason(RuntimeError("y" * 300))) == 120


@pytest.mark.parametrize("kind, how", [
    ("python", "local_model_path=transforemotion.testing.build_tiny_clip(folder)"),
    ("r", "local_model_path = tiny_clip_model()"),
    ("cli", "transforemotion test-model FOLDER, then --local-model-path FOLDER"),
])
def test_the_paragraph_names_the_ways_on_in_the_callers_spelling(kind, how):
    with caller(kind):
        message = hub.unreachable_message("oai-base", "the connection was refused")
    assert "\n" not in message and how in message
    assert "cannot be reached (the connection was refused)" in message and "'oai-base'" in message
