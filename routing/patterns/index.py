"""`RuleIndex`: many rules in one shared structure, matched without looping over all of them.

Rules are split into branches (the `$or` expansion) and filed in an automaton, the way event-ruler
builds its state machine:

1. **Exact steps.** A branch's fields that only match given values (strings, numbers, booleans,
   null) are its *steps*, taken in path order. The automaton is a tree of states; from a state, a
   step `(path, value)` leads to a child state, found by two dict lookups. Branches that share
   leading steps share states, so a thousand rules naming the same `source` and `detail-type` and
   one shop each fan out only at the shop. A field with several values (an OR) gives one child per
   value.
2. **Buckets.** The state reached after a branch's last step holds it in a *bucket*. A small
   bucket below the root is a plain set, scanned. In the root's bucket, and in any bucket that
   grows past a few branches, a branch is filed under a *key* of one of its remaining fields: the
   lower-cased value of an `equals-ignore-case` field; a prefix or suffix (case-sensitive or not),
   or the literal head or tail of a wildcard, looked up once per distinct affix length; the range
   of a `numeric` field (sorted bounds, found by bisection); or else the presence of a path it
   needs.
3. **Residual.** What the steps and the key do not already prove (numeric ranges, anything-but,
   wildcards, CIDR, exists, the same-array-element rule) is evaluated for the candidates only.

`match(event)` flattens the event once, walks the automaton from the root following the event's
leaves (at each state it looks up only the paths the state has transitions for, or the event's
paths when those are fewer), gathers candidates from the buckets of the states it reaches, and
evaluates their residual conditions. The cost follows the event and how many branches get that
far, not how many rules there are. Adding or removing a rule touches only the states and posting
lists of its own branches.

Inside a bucket a branch goes to its cheapest key: kinds are weighted by how often an event meets
them (a value rarely, a path nearly always), and a key many branches share counts as a common one.
When a posting list (or a plain set) doubles past a threshold, branches with a much cheaper key
move there.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from math import prod
from typing import Any

from .compiler import MAX_PATTERN_LENGTH
from .conditions import FieldCondition, NumericRange
from .matcher import Branch, Pattern, compile_pattern, conditions_hold
from .values import FlatEvent, ValueKey, flatten_event

RuleId = Hashable

# At most this many automaton paths per branch; fields with several values beyond it stay residual.
_MAX_STEP_EXPANSION = 16
# Buckets below the root stay plain sets up to this size; a posting list (or plain set) is
# reviewed each time it doubles from this size on.
_REBALANCE_FROM = 8


class KeyKind(Enum):
    """How a branch is filed in a bucket; the value is the weight of the kind (see _key_cost)."""

    IGNORE_CASE = "ignore_case"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    PREFIX_IGNORE_CASE = "prefix_ignore_case"
    SUFFIX_IGNORE_CASE = "suffix_ignore_case"
    NUMERIC = "numeric"
    PRESENCE = "presence"
    PLAIN = "plain"


# How costly a key kind is, roughly how often an event meets it: a given value rarely, an affix
# more often, a path nearly always. A key shared by many branches is likely a common one, so the
# cost of the value kinds also grows with the branches already filed under the same key. A numeric
# key costs the same however many ranges share the path: the lookup bisects to the candidates.
_WEIGHT = {
    KeyKind.IGNORE_CASE: 1.0,
    KeyKind.PREFIX: 2.0,
    KeyKind.SUFFIX: 2.0,
    KeyKind.PREFIX_IGNORE_CASE: 2.0,
    KeyKind.SUFFIX_IGNORE_CASE: 2.0,
    KeyKind.NUMERIC: 3.0,
    KeyKind.PRESENCE: 8.0,
    KeyKind.PLAIN: 8.0,
}
# Among equally cheap keys, the more specific kind wins.
_KIND_PREFERENCE = {kind: rank for rank, kind in enumerate(KeyKind)}
_AFFIX_KINDS = {
    "prefix": KeyKind.PREFIX,
    "suffix": KeyKind.SUFFIX,
    "prefix_ignore_case": KeyKind.PREFIX_IGNORE_CASE,
    "suffix_ignore_case": KeyKind.SUFFIX_IGNORE_CASE,
}


@dataclass(frozen=True, slots=True)
class _Key:
    kind: KeyKind
    path: str
    values: tuple[str, ...]  # lower-cased values or affixes; () for the other kinds
    condition: FieldCondition | None
    proves_condition: bool  # being found through the key already shows the field holds
    numeric_range: NumericRange | None = None


_PLAIN_KEY = _Key(KeyKind.PLAIN, "", (), None, False)

Step = tuple[str, tuple[ValueKey, ...]]


class _FiledBranch:
    """A branch of a rule as filed in the index."""

    __slots__ = ("branch", "bucket_terminals", "key", "residual", "rule_id", "steps", "unstepped")

    def __init__(self, rule_id: RuleId, branch: Branch) -> None:
        self.rule_id = rule_id
        self.branch = branch
        self.steps, self.unstepped = _split_steps(branch)
        self.key: _Key = _PLAIN_KEY
        self.residual: tuple[FieldCondition, ...] = self.unstepped
        self.bucket_terminals: tuple[_State, ...] = ()

    def use_key(self, key: _Key) -> None:
        self.key = key
        if key.proves_condition:
            self.residual = tuple(c for c in self.unstepped if c is not key.condition)
        else:
            self.residual = self.unstepped


def _split_steps(branch: Branch) -> tuple[tuple[Step, ...], tuple[FieldCondition, ...]]:
    """The branch's exact-only fields as automaton steps (path order), and the other conditions."""
    exact = sorted((c for c in branch.conditions if c.exact_only), key=lambda c: c.path)
    # Keep the expansion (product of the values per step) bounded: widest fields stay residual.
    while exact and prod(len(c.exact) for c in exact) > _MAX_STEP_EXPANSION:
        exact.remove(max(exact, key=lambda c: (len(c.exact), c.path)))
    stepped = {id(c) for c in exact}
    steps = tuple(c.step for c in exact)
    unstepped = tuple(c for c in branch.conditions if id(c) not in stepped)
    return steps, unstepped


