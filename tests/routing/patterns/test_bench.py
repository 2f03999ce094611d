"""The benchmark runs (a quick, small run: the figures themselves are not asserted)."""

from __future__ import annotations

import pytest

from routing.patterns import RuleIndex
from routing.patterns.bench import generate_events, generate_rules, main


def test_quick_bench_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--sizes", "10,100"]) == 0
    output = capsys.readouterr().out
    for column in ("index ev/s", "naive ev/s", "index/naive", "µs/event", "peak MiB"):
        assert column in output
    assert "index speed at 10 rules / at 100 rules" in output
    assert "wildcard a*a*a*a*a*b" in output
    assert "slowest match at 100,000 characters" in output


def test_generated_workload_is_deterministic_and_valid() -> None:
    assert generate_rules(50) == generate_rules(50)
    assert generate_events(20) == generate_events(20)
    index = RuleIndex()
    for rule_id, pattern in generate_rules(1_000):
        index.add(rule_id, pattern)
    assert len(index) == 1_000
    assert sum(len(index.match(event)) for event in generate_events(100)) > 100
