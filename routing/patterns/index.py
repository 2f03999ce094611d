"""`RuleIndex`: many rules in one shared structure, matched without looping over all of them.

Rules are split into branches (the `$or` expansion) and filed in an automaton, the way event-ruler
builds its state machine:

1. **Exact steps.** A branch's fields that only match given values (strings, numbers, booleans,
   null) are its *steps*, taken in path order. The automaton is a tree of states; from a state, a
   step `(path, value)` leads to a child state, found by two dict lookups. Branches that share
   leading steps share states, so a thousand rules naming the same `source` and `detail-type` and
   one shop each fan out only at the shop. A field with several values (an OR) gives one child per
   value.
2. **Buckets.** The state reached after a branch's last step holds it in a *bucket*. Inside a
   bucket, a branch whose remaining fields include one that only matches `equals-ignore-case`
   values or prefixes (or, failing that, any field needing a value) is filed under that key:
   (path, lower-cased value), (path, prefix) or path. Otherwise it sits in the bucket's plain set.
3. **Residual.** What the steps and the key do not already prove (numeric ranges, anything-but,
   suffixes, wildcards, CIDR, exists) is evaluated only for the candidates.

`match(event)` flattens the event once, walks the automaton from the root following the event's
leaves (at each state it looks up only the paths the state has transitions for, or the event's
paths when those are fewer), gathers candidates from the buckets of the states it reaches, and
evaluates their residual conditions. The cost follows the event and how many branches get that
far, not how many rules there are. Adding or removing a rule touches only the states and posting
lists of its own branches.

Inside a bucket a branch goes to its cheapest key, the one with the shortest posting list,
weighted by kind (a path is present far more often than a given value); when a posting list
doubles past a threshold, branches with a much cheaper alternative are moved.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from math import prod
from typing import Any

from .compiler import MAX_PATTERN_LENGTH
from .conditions import FieldCondition
from .matcher import Branch, Pattern, compile_pattern, conditions_hold
from .values import FlatEvent, ValueKey, flatten_event

RuleId = Hashable

# At most this many automaton paths per branch; fields with several values beyond it stay residual.
_MAX_STEP_EXPANSION = 16
# A posting list in a bucket is reviewed each time it doubles from this size on.
_REBALANCE_FROM = 8
# Relative cost of key kinds (roughly how often an event meets such a key).
_WEIGHT = {"ignore_case": 1.0, "prefix": 2.0, "presence": 4.0}


class KeyKind(Enum):
    IGNORE_CASE = "ignore_case"
    PREFIX = "prefix"
    PRESENCE = "presence"
    PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class _Key:
    kind: KeyKind
    path: str
    values: tuple[str, ...]  # lower-cased strings or prefixes; () for presence and plain
    condition: FieldCondition | None

    @property
    def proves_condition(self) -> bool:
        """Being found through this key already shows its field holds."""
        if self.kind in (KeyKind.IGNORE_CASE, KeyKind.PREFIX):
            return True
        return (
            self.kind is KeyKind.PRESENCE
            and self.condition is not None
            and (self.condition.any_value)
        )


_PLAIN_KEY = _Key(KeyKind.PLAIN, "", (), None)

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


class _PathPostings:
    """A bucket's branches filed under keys on one event path."""

    __slots__ = ("ignore_case", "prefix_lengths", "prefixes", "presence")

    def __init__(self) -> None:
        self.ignore_case: dict[str, set[_FiledBranch]] = {}
        self.prefixes: dict[str, set[_FiledBranch]] = {}
        self.prefix_lengths: tuple[int, ...] = ()
        self.presence: set[_FiledBranch] = set()

    def is_empty(self) -> bool:
        return not (self.ignore_case or self.prefixes or self.presence)

    def refresh_prefix_lengths(self) -> None:
        self.prefix_lengths = tuple(sorted({len(prefix) for prefix in self.prefixes}))


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
                _collect_keyed(state.keyed, values, candidates)

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
        key = _best_key(terminals[0], filed_branch, None)
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
            return
        if state.keyed is None:
            state.keyed = {}
        postings = state.keyed.get(key.path)
        if postings is None:
            postings = state.keyed[key.path] = _PathPostings()
        grown: list[set[_FiledBranch]] = []
        if key.kind is KeyKind.PRESENCE:
            postings.presence.add(filed_branch)
            grown.append(postings.presence)
        else:
            table = _table(postings, key.kind)
            for value in key.values:
                posting = table.get(value)
                if posting is None:
                    posting = table[value] = set()
                posting.add(filed_branch)
                grown.append(posting)
            if key.kind is KeyKind.PREFIX:
                postings.refresh_prefix_lengths()
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
            if 2 * (_key_cost(state, alternative) + 1) < crowd * _WEIGHT[current.kind.value]:
                _unfile_from_bucket(state, filed_branch)
                self._file_in_bucket(state, filed_branch, alternative)

    # -- introspection -------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Sizes: rules, branches by bucket key kind, automaton states, longest candidate list."""
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
                for key_table in (postings.ignore_case, postings.prefixes):
                    for posting in key_table.values():
                        longest = max(longest, len(posting))
                longest = max(longest, len(postings.presence))
            for step_table in (state.transitions or {}).values():
                pending.extend(step_table.values())
        counts["rules"] = len(self._rules)
        counts["states"] = states
        counts["longest_candidate_list"] = longest
        return counts