class _AffixTable:
    """Branches filed by string prefix or suffix: a value is looked up once per affix length."""

    __slots__ = ("by_affix", "fold_case", "from_end", "length_counts", "lengths")

    def __init__(self, kind: KeyKind) -> None:
        self.by_affix: dict[str, set[_FiledBranch]] = {}
        self.from_end = kind in (KeyKind.SUFFIX, KeyKind.SUFFIX_IGNORE_CASE)
        self.fold_case = kind in (KeyKind.PREFIX_IGNORE_CASE, KeyKind.SUFFIX_IGNORE_CASE)
        # The distinct affix lengths (sorted), and how many affixes have each length.
        self.lengths: tuple[int, ...] = ()
        self.length_counts: dict[int, int] = {}

    def add(self, affix: str, filed_branch: _FiledBranch) -> set[_FiledBranch]:
        posting = self.by_affix.get(affix)
        if posting is None:
            posting = self.by_affix[affix] = set()
            count = self.length_counts.get(len(affix), 0)
            self.length_counts[len(affix)] = count + 1
            if not count:
                self.lengths = tuple(sorted(self.length_counts))
        posting.add(filed_branch)
        return posting

    def remove(self, affix: str, filed_branch: _FiledBranch) -> None:
        posting = self.by_affix.get(affix)
        if posting is None:
            return
        posting.discard(filed_branch)
        if posting:
            return
        del self.by_affix[affix]
        count = self.length_counts[len(affix)] - 1
        if count:
            self.length_counts[len(affix)] = count
        else:
            del self.length_counts[len(affix)]
            self.lengths = tuple(sorted(self.length_counts))

    def collect(self, text: str, candidates: set[_FiledBranch]) -> None:
        if self.fold_case:
            text = text.lower()
        size = len(text)
        by_affix = self.by_affix
        for length in self.lengths:
            if length > size:
                break
            posting = by_affix.get(text[size - length :] if self.from_end else text[:length])
            if posting:
                candidates.update(posting)


