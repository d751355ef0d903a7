"""The wire format: every frame is parsed and validated in one place, and only known fields go on."""

import json

import pytest

from signaling.messages import MAX_FRAME_BYTES, FrameError, parse_frame


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
