"""Hypothesis strategies for hostile signaling input: any text, deep nesting, huge numbers, surrogates, wrong types."""

import json

from hypothesis import strategies as st

# Text with lone surrogates too (hypothesis leaves them out unless asked), and numbers of any size.
any_text = st.text(st.characters(categories=["Cs"]) | st.characters(), max_size=40)
json_leaves = st.none() | st.booleans() | st.integers() | st.integers(min_value=2**31 - 2) | st.floats() | any_text
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
frame_types = st.sampled_from(["offer", "answer", "candidate", "bye", "restart", "extend-propose", "extend-answer"])
framelike = st.dictionaries(
    st.sampled_from(["type", "sdp", "candidate", "minutes", "accept", "sdpMid", "extra"]), json_values, max_size=4
) | st.builds(
    lambda kind, fields: {"type": kind, **fields},
    frame_types,
    st.dictionaries(st.sampled_from(["sdp", "candidate", "minutes", "accept", "note"]), json_values, max_size=3),
)


# What a hostile page might put in one WebSocket message: JSON frames shaped like ours, raw text, binary,
# deep nesting, 5,000-digit numbers, escaped lone surrogates.
hostile_message = st.one_of(
    framelike.map(lambda value: json.dumps(value)),
    any_text,
    st.binary(max_size=40),
    st.integers(min_value=1, max_value=20_000).map(lambda depth: "[" * depth),
    st.integers(min_value=1, max_value=20_000).map(
        lambda digits: '{"type": "extend-propose", "minutes": %s}' % ("9" * digits)
    ),
    st.just('{"type": "offer", "sdp": "\\udc00"}'),
)