class _SortedBranches:
    """Branches sorted by a numeric bound, for range lookups with bisect."""

    __slots__ = ("bounds", "branches", "widest", "widths")

    def __init__(self) -> None:
        self.bounds: list[float] = []
        self.branches: list[_FiledBranch] = []
        self.widths: list[float] = []
        self.widest = 0.0

    def __len__(self) -> int:
        return len(self.bounds)

    def add(self, bound: float, filed_branch: _FiledBranch, width: float = 0.0) -> None:
        position = bisect_right(self.bounds, bound)
        self.bounds.insert(position, bound)
        self.branches.insert(position, filed_branch)
        self.widths.insert(position, width)
        self.widest = max(self.widest, width)

    def remove(self, bound: float, filed_branch: _FiledBranch) -> None:
        start, end = bisect_left(self.bounds, bound), bisect_right(self.bounds, bound)
        for position in range(start, end):
            if self.branches[position] is filed_branch:
                del self.bounds[position], self.branches[position]
                width = self.widths.pop(position)
                if width == self.widest:
                    self.widest = max(self.widths, default=0.0)
                return

    def bounded_at_most(self, value: float) -> list[_FiledBranch]:
        return self.branches[: bisect_right(self.bounds, value)]

    def bounded_at_least(self, value: float) -> list[_FiledBranch]:
        return self.branches[bisect_left(self.bounds, value) :]

    def starting_within(self, value: float) -> list[_FiledBranch]:
        """Ranges (keyed by lower bound) that can hold `value`: lower bound within the widest
        range's width below it."""
        bounds = self.bounds
        # Widths are rounded floats: widen the window by a few ulps rather than miss a range.
        slack = (abs(value) + self.widest) * 2.0**-48
        start = bisect_left(bounds, value - self.widest - slack)
        return self.branches[start : bisect_right(bounds, value)]


class _NumericPostings:
    """A bucket's branches filed under a numeric range on one path.

    A range with only a lower bound holds every value at or above it, so its candidates are a
    prefix of the list sorted by bound (and all of them match but for an open bound); likewise for
    upper bounds. Two-sided ranges are sorted by lower bound, and only those starting within the
    widest range's width below the value can hold it.
    """

    __slots__ = ("above", "below", "between")

    def __init__(self) -> None:
        self.above = _SortedBranches()
        self.below = _SortedBranches()
        self.between = _SortedBranches()

    def __len__(self) -> int:
        return len(self.above) + len(self.below) + len(self.between)

    def add(self, numeric_range: NumericRange, filed_branch: _FiledBranch) -> None:
        lower, upper = numeric_range.lower, numeric_range.upper
        if upper is None:
            assert lower is not None
            self.above.add(lower, filed_branch)
        elif lower is None:
            self.below.add(upper, filed_branch)
        else:
            self.between.add(lower, filed_branch, upper - lower)

    def remove(self, numeric_range: NumericRange, filed_branch: _FiledBranch) -> None:
        lower, upper = numeric_range.lower, numeric_range.upper
        if upper is None:
            assert lower is not None
            self.above.remove(lower, filed_branch)
        elif lower is None:
            self.below.remove(upper, filed_branch)
        else:
            self.between.remove(lower, filed_branch)

    def collect(self, value: float, candidates: set[_FiledBranch]) -> None:
        if self.above.bounds:
            candidates.update(self.above.bounded_at_most(value))
        if self.below.bounds:
            candidates.update(self.below.bounded_at_least(value))
        if self.between.bounds:
            candidates.update(self.between.starting_within(value))


