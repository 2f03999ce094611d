"""The same-element rule: choosing, for every field, a leaf so that all choices agree on the
element of every array they share.

A plain backtracking search over the leaves is exponential in the event: each field's choices are
tried in turn and a conflict found late undoes them all. This search stays polynomial on the
shapes that made it slow, by four means:

- **Only shared arrays count.** A trail is cut down to the arrays that at least two fields reach;
  an array only one field reaches can never disagree with anything. Trails that become equal are
  one choice.
- **Related fields in a row.** After the field with the fewest choices, the next is the one that
  shares the most arrays with those already placed, so that a conflict shows at once.
- **Look-up, not scan.** A field's choices are filed by (array, element): given the elements
  already chosen, only the agreeing choices are tried.
- **Memo.** What is left to decide depends only on the chosen elements of the arrays the remaining
  fields reach; a position and those elements already found impossible are not searched again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from .values import Trail

Choice = tuple[tuple[int, int], ...]  # a trail cut down to the shared arrays
Assignment = dict[int, int]  # array id -> the element chosen


def consistent_choice_exists(
    required: list[list[Trail]], optional: list[tuple[list[Trail], list[Trail]]]
) -> bool:
    """Whether every `required` field can take one of its trails, and every `optional` one either
    one of its satisfying trails or none of its leaves agrees with the choice, all agreeing."""
    reached: defaultdict[int, int] = defaultdict(int)
    for trails in required:
        for array_id in _array_ids(trails):
            reached[array_id] += 1
    for satisfying, leaf_trails in optional:
        for array_id in _array_ids([*satisfying, *leaf_trails]):
            reached[array_id] += 1
    shared = {array_id for array_id, count in reached.items() if count > 1}

    def cut(trails: list[Trail]) -> list[Choice]:
        return list(dict.fromkeys(tuple(p for p in trail if p[0] in shared) for trail in trails))

    choices = _in_related_order([cut(trails) for trails in required])
    optional_choices = [(cut(satisfying), cut(leaf_trails)) for satisfying, leaf_trails in optional]
    return _Search(choices, optional_choices).run()


def _array_ids(trails: Iterable[Trail]) -> set[int]:
    return {array_id for trail in trails for array_id, _ in trail}


def _in_related_order(fields: list[list[Choice]]) -> list[list[Choice]]:
    remaining = list(range(len(fields)))
    field_ids = [_array_ids(choices) for choices in fields]
    placed_ids: set[int] = set()
    ordered: list[list[Choice]] = []
    while remaining:
        best = min(remaining, key=lambda n: (-len(field_ids[n] & placed_ids), len(fields[n]), n))
        remaining.remove(best)
        placed_ids |= field_ids[best]
        ordered.append(fields[best])
    return ordered


class _Search:
    def __init__(
        self, required: list[list[Choice]], optional: list[tuple[list[Choice], list[Choice]]]
    ) -> None:
        self.required = required
        self.optional = optional
        optional_ids = _array_ids(c for s, t in optional for c in (*s, *t))
        # The arrays that the fields from each position on (and the optional ones) reach.
        self.relevant: list[frozenset[int]] = [frozenset(optional_ids)] * (len(required) + 1)
        for position in range(len(required) - 1, -1, -1):
            self.relevant[position] = self.relevant[position + 1] | _array_ids(required[position])
        self.field_ids = [_array_ids(choices) for choices in required]
        # Each field's choices by (array, element), for the arrays it reaches.
        self.filed: list[dict[tuple[int, int], list[Choice]]] = []
        for choices in required:
            filed: defaultdict[tuple[int, int], list[Choice]] = defaultdict(list)
            for choice in choices:
                for pair in choice:
                    filed[pair].append(choice)
            self.filed.append(dict(filed))
        self.impossible: set[tuple[int, Choice]] = set()

    def run(self) -> bool:
        return self._required(0, {})

    def _candidates(self, position: int, assignment: Assignment) -> list[Choice]:
        best = self.required[position]
        filed = self.filed[position]
        for array_id in self.field_ids[position]:
            chosen = assignment.get(array_id)
            if chosen is not None:
                agreeing = filed.get((array_id, chosen), [])
                if len(agreeing) < len(best):
                    best = agreeing
        return best

    def _required(self, position: int, assignment: Assignment) -> bool:
        if position == len(self.required):
            return _optional(self.optional, 0, assignment, [])
        relevant = self.relevant[position]
        key = (position, tuple(sorted(p for p in assignment.items() if p[0] in relevant)))
        if key in self.impossible:
            return False
        for choice in self._candidates(position, assignment):
            merged = _merge(assignment, choice)
            if merged is not None and self._required(position + 1, merged):
                return True
        self.impossible.add(key)
        return False


def _merge(assignment: Assignment, choice: Choice) -> Assignment | None:
    for array_id, index in choice:
        chosen = assignment.get(array_id)
        if chosen is not None and chosen != index:
            return None
    merged = dict(assignment)
    merged.update(choice)
    return merged


def _compatible(assignment: Assignment, choice: Choice) -> bool:
    for array_id, index in choice:
        chosen = assignment.get(array_id)
        if chosen is not None and chosen != index:
            return False
    return True


def _optional(
    optional: list[tuple[list[Choice], list[Choice]]],
    position: int,
    assignment: Assignment,
    absent: list[list[Choice]],
) -> bool:
    if position == len(optional):
        # Fields taken as absent must have no leaf that fits the final choice of elements.
        return not any(_compatible(assignment, c) for leaf_choices in absent for c in leaf_choices)
    satisfying, leaf_choices = optional[position]
    for choice in satisfying:
        merged = _merge(assignment, choice)
        if merged is not None and _optional(optional, position + 1, merged, absent):
            return True
    return _optional(optional, position + 1, assignment, [*absent, leaf_choices])
