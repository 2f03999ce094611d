"""What one field of a pattern demands of the event's leaves at that path.

A field's list is an OR of values and match expressions. It compiles to a `FieldCondition`:

- `exact`: value keys matched by equality (strings, numbers by value, true/false/null);
- `tests`: one predicate per other operator (prefix, numeric, anything-but, ...), each taking a
  value key;
- `any_value`: `{"exists": true}` is present (any leaf, null included, satisfies the field);
- `allows_absent`: `{"exists": false}` is present (the field is satisfied when the path has no
  leaf).

It also keeps what the rule index needs to file a rule under a cheap lookup key: the exact keys,
the lower-cased `equals-ignore-case` values, the string affixes (`AffixKey`) and the numeric
ranges.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from .values import ValueKey
from .wildcard import WildcardPattern, any_matches

ValueTest = Callable[[ValueKey], bool]


@dataclass(frozen=True, slots=True)
class NumericRange:
    """`numeric`: lower/upper bounds (None = unbounded) and whether each bound is included."""

    lower: float | None
    lower_inclusive: bool
    upper: float | None
    upper_inclusive: bool

    def test(self) -> ValueTest:
        lower, upper = self.lower, self.upper
        if lower is not None and upper is not None and lower == upper:
            return lambda key: type(key) is float and key == lower
        if lower is None:
            assert upper is not None
            if self.upper_inclusive:
                return lambda key: type(key) is float and key <= upper
            return lambda key: type(key) is float and key < upper
        if upper is None:
            if self.lower_inclusive:
                return lambda key: type(key) is float and key >= lower
            return lambda key: type(key) is float and key > lower
        if self.lower_inclusive and self.upper_inclusive:
            return lambda key: type(key) is float and lower <= key <= upper
        if self.lower_inclusive:
            return lambda key: type(key) is float and lower <= key < upper
        if self.upper_inclusive:
            return lambda key: type(key) is float and lower < key <= upper
        return lambda key: type(key) is float and lower < key < upper


@dataclass(frozen=True, slots=True)
class AffixKey:
    """A way for the rule index to find a field's matches by string affix.

    `kind` is prefix, suffix, prefix_ignore_case or suffix_ignore_case (affixes lower-cased);
    `proves` tells whether having one of the affixes is the whole condition (a prefix field) or
    only a necessary part of it (the literal head or tail of a wildcard).
    """

    kind: str
    affixes: tuple[str, ...]
    proves: bool


@dataclass(frozen=True, slots=True)
class CidrBlock:
    """`cidr`: an IPv4 or IPv6 network (host bits past the mask are ignored, as in EventBridge)."""

    version: int
    network: int
    mask: int

    def test(self) -> ValueTest:
        version, network, mask = self.version, self.network, self.mask

        def in_block(key: ValueKey) -> bool:
            if type(key) is not str:
                return False
            address = parse_ip(key)
            return address is not None and address[0] == version and address[1] & mask == network

        return in_block


@lru_cache(maxsize=4096)
def parse_ip(text: str) -> tuple[int, int] | None:
    """(IP version, address as an int) for an IP address string, None if it is not one."""
    if not text or len(text) > 45 or "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


@dataclass(slots=True)
class ConditionBuilder:
    """Collects the values and operators of one field before freezing them into a condition."""

    path: str
    exact: set[ValueKey] = field(default_factory=set)
    prefixes: list[str] = field(default_factory=list)
    prefixes_ignore_case: list[str] = field(default_factory=list)
    suffixes: list[str] = field(default_factory=list)
    suffixes_ignore_case: list[str] = field(default_factory=list)
    equals_ignore_case: set[str] = field(default_factory=set)
    wildcards: list[WildcardPattern] = field(default_factory=list)
    numeric: list[NumericRange] = field(default_factory=list)
    cidrs: list[CidrBlock] = field(default_factory=list)
    anything_but_values: list[frozenset[ValueKey]] = field(default_factory=list)
    anything_but_prefixes: list[tuple[str, ...]] = field(default_factory=list)
    anything_but_suffixes: list[tuple[str, ...]] = field(default_factory=list)
    anything_but_ignore_case: list[frozenset[str]] = field(default_factory=list)
    anything_but_wildcards: list[tuple[WildcardPattern, ...]] = field(default_factory=list)
    any_value: bool = False
    allows_absent: bool = False

    def all_wildcards(self) -> list[WildcardPattern]:
        collected = list(self.wildcards)
        for group in self.anything_but_wildcards:
            collected.extend(group)
        return collected

    def _affix_keys(self, operators: list[str]) -> tuple[AffixKey, ...]:
        """The string-affix lookups that can find this field's matches (see AffixKey)."""
        if operators == ["prefix"]:
            return (AffixKey("prefix", tuple(set(self.prefixes)), proves=True),)
        if operators == ["prefix-ignore-case"]:
            lowered = {p.lower() for p in self.prefixes_ignore_case}
            return (AffixKey("prefix_ignore_case", tuple(lowered), proves=True),)
        if operators == ["suffix"]:
            return (AffixKey("suffix", tuple(set(self.suffixes)), proves=True),)
        if operators == ["suffix-ignore-case"]:
            lowered = {p.lower() for p in self.suffixes_ignore_case}
            return (AffixKey("suffix_ignore_case", tuple(lowered), proves=True),)
        if operators == ["wildcard"]:
            heads = {pattern.literal_head() for pattern in self.wildcards}
            tails = {pattern.literal_tail() for pattern in self.wildcards}
            return (
                AffixKey("prefix", tuple(heads), proves=False),
                AffixKey("suffix", tuple(tails), proves=False),
            )
        return ()

    def build(self) -> FieldCondition:
        tests: list[ValueTest] = []
        operators: list[str] = []
        if self.prefixes:
            prefixes = tuple(self.prefixes)
            tests.append(lambda key: type(key) is str and key.startswith(prefixes))
            operators.append("prefix")
        if self.prefixes_ignore_case:
            lowered_prefixes = tuple(p.lower() for p in self.prefixes_ignore_case)
            tests.append(lambda key: type(key) is str and key.lower().startswith(lowered_prefixes))
            operators.append("prefix-ignore-case")
        if self.suffixes:
            suffixes = tuple(self.suffixes)
            tests.append(lambda key: type(key) is str and key.endswith(suffixes))
            operators.append("suffix")
        if self.suffixes_ignore_case:
            lowered_suffixes = tuple(s.lower() for s in self.suffixes_ignore_case)
            tests.append(lambda key: type(key) is str and key.lower().endswith(lowered_suffixes))
            operators.append("suffix-ignore-case")
        if self.equals_ignore_case:
            lowered = frozenset(self.equals_ignore_case)
            tests.append(lambda key: type(key) is str and key.lower() in lowered)
            operators.append("equals-ignore-case")
        if self.wildcards:
            matches = any_matches(self.wildcards)
            tests.append(lambda key: type(key) is str and matches(key))
            operators.append("wildcard")
        ranges: list[NumericRange] = []
        for numeric_range in self.numeric:
            if numeric_range.lower is not None and numeric_range.lower == numeric_range.upper:
                # ["=", x] is the exact number x (numbers are float keys), so it can be indexed.
                self.exact.add(numeric_range.lower)
                continue
            ranges.append(numeric_range)
            tests.append(numeric_range.test())
            operators.append("numeric")
        for block in self.cidrs:
            tests.append(block.test())
            operators.append("cidr")
        for excluded in self.anything_but_values:
            tests.append(_not_in(excluded))
            operators.append("anything-but")
        for excluded_prefixes in self.anything_but_prefixes:
            tests.append(_not_starting_with(excluded_prefixes))
            operators.append("anything-but-prefix")
        for excluded_suffixes in self.anything_but_suffixes:
            tests.append(_not_ending_with(excluded_suffixes))
            operators.append("anything-but-suffix")
        for excluded_lowered in self.anything_but_ignore_case:
            tests.append(_not_in_ignoring_case(excluded_lowered))
            operators.append("anything-but-ignore-case")
        for excluded_wildcards in self.anything_but_wildcards:
            tests.append(_not_matching(excluded_wildcards))
            operators.append("anything-but-wildcard")
        if self.exact:
            operators.insert(0, "exact")
        if self.any_value:
            operators.append("exists")
        if self.allows_absent:
            operators.append("not-exists")
        return FieldCondition(
            affix_keys=self._affix_keys(operators),
            path=self.path,
            exact=frozenset(self.exact) if self.exact else _NO_VALUES,
            tests=tuple(tests),
            any_value=self.any_value,
            allows_absent=self.allows_absent,
            ignore_case_values=(
                frozenset(self.equals_ignore_case) if self.equals_ignore_case else _NO_STRINGS
            ),
            numeric_ranges=tuple(ranges),
            operators=tuple(operators),
        )