class _PathPostings:
    """A bucket's branches filed under keys on one event path."""

    __slots__ = ("affixes", "ignore_case", "numeric", "presence")

    def __init__(self) -> None:
        self.ignore_case: dict[str, set[_FiledBranch]] = {}
        self.affixes: dict[KeyKind, _AffixTable] = {}
        self.numeric: _NumericPostings | None = None
        self.presence: set[_FiledBranch] = set()

    def is_empty(self) -> bool:
        return not (self.ignore_case or self.affixes or self.numeric or self.presence)

    def collect(self, leaves: list[ValueKey], candidates: set[_FiledBranch]) -> None:
        """Add the branches whose key one of the path's leaves meets."""
        if self.presence:
            candidates.update(self.presence)
        if self.ignore_case:
            ignore_case = self.ignore_case
            for key in leaves:
                if type(key) is str:
                    posting = ignore_case.get(key.lower())
                    if posting:
                        candidates.update(posting)
        if self.affixes:
            for table in self.affixes.values():
                for key in leaves:
                    if type(key) is str:
                        table.collect(key, candidates)
        if self.numeric is not None:
            numeric = self.numeric
            for key in leaves:
                if type(key) is float:
                    numeric.collect(key, candidates)

    def add(self, key: _Key, filed_branch: _FiledBranch) -> list[set[_FiledBranch]]:
        """File a branch; return the posting lists that grew (to watch their size)."""
        kind = key.kind
        if kind is KeyKind.PRESENCE:
            self.presence.add(filed_branch)
            return [self.presence]
        if kind is KeyKind.NUMERIC:
            assert key.numeric_range is not None
            if self.numeric is None:
                self.numeric = _NumericPostings()
            self.numeric.add(key.numeric_range, filed_branch)
            return []
        if kind is KeyKind.IGNORE_CASE:
            grown = []
            for value in key.values:
                posting = self.ignore_case.get(value)
                if posting is None:
                    posting = self.ignore_case[value] = set()
                posting.add(filed_branch)
                grown.append(posting)
            return grown
        table = self.affixes.get(kind)
        if table is None:
            table = self.affixes[kind] = _AffixTable(kind)
        return [table.add(affix, filed_branch) for affix in key.values]

    def remove(self, key: _Key, filed_branch: _FiledBranch) -> None:
        kind = key.kind
        if kind is KeyKind.PRESENCE:
            self.presence.discard(filed_branch)
        elif kind is KeyKind.NUMERIC:
            assert key.numeric_range is not None
            if self.numeric is not None:
                self.numeric.remove(key.numeric_range, filed_branch)
                if not self.numeric:
                    self.numeric = None
        elif kind is KeyKind.IGNORE_CASE:
            for value in key.values:
                posting = self.ignore_case.get(value)
                if posting is not None:
                    posting.discard(filed_branch)
                    if not posting:
                        del self.ignore_case[value]
        else:
            table = self.affixes.get(kind)
            if table is not None:
                for affix in key.values:
                    table.remove(affix, filed_branch)
                if not table.by_affix:
                    del self.affixes[kind]

    def sharing(self, key: _Key) -> int:
        """How many branches are filed under the same key values (for the cost of a key)."""
        if key.kind is KeyKind.PRESENCE:
            return len(self.presence)
        if key.kind is KeyKind.IGNORE_CASE:
            return sum(len(self.ignore_case.get(value, ())) for value in key.values)
        table = self.affixes.get(key.kind)
        if table is None:
            return 0
        return sum(len(table.by_affix.get(affix, ())) for affix in key.values)

    def posting_lists(self) -> Iterator[set[_FiledBranch]]:
        yield self.presence
        yield from self.ignore_case.values()
        for table in self.affixes.values():
            yield from table.by_affix.values()


class _State:
    """An automaton state: transitions by (path, value), and the bucket of branches ending here."""

    __slots__ = ("keyed", "plain", "transitions")

    def __init__(self) -> None:
        # Containers are created on first use: most states only hold transitions or a bucket.
        self.transitions: dict[str, dict[ValueKey, _State]] | None = None
        self.plain: set[_FiledBranch] | None = None
        self.keyed: dict[str, _PathPostings] | None = None

    def is_empty(self) -> bool:
        return not (self.transitions or self.plain or self.keyed)


