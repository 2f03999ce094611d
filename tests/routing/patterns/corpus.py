"""The vendored conformance corpus (see data/README.md) and how one case is run."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from routing.patterns import InvalidPatternError, compile_pattern

DATA = Path(__file__).parent / "data"

# Cases this engine is known to get wrong: id -> reason. Each is a strict xfail, so a regression
# and an unexpected fix both show up. Currently every case of the corpus passes.
KNOWN_MISSES: dict[str, str] = {}


@cache
def load_cases(name: str = "cases.jsonl") -> tuple[dict[str, Any], ...]:
    with (DATA / name).open(encoding="utf-8") as lines:
        return tuple(json.loads(line) for line in lines if line.strip())


def outcome(case: dict[str, Any]) -> str:
    """What the engine says about a case: "match", "no-match" or "invalid" (the corpus's terms)."""
    try:
        pattern = compile_pattern(case["pattern"])
    except InvalidPatternError:
        return "invalid"
    return "match" if pattern.matches(case["event"]) else "no-match"


def runner_function(pattern: Any, event: Any) -> bool:
    """The `f(pattern, event)` the shared run_conformance.py runner calls (MODULE:FUNCTION)."""
    return compile_pattern(pattern).matches(event)
