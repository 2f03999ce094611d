"""The linear wildcard matcher agrees with the regex it replaced, and stays linear on bad input."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from routing.patterns import InvalidPatternError, compile_pattern
from routing.patterns.wildcard import (
    WildcardPattern,
    WildcardSyntaxError,
    any_matches,
    parse_wildcard,
)

# -- the oracle: the regex construction the matcher used before (kept here verbatim) -------------


def _old_regex(pattern: WildcardPattern) -> re.Pattern[str]:
    source = "".join(".*" if token is None else re.escape(token) for token in pattern.tokens)
    return re.compile(source, re.DOTALL)


def _old_combined_regex(patterns: list[WildcardPattern]) -> re.Pattern[str]:
    if len(patterns) == 1:
        return _old_regex(patterns[0])
    return re.compile("|".join(f"(?:{_old_regex(p).pattern})" for p in patterns), re.DOTALL)


# Small alphabets, so that segments repeat, overlap and are found in many places; a pattern's
# characters include the escapes, a value's the characters they stand for.
_pattern_texts = st.lists(
    st.sampled_from(["a", "b", "ab", "aa", "*", "*", "*", "\\*", "\\\\", "."]), max_size=14
).map("".join)
_values = st.lists(st.sampled_from(["a", "b", "ab", "aa", "*", "\\", ".", "\n"]), max_size=40).map(
    "".join
)


def _parsed(text: str) -> WildcardPattern | None:
    try:
        return parse_wildcard(text)
    except WildcardSyntaxError:
        return None


@settings(max_examples=2000, deadline=None)
@given(text=_pattern_texts, value=_values)
@example(text="a*a*a*a*a*b", value="a" * 30)
@example(text="*a*b*", value="ba")
@example(text="aa*aa", value="aaa")
@example(text="a*", value="")
@example(text="*", value="")
@example(text="\\**\\\\", value="*\\")
@example(text="", value="")
def test_one_wildcard_agrees_with_the_regex(text: str, value: str) -> None:
    pattern = _parsed(text)
    if pattern is None:
        return
    assert pattern.matches(value) == (_old_regex(pattern).fullmatch(value) is not None)


@settings(max_examples=1000, deadline=None)
@given(texts=st.lists(_pattern_texts, min_size=1, max_size=4), value=_values)
def test_any_of_several_wildcards_agrees_with_the_combined_regex(
    texts: list[str], value: str
) -> None:
    patterns = [p for p in map(_parsed, texts) if p is not None]
    if not patterns:
        return
    expected = _old_combined_regex(patterns).fullmatch(value) is not None
    assert any_matches(patterns)(value) == expected


@settings(max_examples=1000, deadline=None)
@given(text=_pattern_texts, value=_values)
def test_whole_patterns_agree_with_the_regex(text: str, value: str) -> None:
    """Through compile_pattern: `wildcard` and `anything-but` `wildcard` on an event's field."""
    pattern = _parsed(text)
    if pattern is None:
        return
    expected = _old_regex(pattern).fullmatch(value) is not None
    try:
        compiled = compile_pattern({"x": [{"wildcard": text}]})
        negated = compile_pattern({"x": [{"anything-but": {"wildcard": text}}]})
    except InvalidPatternError:
        return  # too complex: refused before it can match anything
    assert compiled.matches({"x": value}) == expected
    assert negated.matches({"x": value}) == (not expected)


def test_the_escapes_are_the_parsers() -> None:
    assert parse_wildcard("a\\*b").segments == ("a*b",)
    assert parse_wildcard("a\\\\*b").segments == ("a\\", "b")
    assert parse_wildcard("*\\**").segments == ("", "*", "")
    for bad in ("a\\b", "a\\", "a**b"):
        with pytest.raises(WildcardSyntaxError):
            parse_wildcard(bad)


@pytest.mark.parametrize(
    "text",
    ["a*a*a*a*a*b", "*a*b*", "*a*a*a*a*b*", "*a*a*a*b", "*aaaaab*a*b"],
)
@pytest.mark.timeout(60)
def test_adversarial_wildcards_on_a_long_value_finish(text: str) -> None:
    # The regex took minutes at 200 characters on the first pattern, so at 100,000 it would never
    # finish: the timeout guards against a backtracking matcher; make bench shows the speed.
    # (each is accepted by the complexity check)
    pattern = compile_pattern({"x": [{"wildcard": text}]})
    negated = compile_pattern({"x": [{"anything-but": {"wildcard": text}}]})
    for value in ("a" * 100_000, "a" * 99_999 + "b", "a" + "b" * 99_999, "ab" * 50_000):
        assert pattern.matches({"x": value}) != negated.matches({"x": value})