class RuleIndex:
    """A set of rules (id -> pattern) matched together: `match(event)` returns the matching ids.

    `add` replaces a rule already present under the same id. Not thread-safe: guard it with a lock
    (or build a new index and swap) if rules change while other threads match.
    """

    def __init__(self, *, max_pattern_length: int = MAX_PATTERN_LENGTH) -> None:
        self._max_pattern_length = max_pattern_length
        self._rules: dict[RuleId, tuple[Pattern, tuple[_FiledBranch, ...]]] = {}
        self._root = _State()

    # -- rules ---------------------------------------------------------------------------------

    def add(self, rule_id: RuleId, pattern: str | bytes | Mapping[str, Any] | Pattern) -> Pattern:
        """Compile `pattern` (raising InvalidPatternError) and file it under `rule_id`."""
        compiled = compile_pattern(pattern, max_length=self._max_pattern_length)
        if rule_id in self._rules:
            self.remove(rule_id)
        filed = tuple(_FiledBranch(rule_id, branch) for branch in compiled.branches)
        self._rules[rule_id] = (compiled, filed)
        for filed_branch in filed:
            self._file(filed_branch)
        return compiled

    def remove(self, rule_id: RuleId) -> None:
        """Remove a rule; KeyError if there is none with this id."""
        _, filed = self._rules.pop(rule_id)
        for filed_branch in filed:
            self._unfile(filed_branch)

    def discard(self, rule_id: RuleId) -> None:
        """Remove a rule if present."""
        if rule_id in self._rules:
            self.remove(rule_id)

    def clear(self) -> None:
        self._rules.clear()
        self._root = _State()

    def get(self, rule_id: RuleId) -> Pattern | None:
        entry = self._rules.get(rule_id)
        return entry[0] if entry else None

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[RuleId]:
        return iter(self._rules)

    def items(self) -> Iterator[tuple[RuleId, Pattern]]:
        for rule_id, (pattern, _) in self._rules.items():
            yield rule_id, pattern

    # -- matching ------------------------------------------------------------------------------

    def match(self, event: Mapping[str, Any]) -> set[RuleId]:
        """The ids of the rules whose pattern matches `event` (a JSON object as a dict)."""
        if not isinstance(event, Mapping):
            raise TypeError(f"an event is a JSON object (dict), not {type(event).__name__}")
        return self.match_flat(flatten_event(event))

    def match_flat(self, event: FlatEvent) -> set[RuleId]:
        """`match` for an event already flattened with `flatten_event`."""
        values = event.values
        candidates: set[_FiledBranch] = set()
        pending = [self._root]
        while pending:
            state = pending.pop()
            transitions = state.transitions
            if transitions:
                if len(transitions) <= len(values):
                    for path, table in transitions.items():
                        leaves = values.get(path)
                        if leaves is not None:
                            for key in leaves if len(leaves) == 1 else set(leaves):
                                child = table.get(key)
                                if child is not None:
                                    pending.append(child)
                else:
                    for path, leaves in values.items():
                        step_table = transitions.get(path)
                        if step_table is not None:
                            for key in leaves if len(leaves) == 1 else set(leaves):
                                child = step_table.get(key)
                                if child is not None:
                                    pending.append(child)
            if state.plain:
                candidates.update(state.plain)
            if state.keyed:
                for path, postings in state.keyed.items():
                    leaves = values.get(path)
                    if leaves is not None:
                        postings.collect(leaves, candidates)

        matched: set[RuleId] = set()
        if event.trails is None:
            for candidate in candidates:
                rule_id = candidate.rule_id
                if rule_id not in matched and conditions_hold(candidate.residual, values):
                    matched.add(rule_id)
        else:
            for candidate in candidates:
                rule_id = candidate.rule_id
                if rule_id not in matched and candidate.branch.matches(event):
                    matched.add(rule_id)
        return matched

    # -- filing --------------------------------------------------------------------------------

    def _file(self, filed_branch: _FiledBranch) -> None:
        terminals = [self._root]
        for path, step_values in filed_branch.steps:
            following = []
            for state in terminals:
                if state.transitions is None:
                    state.transitions = {}
                table = state.transitions.get(path)
                if table is None:
                    table = state.transitions[path] = {}
                for value in step_values:
                    child = table.get(value)
                    if child is None:
                        child = table[value] = _State()
                    following.append(child)
            terminals = following
        filed_branch.bucket_terminals = tuple(terminals)
        # A branch filed at several states (a multi-valued step) uses one key for all of them.
        state = terminals[0]
        small_bucket = state is not self._root and len(state.plain or ()) < _REBALANCE_FROM
        # Below the root, a small bucket is cheaper to scan than to look up by keys; the root's
        # bucket is reached by every event, so there a key always pays.
        key = _PLAIN_KEY if small_bucket else _best_key(state, filed_branch, None)
        for state in terminals:
            self._file_in_bucket(state, filed_branch, key)

    def _unfile(self, filed_branch: _FiledBranch) -> None:
        for state in filed_branch.bucket_terminals:
            _unfile_from_bucket(state, filed_branch)
        self._prune(self._root, filed_branch.steps, 0)
        filed_branch.bucket_terminals = ()

    def _prune(self, state: _State, steps: tuple[Step, ...], depth: int) -> bool:
        """Drop states left empty along a removed branch's steps; True if `state` is now empty."""
        if depth < len(steps) and state.transitions is not None:
            path, step_values = steps[depth]
            table = state.transitions.get(path)
            if table is not None:
                for value in step_values:
                    child = table.get(value)
                    if child is not None and self._prune(child, steps, depth + 1):
                        del table[value]
                if not table:
                    del state.transitions[path]
            if not state.transitions:
                state.transitions = None
        return state is not self._root and state.is_empty()

    def _file_in_bucket(self, state: _State, filed_branch: _FiledBranch, key: _Key) -> None:
        filed_branch.use_key(key)
        if key.kind is KeyKind.PLAIN:
            if state.plain is None:
                state.plain = set()
            state.plain.add(filed_branch)
            grown = [state.plain]
        else:
            if state.keyed is None:
                state.keyed = {}
            postings = state.keyed.get(key.path)
            if postings is None:
                postings = state.keyed[key.path] = _PathPostings()
            grown = postings.add(key, filed_branch)
        for posting in grown:
            size = len(posting)
            if size >= _REBALANCE_FROM and size & (size - 1) == 0:
                self._rebalance(state, posting)

    def _rebalance(self, state: _State, posting: set[_FiledBranch]) -> None:
        """Move branches out of a crowded posting list when they have a much cheaper key."""
        crowd = len(posting)
        for filed_branch in list(posting):
            if len(filed_branch.bucket_terminals) != 1:
                continue  # keys of branches filed at several states stay put
            current = filed_branch.key
            alternative = _best_key(state, filed_branch, current)
            if alternative.kind is KeyKind.PLAIN:
                continue
            if 2 * _key_cost(state, alternative) < crowd * _WEIGHT[current.kind]:
                _unfile_from_bucket(state, filed_branch)
                self._file_in_bucket(state, filed_branch, alternative)

    # -- introspection -------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Sizes: rules, branches by bucket key kind, automaton states, and the longest posting
        list or plain bucket (numeric ranges are looked up by bisection, so not counted there)."""
        counts = {kind.value: 0 for kind in KeyKind}
        for _, filed in self._rules.values():
            for filed_branch in filed:
                counts[filed_branch.key.kind.value] += 1
        states = 0
        longest = 0
        pending = [self._root]
        while pending:
            state = pending.pop()
            states += 1
            longest = max(longest, len(state.plain or ()))
            for postings in (state.keyed or {}).values():
                for posting in postings.posting_lists():
                    longest = max(longest, len(posting))
            for step_table in (state.transitions or {}).values():
                pending.extend(step_table.values())
        counts["rules"] = len(self._rules)
        counts["states"] = states
        counts["longest_candidate_list"] = longest
        return counts


def _unfile_from_bucket(state: _State, filed_branch: _FiledBranch) -> None:
    key = filed_branch.key
    if key.kind is KeyKind.PLAIN:
        if state.plain is not None:
            state.plain.discard(filed_branch)
            if not state.plain:
                state.plain = None
        return
    keyed = state.keyed
    postings = keyed.get(key.path) if keyed is not None else None
    if keyed is None or postings is None:
        return
    postings.remove(key, filed_branch)
    if postings.is_empty():
        del keyed[key.path]
        if not keyed:
            state.keyed = None


def _candidate_keys(filed_branch: _FiledBranch) -> Iterator[_Key]:
    """The bucket keys a branch could be filed under (from its conditions left after the steps)."""
    for condition in filed_branch.unstepped:
        if condition.allows_absent:
            continue
        path = condition.path
        if condition.operators == ("equals-ignore-case",):
            values = tuple(sorted(condition.ignore_case_values))
            yield _Key(KeyKind.IGNORE_CASE, path, values, condition, True)
        for affix_key in condition.affix_keys:
            kind = _AFFIX_KINDS[affix_key.kind]
            yield _Key(kind, path, affix_key.affixes, condition, affix_key.proves)
        if condition.operators == ("numeric",) and len(condition.numeric_ranges) == 1:
            (numeric_range,) = condition.numeric_ranges
            yield _Key(KeyKind.NUMERIC, path, (), condition, False, numeric_range)
        yield _Key(KeyKind.PRESENCE, path, (), condition, condition.any_value)


def _best_key(state: _State, filed_branch: _FiledBranch, excluded: _Key | None) -> _Key:
    """The cheapest key for a branch in the bucket of `state` (any key beats none: it filters)."""
    best: _Key = _PLAIN_KEY
    best_rank: tuple[float, int, int] | None = None
    for candidate in _candidate_keys(filed_branch):
        if excluded is not None and candidate == excluded:
            continue
        rank = (
            _key_cost(state, candidate),
            -candidate.path.count("."),
            _KIND_PREFERENCE[candidate.kind],
        )
        if best_rank is None or rank < best_rank:
            best, best_rank = candidate, rank
    return best


def _key_cost(state: _State, key: _Key) -> float:
    """The weight of the key's kind times (1 + the branches already filed under the same key)."""
    weight = _WEIGHT[key.kind]
    postings = state.keyed.get(key.path) if state.keyed is not None else None
    if key.kind is KeyKind.NUMERIC or postings is None:
        return weight
    return weight * (1 + postings.sharing(key))
