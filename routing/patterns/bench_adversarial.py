"""Benchmark: the slowest single matches we can find, by value length.

    python -m routing.patterns.bench_adversarial            # also printed by routing.patterns.bench
    python -m routing.patterns.bench_adversarial --quick

String operators are where one match can cost more than the event's size suggests (a backtracking
regex for `a*a*a*a*a*b` took minutes on 200 characters). This times, through `Pattern.matches` on
a whole event, the known bad patterns and the worst of a seeded random search over wildcard patterns
on the alphabet {a, b} (with many `*` and escapes, each accepted by the complexity check), each
against values built to keep every segment search going to the end, at 1,000, 10,000 and 100,000
characters. A figure is the best of a few runs of the worst value for the pattern; the target is at
most 5 ms per match at 100,000 characters.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from .errors import InvalidPatternError
from .matcher import Pattern, compile_pattern

LENGTHS = (1_000, 10_000, 100_000)
TARGET_MS = 5.0
KNOWN_BAD: tuple[tuple[str, dict[str, Any]], ...] = (
    ("wildcard a*a*a*a*a*b", {"wildcard": "a*a*a*a*a*b"}),
    ("wildcard *a*b*", {"wildcard": "*a*b*"}),
    ("anything-but wildcard *a*a*b", {"anything-but": {"wildcard": "*a*a*b"}}),
    ("prefix equals-ignore-case", {"prefix": {"equals-ignore-case": "A" * 200 + "B"}}),
    ("suffix equals-ignore-case", {"suffix": {"equals-ignore-case": "B" + "A" * 200}}),
    ("equals-ignore-case", {"equals-ignore-case": "a" * 4000}),
    ("anything-but equals-ignore-case", {"anything-but": {"equals-ignore-case": "a" * 4000}}),
)


@cache
def adversarial_values(length: int) -> tuple[str, ...]:
    """Values that make searches for a/b segments scan far before failing (or barely matching)."""
    rng = random.Random(length)  # noqa: S311 - a reproducible workload, not a secret
    return (
        "a" * length,
        "a" * (length - 1) + "b",
        "b" + "a" * (length - 1),
        ("ab" * length)[:length],
        ("aab" * length)[: length - 1] + "a",
        ("a" * 63 + "b") * (length // 64) + "a" * (length % 64),
        "b" * length,
        "a" + "b" * (length - 2) + "a",
        "a" + "b" * (length - 1),
        "".join(rng.choice("ab*\\") for _ in range(length)),
    )


def random_wildcards(count: int, seed: int = 5) -> list[str]:
    """Wildcard pattern texts over {a, b, \\*, \\\\} with many `*`, each a valid, accepted one."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
    found: list[str] = []
    while len(found) < count:
        parts: list[str] = []
        for _ in range(rng.randint(3, 24)):
            parts.append(rng.choice(("a", "a", "b", "*", "*", "\\*", "\\\\")))
        text = "".join(parts)
        try:
            compile_pattern(_pattern({"wildcard": text}))
        except InvalidPatternError:
            continue
        found.append(text)
    return found


def _pattern(matcher: dict[str, Any]) -> dict[str, Any]:
    return {"detail": {"x": [matcher]}}


def _event(value: str) -> dict[str, Any]:
    return {"detail": {"x": value}}


def _best_seconds(pattern: Pattern, event: dict[str, Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        pattern.matches(event)
        best = min(best, time.perf_counter() - start)
    return best


def _worst_seconds(pattern: Pattern, length: int, repeats: int) -> float:
    return max(
        _best_seconds(pattern, _event(value), repeats) for value in adversarial_values(length)
    )


@dataclass
class CaseResult:
    name: str
    milliseconds: dict[int, float]  # value length -> worst time of one match


def run(*, quick: bool) -> list[CaseResult]:
    repeats = 2 if quick else 5
    cases = list(KNOWN_BAD)
    # The search: time every random pattern at a mid length, keep the slowest few for the table.
    searched = random_wildcards(40 if quick else 400)
    timed = [
        (_worst_seconds(compile_pattern(_pattern({"wildcard": text})), 10_000, 2), text)
        for text in searched
    ]
    timed.sort(reverse=True)
    for _, text in timed[: 3 if quick else 5]:
        cases.append((f"generated wildcard {text}", {"wildcard": text}))
    results = []
    for name, matcher in cases:
        pattern = compile_pattern(_pattern(matcher))
        results.append(
            CaseResult(
                name=name,
                milliseconds={
                    length: _worst_seconds(pattern, length, repeats) * 1e3 for length in LENGTHS
                },
            )
        )
    return results


def format_table(results: Sequence[CaseResult]) -> str:
    width = max(len(result.name) for result in results)
    header = f"{'worst-case pattern':<{width}} " + " ".join(
        f"{f'{length:,} ch ms':>14}" for length in LENGTHS
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.name:<{width}} "
            + " ".join(f"{result.milliseconds[length]:>14.3f}" for length in LENGTHS)
        )
    worst = max(result.milliseconds[LENGTHS[-1]] for result in results)
    verdict = "within" if worst <= TARGET_MS else "OVER"
    lines.append("")
    lines.append(
        f"slowest match at {LENGTHS[-1]:,} characters: {worst:.3f} ms ({verdict} the "
        f"{TARGET_MS:g} ms target)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller pattern search")
    args = parser.parse_args(argv)
    print(format_table(run(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
