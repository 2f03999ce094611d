"""The `wildcard` operator: parsing, matching and the complexity limit.

`*` matches any run of characters (including none); `\\*` is a literal star and `\\\\` a literal
backslash; a backslash before anything else, or two wildcards in a row, is an error.

Matching takes time linear in the value, whatever the pattern: a pattern is its literal segments
between wildcards; the first must be the value's prefix, the last its suffix, and each one between
is found left to right with `str.find` after the previous one. Taking the leftmost place for each
segment never loses a match (any match can slide its segments left to those places), so there is
no backtracking, unlike a regex such as `.*a.*a.*b`, which takes polynomial time in the value.

EventBridge rejects wildcard patterns that are "too complex". The measure used here is the one
event-ruler's MachineComplexityEvaluator describes: the largest number of automaton states a single
input string can keep active at once. A wildcard is a state that loops on every character, and a
literal run repeated after a wildcard keeps several partial matches alive, so both more wildcards
and repeating sequences raise it. AWS does not publish its threshold; the AWS-recorded cases bracket
it: `/Users/*/dir/dir/dir/dir/dir/doc.txt` (7 states here) is accepted and `*:*:*:*:*:event-bus/*`
(11) is rejected, so the limit is set to 10.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

MAX_WILDCARD_COMPLEXITY = 10
TOO_COMPLEX = (
    "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
    "sequences after a wildcard character"
)
# Subsets explored before giving up; far above what any pattern within the size limit needs.
_MAX_EXPLORED_STATE_SETS = 200_000

_STAR = None  # a wildcard token; literal tokens are one-character strings


class WildcardSyntaxError(ValueError):
    """A malformed wildcard pattern (the message is EventBridge's reason)."""


@dataclass(frozen=True, slots=True)
class WildcardPattern:
    text: str
    tokens: tuple[str | None, ...]
    # The literal runs around the wildcards: one more than there are wildcards, so one segment
    # means no wildcard at all; only the first and the last can be empty.
    segments: tuple[str, ...]

    def matches(self, value: str) -> bool:
        return segments_match(self.segments, value)

    def literal_head(self) -> str:
        """The literal text before the first wildcard (all of it when there is none)."""
        head = []
        for token in self.tokens:
            if token is _STAR:
                break
            head.append(token)
        return "".join(head)

    def literal_tail(self) -> str:
        """The literal text after the last wildcard (all of it when there is none)."""
        tail = []
        for token in reversed(self.tokens):
            if token is _STAR:
                break
            tail.append(token)
        return "".join(reversed(tail))


def parse_wildcard(text: str) -> WildcardPattern:
    """Parse the text of a wildcard pattern (escapes, consecutive-wildcard check)."""
    tokens: list[str | None] = []
    position = 0
    previous_was_star = False
    while position < len(text):
        char = text[position]
        if char == "*":
            if previous_was_star:
                raise WildcardSyntaxError(f"Consecutive wildcard characters at pos {position}")
            tokens.append(_STAR)
            previous_was_star = True
            position += 1
            continue
        previous_was_star = False
        if char == "\\":
            escaped = text[position + 1] if position + 1 < len(text) else ""
            if escaped not in ("*", "\\"):
                raise WildcardSyntaxError(f"Invalid escape character at pos {position}")
            tokens.append(escaped)
            position += 2
            continue
        tokens.append(char)
        position += 1
    return WildcardPattern(text, tuple(tokens), _segments(tokens))


def _segments(tokens: Sequence[str | None]) -> tuple[str, ...]:
    segments: list[str] = []
    current: list[str] = []
    for token in tokens:
        if token is _STAR:
            segments.append("".join(current))
            current = []
        else:
            current.append(token)
    segments.append("".join(current))
    return tuple(segments)


def segments_match(segments: tuple[str, ...], value: str) -> bool:
    """Whether `value` is the segments joined by runs of any characters (see the module doc)."""
    if len(segments) == 1:
        return value == segments[0]
    head, tail = segments[0], segments[-1]
    end = len(value) - len(tail)
    if end < len(head) or not value.startswith(head) or not value.endswith(tail):
        return False
    position = len(head)
    for segment in segments[1:-1]:
        found = value.find(segment, position, end)
        if found < 0:
            return False
        position = found + len(segment)
    return True


def any_matches(patterns: Sequence[WildcardPattern]) -> Callable[[str], bool]:
    """A test that a value matches at least one of `patterns`."""
    if len(patterns) == 1:
        return patterns[0].matches
    all_segments = tuple(pattern.segments for pattern in patterns)
    return lambda value: any(segments_match(segments, value) for segments in all_segments)


def wildcard_complexity(patterns: Iterable[WildcardPattern], limit: int) -> int:
    """The most automaton states one input keeps active across `patterns` (capped at limit + 1).

    The automaton of a pattern has a state per token boundary; a wildcard state loops on every
    character. The evaluation walks the subset construction, stepping only on characters the
    active states care about (every other character behaves alike), and stops as soon as some
    input reaches more than `limit` states.
    """
    token_lists = [p.tokens for p in patterns if _STAR in p.tokens]
    if not token_lists:
        return 1
    # Global state numbering: (pattern number, boundary index).
    states: list[tuple[int, int]] = []
    state_ids: dict[tuple[int, int], int] = {}
    for pattern_number, tokens in enumerate(token_lists):
        for boundary in range(len(tokens) + 1):
            state_ids[(pattern_number, boundary)] = len(states)
            states.append((pattern_number, boundary))

    def closure(active: Iterable[int]) -> frozenset[int]:
        result = set(active)
        pending = list(result)
        while pending:
            state = pending.pop()
            pattern_number, boundary = states[state]
            tokens = token_lists[pattern_number]
            if boundary < len(tokens) and tokens[boundary] is _STAR:
                following = state + 1
                if following not in result:
                    result.add(following)
                    pending.append(following)
        return frozenset(result)

    def step(active: frozenset[int], char: str | None) -> frozenset[int]:
        following: set[int] = set()
        for state in active:
            pattern_number, boundary = states[state]
            tokens = token_lists[pattern_number]
            if boundary > 0 and tokens[boundary - 1] is _STAR:
                following.add(state)
            if boundary < len(tokens):
                token = tokens[boundary]
                if token is not _STAR and token == char:
                    following.add(state + 1)
        return closure(following)

    start = closure(state_ids[(n, 0)] for n in range(len(token_lists)))
    worst = len(start)
    seen = {start}
    pending = [start]
    while pending and worst <= limit:
        if len(seen) > _MAX_EXPLORED_STATE_SETS:
            return limit + 1
        active = pending.pop()
        relevant_chars: set[str | None] = {None}
        for state in active:
            pattern_number, boundary = states[state]
            tokens = token_lists[pattern_number]
            if boundary < len(tokens) and tokens[boundary] is not _STAR:
                relevant_chars.add(tokens[boundary])
        for char in relevant_chars:
            following = step(active, char)
            if following and following not in seen:
                seen.add(following)
                pending.append(following)
                worst = max(worst, len(following))
    return min(worst, limit + 1)
