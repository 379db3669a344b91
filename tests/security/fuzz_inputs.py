"""Hypothesis strategies for what an attacker (or a sloppy client) sends."""

from __future__ import annotations

import json

from hypothesis import strategies as st

BOT_USERNAME = "support_bot"
SLACK_BOT_USER = "U0BOT00001"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
#: What customers type, biased towards the shapes the channels treat specially.
customer_text = st.one_of(
    st.text(),
    st.sampled_from(
        [
            "/start",
            "/help@support_bot",
            "/human@other_bot now",
            '/csat{"csat_score":5}',
            '/choose_faq{"faq_id":"cancel_service"}',
            "/handoff_resolved",
            "@support_bot hi",
            f"<@{SLACK_BOT_USER}> hello",
            "<https://example.com|click> &amp; <#C123|general> <!here>",
            "\u202e\u0000\ud7ff",
            "/" + "a" * 40,
        ]
    ),
    st.builds(lambda a, b: a + b, st.sampled_from(["/", "@support_bot ", "<", "&"]), st.text()),
)


def encoded(values: st.SearchStrategy[object]) -> st.SearchStrategy[bytes]:
    """``values`` as JSON bytes, or raw bytes that may not be JSON (nor UTF-8) at all."""
    return st.one_of(
        values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=200),
        st.sampled_from([b"", b"null", b"[]", b'""', b"{", b"[" * 1000 + b"]" * 1000]),
    )
