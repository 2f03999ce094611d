"""The EventBridge conformance corpus: 1,088 cases, 208 recorded against real EventBridge.

Every case is one test; `KNOWN_MISSES` (corpus.py) lists the cases the engine is known to get
wrong, as strict xfails. The summary tests state the targets: all AWS-recorded cases, and at least
99% of all cases.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from routing.patterns import RuleIndex, compile_pattern

from .corpus import KNOWN_MISSES, load_cases, outcome

CASES = load_cases()


def _case_param(case: dict[str, Any]) -> Any:
    marks = []
    if case["id"] in KNOWN_MISSES:
        marks.append(pytest.mark.xfail(reason=KNOWN_MISSES[case["id"]], strict=True))
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_case_param(case) for case in CASES])
def test_case(case: dict[str, Any]) -> None:
    assert outcome(case) == case["expect"], case.get("note", "")


def test_corpus_is_complete() -> None:
    assert len(CASES) == 1088
    assert sum(1 for case in CASES if case["verified_against_aws"]) == 208
    assert sum(1 for case in CASES if case.get("aws_error")) == 42
    assert {case["expect"] for case in CASES} == {"match", "no-match", "invalid"}


def test_known_misses_name_real_cases() -> None:
    ids = {case["id"] for case in CASES}
    assert set(KNOWN_MISSES) <= ids
    aws_recorded = {case["id"] for case in CASES if case["verified_against_aws"]}
    assert not set(KNOWN_MISSES) & aws_recorded, "every AWS-recorded case must pass"


def test_every_aws_recorded_case_passes() -> None:
    recorded = [case for case in CASES if case["verified_against_aws"]]
    failed = [case["id"] for case in recorded if outcome(case) != case["expect"]]
    assert failed == []


def test_at_least_99_percent_of_all_cases_pass() -> None:
    passed = sum(1 for case in CASES if outcome(case) == case["expect"])
    assert passed / len(CASES) >= 0.99
    assert passed == len(CASES) - len(KNOWN_MISSES)


def test_rule_index_agrees_with_the_corpus() -> None:
    """All valid patterns of the corpus in one index: each event finds its own rule exactly when the
    case expects a match, and on a sample of events the index returns the naive loop's answer."""
    valid = [case for case in CASES if case["expect"] != "invalid"]
    index = RuleIndex()
    compiled = {}
    for case in valid:
        compiled[case["id"]] = index.add(case["id"], case["pattern"])
    for case in valid:
        assert (case["id"] in index.match(case["event"])) == (case["expect"] == "match"), case["id"]
    for case in valid[::10]:
        expected = {rule_id for rule_id, p in compiled.items() if p.matches(case["event"])}
        assert index.match(case["event"]) == expected, case["id"]


def test_text_and_parsed_patterns_agree() -> None:
    """A pattern given as a dict and as its JSON text behave the same (the runner's --as-text)."""
    for case in CASES:
        if case.get("raw_pattern") or case["expect"] == "invalid":
            continue
        as_text = compile_pattern(json.dumps(case["pattern"]))
        assert as_text.matches(case["event"]) == (case["expect"] == "match"), case["id"]
