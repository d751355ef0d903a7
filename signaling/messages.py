"""The signaling wire format: the one place that parses and validates every frame, and builds the server's own."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_FRAME_BYTES = 64 * 1024  # SDP with every codec fits in well under 16 KiB
MAX_INT = 2**31 - 1  # no number in a frame is larger (an m-line index, minutes); the page's JS can hold it exactly

# Frames a browser may send, with their fields and types. Relayed ones go to the other member unchanged;
# control ones are requests the server acts on itself. Anything else is refused.
RELAYED: dict[str, dict[str, tuple[type, ...]]] = {
    "offer": {"sdp": (str,)},
    "answer": {"sdp": (str,)},
    # An RTCIceCandidate's toJSON(); null marks the end of gathering.
    "candidate": {"candidate": (dict, type(None))},
    "bye": {},
    "restart": {},
}
CONTROL: dict[str, dict[str, tuple[type, ...]]] = {
    "extend-propose": {"minutes": (int,)},
    "extend-answer": {"accept": (bool,)},
    "end": {},  # the SME ends the consultation
}
CANDIDATE_FIELDS = {
    "candidate": (str,),
    "sdpMid": (str, type(None)),
    "sdpMLineIndex": (int, type(None)),
    "usernameFragment": (str, type(None)),
}

# Close codes (4000-4999 are the application's). The reason goes with them; the page shows it.
CLOSE_REPLACED = 4001
CLOSE_TOO_FAST = 4008
CLOSE_TOO_MANY_ERRORS = 4009
CLOSE_ENDED = 4010
CLOSE_RECONNECT = 4012  # the server dropped this connection on purpose; the page rejoins at once
CLOSE_TOO_MANY_JOINS = 4029  # too many joins from this member or address; the page waits, then rejoins
CLOSE_REFUSED = {
    "login": 4401,
    "not_member": 4403,
    "not_found": 4404,
    "not_ready": 4409,
    "closed": 4410,
    "sme_not_allowed": 4451,
}


class FrameError(Exception):
    """A frame the server will not take; code and message go back to the sender in an `error` frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Frame:
    type: str
    fields: dict[str, Any]

    @property
    def relayed(self) -> bool:
        return self.type in RELAYED

    def encode(self) -> str:
        """The frame as the other member receives it: only the validated fields, nothing the sender added."""
        return json.dumps({"type": self.type, **self.fields}, separators=(",", ":"))


def _check_fields(value: dict, spec: dict[str, tuple[type, ...]], where: str) -> dict:
    extra = set(value) - set(spec)
    if extra:
        raise FrameError("bad_field", f"{where} has unknown fields: {', '.join(sorted(extra))}.")
    fields = {}
    for name, types in spec.items():
        if name not in value:
            if type(None) in types:
                fields[name] = None
                continue
            raise FrameError("missing_field", f"{where} needs the field {name!r}.")
        item = value[name]
        # bool is an int in Python; a field that wants a number must not take true/false.
        if not isinstance(item, types) or (isinstance(item, bool) and bool not in types):
            raise FrameError("bad_field", f"{where}: the field {name!r} has the wrong type.")
        if isinstance(item, int) and not isinstance(item, bool) and not -MAX_INT <= item <= MAX_INT:
            raise FrameError("bad_field", f"{where}: the field {name!r} is out of range.")
        if isinstance(item, str) and not _is_utf8(item):
            # "\ud800" in JSON decodes to a lone surrogate: no SDP holds one, and it cannot be re-sent as UTF-8.
            raise FrameError("bad_field", f"{where}: the field {name!r} is not valid text.")
        fields[name] = item
    return fields


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def parse_frame(text: str | None, *, max_bytes: int = MAX_FRAME_BYTES) -> Frame:
    """Turn one WebSocket text frame into a Frame, or raise FrameError saying what is wrong with it.

    Whatever the input (any string, bytes, None), the outcome is a Frame or a FrameError: nothing else may
    escape, since an exception here would end the sender's consumer.
    """
    if not isinstance(text, str):
        raise FrameError("not_text", "Send JSON text frames, not binary ones.")
    if len(text) > max_bytes:  # before encoding it: no work for a huge frame
        raise FrameError("too_large", f"A frame may be at most {max_bytes // 1024} KiB.")
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        raise FrameError("not_text", "A frame must be valid UTF-8 text.") from None
    if size > max_bytes:
        raise FrameError("too_large", f"A frame may be at most {max_bytes // 1024} KiB.")
    try:
        value = json.loads(text)
    # ValueError: not JSON, or an integer past Python's digit limit; RecursionError: nested deeper than the
    # parser's stack allows ("[" * 5000 fits easily in 64 KiB).
    except (ValueError, RecursionError):
        raise FrameError("bad_json", "A frame must be one JSON object.") from None
    if not isinstance(value, dict):
        raise FrameError("bad_json", "A frame must be one JSON object.")
    kind = value.pop("type", None)
    if not isinstance(kind, str):
        raise FrameError("missing_type", "A frame needs a 'type'.")
    spec = RELAYED.get(kind, CONTROL.get(kind))
    if spec is None:
        raise FrameError("unknown_type", "This type of frame is not accepted here.")
    fields = _check_fields(value, spec, f"A {kind!r} frame")
    if kind == "candidate" and fields["candidate"] is not None:
        fields["candidate"] = _check_fields(fields["candidate"], CANDIDATE_FIELDS, "A candidate")
    return Frame(kind, fields)


def server_frame(kind: str, **fields: Any) -> str:
    """A frame the server originates: welcome, peer-joined, peer-left, timer, extension, replaced, ended, error."""
    return json.dumps({"type": kind, **fields}, separators=(",", ":"))


def error_frame(code: str, message: str) -> str:
    return server_frame("error", code=code, message=message)
