"""The wire format: every frame is parsed and validated in one place, and only known fields go on."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.messages import MAX_FRAME_BYTES, FrameError, parse_frame
from tests.signaling.hostile import any_text as _any_text
from tests.signaling.hostile import framelike as _framelike


def test_offer_keeps_only_its_validated_fields():
    frame = parse_frame(json.dumps({"type": "offer", "sdp": "v=0\r\n"}))
    assert frame.relayed and json.loads(frame.encode()) == {"type": "offer", "sdp": "v=0\r\n"}


def test_candidate_may_be_null_at_the_end_of_gathering():
    assert parse_frame('{"type":"candidate","candidate":null}').fields == {"candidate": None}
    frame = parse_frame(
        json.dumps(
            {
                "type": "candidate",
                "candidate": {
                    "candidate": "candidate:1 1 udp 1 127.0.0.1 9 typ host",
                    "sdpMid": "0",
                    "sdpMLineIndex": 0,
                },
            }
        )
    )
    assert frame.fields["candidate"]["usernameFragment"] is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "not_text"),
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"sdp": "x"}', "missing_type"),
        ('{"type": "media", "data": "x"}', "unknown_type"),
        ('{"type": "offer"}', "missing_field"),
        ('{"type": "offer", "sdp": 5}', "bad_field"),
        ('{"type": "offer", "sdp": "x", "note": "extra"}', "bad_field"),
        ('{"type": "candidate", "candidate": {"candidate": "c", "port": 1}}', "bad_field"),
        ('{"type": "extend-propose", "minutes": "10"}', "bad_field"),
        ('{"type": "extend-propose", "minutes": true}', "bad_field"),
        ('{"type": "extend-answer", "accept": 1}', "bad_field"),
    ],
)
def test_malformed_frames_are_refused_with_a_reason(text, code):
    with pytest.raises(FrameError) as error:
        parse_frame(text)
    assert error.value.code == code and error.value.message


def test_frame_over_64_kib_is_refused_even_when_multibyte():
    at_limit = json.dumps({"type": "offer", "sdp": "x" * (MAX_FRAME_BYTES - 40)})
    assert parse_frame(at_limit).type == "offer"
    # 30,000 three-byte characters: under the limit in characters, over it in bytes.
    with pytest.raises(FrameError, match="64 KiB"):
        parse_frame(json.dumps({"type": "offer", "sdp": "€" * 30_000}, ensure_ascii=False))


# --- Hostile input: every text becomes a Frame or a FrameError, nothing else. ---


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[" * 5000, "bad_json"),  # nested deeper than the parser's recursion limit
        ('{"type": "offer", "sdp": ' + "[" * 100_000 + "}", "too_large"),
        ("\ud800", "not_text"),  # a lone surrogate is not text a WebSocket can carry
        ('{"type": "offer", "sdp": "\ud800"}', "not_text"),
        ('{"type": "offer", "sdp": "\\ud800"}', "bad_field"),  # the same, escaped inside the JSON
        ('{"type": "extend-propose", "minutes": ' + "9" * 5000 + "}", "bad_json"),  # past int's digit limit
        ('{"type": "candidate", "candidate": {"candidate": "c", "sdpMLineIndex": ' + "9" * 40 + "}}", "bad_field"),
        ('{"type": "extend-propose", "minutes": 1e999}', "bad_field"),
        ('{"type": "extend-propose", "minutes": NaN}', "bad_field"),
        (b'{"type": "bye"}', "not_text"),
        (42, "not_text"),
    ],
)
def test_hostile_frames_are_refused_with_a_reason(text, code):
    with pytest.raises(FrameError) as error:
        parse_frame(text)
    assert error.value.code == code and error.value.message


def _outcome(text):
    try:
        return parse_frame(text)
    except FrameError as error:
        assert error.code and error.message
        return error


@settings(max_examples=300, deadline=None)
@given(_any_text | st.text(max_size=300) | st.binary(max_size=50) | st.none())
def test_any_text_becomes_a_frame_or_a_frame_error(text):
    _outcome(text)


@settings(max_examples=300, deadline=None)
@given(_framelike, st.booleans())
def test_any_json_frame_becomes_a_frame_or_a_frame_error_and_a_frame_reencodes_to_itself(value, ascii_only):
    outcome = _outcome(json.dumps(value, ensure_ascii=ascii_only))
    if isinstance(outcome, FrameError):
        return
    # What goes on to the other member is valid JSON, only known fields, and says what the sender said.
    relayed = json.loads(outcome.encode())
    assert relayed["type"] == value["type"]
    assert set(relayed) <= {"type", "sdp", "candidate", "minutes", "accept"}
    for name, item in relayed.items():
        if name != "candidate" or item is None:
            assert item == value.get(name)


@settings(max_examples=50, deadline=None)
@given(st.integers(min_value=1, max_value=200_000), st.sampled_from(["[", "{", '{"a":', "[{"]))
def test_any_depth_of_nesting_is_refused_not_a_crash(depth, opener):
    assert isinstance(_outcome(opener * depth), FrameError)
