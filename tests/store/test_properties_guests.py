"""Properties of the guest helpers that read request headers (hypothesis): they never raise,
and what they give fits ps_guest (accept_language is VARCHAR(8)).
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from psonlinechat.store import guests

FAST = settings(max_examples=200, deadline=None, database=None)

headers = st.one_of(st.none(), st.text(max_size=300), st.lists(st.sampled_from(
    ["en", "fr-fr", "fr-FR", "de", ";q=0.5", "; q = 1", ";q=0.", ";q=2", ",", " ", "*",
     "q=0.9", "zh-Hant-TW", "é", "-", "ab-cd-ef"]), max_size=20).map("".join))


@FAST
@given(header=headers)
@example(header="x" * 100_000)
@example(header="ab;q=0." + "9" * 5000)
def test_accept_language_tag_never_raises_and_fits_the_column(header):
    tag = guests.accept_language_tag(header)
    assert len(tag) <= 8
    assert tag == "" or re.fullmatch(r"[a-z]{2}(-[a-z]{2})?", tag)
    if tag:
        assert tag in header


weights = st.one_of(st.none(), st.just("1"), st.integers(0, 999).map(lambda n: f"0.{n:03d}"))


@FAST
@given(entries=st.lists(st.tuples(st.from_regex(r"[a-z]{2}(-[a-z]{2})?", fullmatch=True),
                                  weights), min_size=1, max_size=8))
def test_accept_language_tag_picks_the_first_of_the_highest_weight(entries):
    header = ", ".join(tag + (f";q={weight}" if weight else "") for tag, weight in entries)
    # Guest::getLanguage: array_combine (a repeated tag keeps its first place and its last
    # weight), missing weights are 1, then a stable arsort.
    combined: dict[str, float] = {}
    for tag, weight in entries:
        combined[tag] = float(weight) if weight else 1.0
    best = max(combined.values())
    assert guests.accept_language_tag(header) == next(
        tag for tag, weight in combined.items() if weight == best)


@FAST
@given(user_agent=st.one_of(st.none(), st.text(max_size=300), st.lists(st.sampled_from(
    [needle for _, needle in guests.OPERATING_SYSTEMS + guests.WEB_BROWSERS] + ["x", " "]),
    max_size=6).map("".join)))
def test_user_agent_matching_never_raises_and_names_a_known_entry(user_agent):
    for table in (guests.OPERATING_SYSTEMS, guests.WEB_BROWSERS):
        name = guests.first_match(user_agent, table)
        assert name is None or name in dict(table)
        if name is not None:
            assert dict(table)[name] in user_agent