_NO_VALUES: frozenset[ValueKey] = frozenset()
_NO_STRINGS: frozenset[str] = frozenset()


def _not_in(excluded: frozenset[ValueKey]) -> ValueTest:
    return lambda key: key not in excluded


def _not_starting_with(prefixes: tuple[str, ...]) -> ValueTest:
    return lambda key: type(key) is not str or not key.startswith(prefixes)


def _not_ending_with(suffixes: tuple[str, ...]) -> ValueTest:
    return lambda key: type(key) is not str or not key.endswith(suffixes)


def _not_in_ignoring_case(lowered: frozenset[str]) -> ValueTest:
    return lambda key: type(key) is not str or key.lower() not in lowered


def _not_matching(patterns: Iterable[WildcardPattern]) -> ValueTest:
    matches = any_matches(tuple(patterns))
    return lambda key: type(key) is not str or not matches(key)


class FieldCondition:
    """The compiled demand of one pattern field (see the module docstring)."""

    __slots__ = (
        "__weakref__",
        "accepts",
        "affix_keys",
        "allows_absent",
        "any_value",
        "exact",
        "ignore_case_values",
        "numeric_ranges",
        "operators",
        "path",
        "satisfied_by",
        "step",
        "tests",
    )

    def __init__(
        self,
        *,
        affix_keys: tuple[AffixKey, ...],
        path: str,
        exact: frozenset[ValueKey],
        tests: tuple[ValueTest, ...],
        any_value: bool,
        allows_absent: bool,
        ignore_case_values: frozenset[str],
        numeric_ranges: tuple[NumericRange, ...],
        operators: tuple[str, ...],
    ) -> None:
        self.affix_keys = affix_keys
        self.path = path
        self.exact = exact
        self.tests = tests
        self.any_value = any_value
        self.allows_absent = allows_absent
        self.ignore_case_values = ignore_case_values
        self.numeric_ranges = numeric_ranges
        self.operators = operators
        # The field as an automaton step of the rule index: (path, its exact values).
        self.step: tuple[str, tuple[ValueKey, ...]] = (path, tuple(exact))
        self.accepts: ValueTest = self._make_accepts()
        self.satisfied_by: Callable[[list[ValueKey]], bool] = self._make_satisfied_by()

    @property
    def exact_only(self) -> bool:
        """True when only equality can satisfy the field (no operator, no exists)."""
        return bool(self.exact) and not self.tests and not self.any_value and not self.allows_absent

    @property
    def needs_value(self) -> bool:
        """True when the field can only be satisfied by a leaf at its path."""
        return not self.allows_absent

    def _make_accepts(self) -> ValueTest:
        if self.any_value:
            return _always
        exact, tests = self.exact, self.tests
        if not tests:
            return exact.__contains__
        if not exact and len(tests) == 1:
            return tests[0]

        def accepts(key: ValueKey) -> bool:
            if key in exact:
                return True
            return any(test(key) for test in tests)

        return accepts

    def _make_satisfied_by(self) -> Callable[[list[ValueKey]], bool]:
        """A predicate on the leaves present at the path (absence is handled by the caller)."""
        if self.any_value:
            return _always
        exact, tests = self.exact, self.tests
        if not tests:
            return lambda leaves: not exact.isdisjoint(leaves)
        accepts = self.accepts
        if not exact and len(tests) == 1:
            test = tests[0]
            return lambda leaves: any(map(test, leaves))
        return lambda leaves: any(map(accepts, leaves))

    def __repr__(self) -> str:
        return f"FieldCondition({self.path!r}, {'/'.join(self.operators)})"


def _always(_: object) -> bool:
    return True