def _collect_keyed(
    keyed: dict[str, _PathPostings],
    values: dict[str, list[ValueKey]],
    candidates: set[_FiledBranch],
) -> None:
    """Add the branches of a bucket whose key the event meets."""
    for path, postings in keyed.items():
        leaves = values.get(path)
        if leaves is None:
            continue
        if postings.presence:
            candidates.update(postings.presence)
        if postings.ignore_case:
            ignore_case = postings.ignore_case
            for key in leaves:
                if type(key) is str:
                    posting = ignore_case.get(key.lower())
                    if posting:
                        candidates.update(posting)
        if postings.prefix_lengths:
            prefixes = postings.prefixes
            lengths = postings.prefix_lengths
            for key in leaves:
                if type(key) is str:
                    size = len(key)
                    for length in lengths:
                        if length > size:
                            break
                        posting = prefixes.get(key[:length])
                        if posting:
                            candidates.update(posting)


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
    if key.kind is KeyKind.PRESENCE:
        postings.presence.discard(filed_branch)
    else:
        table = _table(postings, key.kind)
        for value in key.values:
            posting = table.get(value)
            if posting is not None:
                posting.discard(filed_branch)
                if not posting:
                    del table[value]
        if key.kind is KeyKind.PREFIX:
            postings.refresh_prefix_lengths()
    if postings.is_empty():
        del keyed[key.path]
        if not keyed:
            state.keyed = None


def _table(postings: _PathPostings, kind: KeyKind) -> dict[str, set[_FiledBranch]]:
    return postings.ignore_case if kind is KeyKind.IGNORE_CASE else postings.prefixes


def _candidate_keys(filed_branch: _FiledBranch) -> Iterator[_Key]:
    """The bucket keys a branch could be filed under (from its conditions left after the steps)."""
    for condition in filed_branch.unstepped:
        if condition.allows_absent:
            continue
        if condition.operators == ("equals-ignore-case",):
            values = tuple(sorted(condition.ignore_case_values))
            yield _Key(KeyKind.IGNORE_CASE, condition.path, values, condition)
        elif condition.operators == ("prefix",):
            yield _Key(
                KeyKind.PREFIX, condition.path, tuple(sorted(set(condition.prefixes))), condition
            )
        yield _Key(KeyKind.PRESENCE, condition.path, (), condition)


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
    postings = state.keyed.get(key.path) if state.keyed is not None else None
    weight = _WEIGHT[key.kind.value]
    if postings is None:
        return 0.0
    if key.kind is KeyKind.PRESENCE:
        return len(postings.presence) * weight
    table = _table(postings, key.kind)
    return sum(len(table.get(value, ())) for value in key.values) * weight


_KIND_PREFERENCE = {
    KeyKind.IGNORE_CASE: 0,
    KeyKind.PREFIX: 1,
    KeyKind.PRESENCE: 2,
    KeyKind.PLAIN: 3,
}
