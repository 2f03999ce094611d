"""Benchmark: RuleIndex against a naive loop over compiled patterns, on a coffee chain's rules.

    python -m routing.patterns.bench            # 10, 100, 1,000 and 10,000 rules
    python -m routing.patterns.bench --quick    # a few seconds, for smoke tests

It ends with the worst single matches by value length (see bench_adversarial).

The rules and events are generated from a fixed seed. The chain has thousands of shops; most rules
belong to one shop (source + detail-type + shopId + one condition: prefix, anything-but, numeric or
exists) and a handful are chain-wide (log everything, every OrderManager event, big orders, ...).
Events are Serverlesspresso-style envelopes with a detail naming a shop, an order, a drink and a
price. Each size is measured on the same events; the naive loop is timed on fewer events at large
sizes (it is the slow one) and both are checked to agree on every event they both saw. Rates are
the best of five rounds, to keep other work on the machine out of the figures.
"""

from __future__ import annotations

import argparse
import gc
import random
import string
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import bench_adversarial
from .index import RuleIndex
from .matcher import Pattern, compile_pattern

SOURCE = "awsserverlessda.serverlesspresso"
DETAIL_TYPES = (
    "Validator.NewOrder",
    "OrderProcessor.WorkflowStarted",
    "OrderProcessor.WaitingCompletion",
    "OrderManager.WaitingCompletion",
    "OrderManager.MakeOrder",
    "OrderProcessor.orderFinished",
    "OrderProcessor.OrderTimeOut",
    "OrderManager.OrderCompleted",
)
DRINKS = ("Espresso", "Americano", "Cappuccino", "Latte", "Flat White", "Cold Brew", "Mocha")
MODIFIERS = ("Oat milk", "Soy milk", "Extra shot", "Decaf", "Vanilla", "Caramel")
STATUSES = ("CREATED", "MAKING", "COMPLETED", "CANCELLED", "TIMEDOUT")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")
SHOP_COUNT = 3000
CHAIN_WIDE_RULES: tuple[dict[str, Any], ...] = (
    {"source": [SOURCE]},
    {"source": [SOURCE], "detail-type": [{"prefix": "OrderManager."}]},
    {
        "source": [SOURCE],
        "detail-type": ["OrderProcessor.OrderTimeOut"],
        "detail": {"cause": ["Barista timedout"]},
    },
    {"source": [SOURCE], "detail": {"price": [{"numeric": [">=", 9]}]}},
    {
        "$or": [
            {"detail-type": ["Validator.NewOrder"]},
            {"detail": {"status": [{"equals-ignore-case": "cancelled"}]}},
        ]
    },
)
SIZES = (10, 100, 1_000, 10_000)


def shop_id(number: int) -> str:
    return f"shop-{number:05d}"


def _nanoid(rng: random.Random, size: int = 21) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return "".join(rng.choice(alphabet) for _ in range(size))


def generate_rules(count: int, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """`count` rules: the chain-wide ones, then per-shop rules with one extra condition each."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
    rules: list[tuple[str, dict[str, Any]]] = [
        (f"chain-{number}", pattern) for number, pattern in enumerate(CHAIN_WIDE_RULES[:count])
    ]
    conditions: tuple[Callable[[], dict[str, Any]], ...] = (
        lambda: {"drink": [{"prefix": rng.choice(DRINKS)[:3]}]},
        lambda: {"status": [{"anything-but": ["CANCELLED", "TIMEDOUT"]}]},
        lambda: {"price": [{"numeric": [">=", rng.randint(2, 5), "<", rng.randint(6, 12)]}]},
        lambda: {"userId": [{"exists": True}]},
        lambda: {"orderNumber": [{"exists": False}]},
        lambda: {"modifiers": [{"anything-but": {"prefix": "Decaf"}}]},
    )
    number = 0
    while len(rules) < count:
        detail = {"shopId": [shop_id(rng.randrange(SHOP_COUNT))]}
        detail.update(rng.choice(conditions)())
        pattern = {"source": [SOURCE], "detail-type": [rng.choice(DETAIL_TYPES)], "detail": detail}
        rules.append((f"shop-rule-{number}", pattern))
        number += 1
    return rules


def generate_events(count: int, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible workload, not a secret
    events = []
    for number in range(count):
        detail_type = rng.choice(DETAIL_TYPES)
        detail: dict[str, Any] = {
            "shopId": shop_id(rng.randrange(SHOP_COUNT)),
            "orderId": _nanoid(rng),
            "userId": f"user-{rng.randrange(100_000)}",
            "drink": rng.choice(DRINKS),
            "modifiers": rng.sample(MODIFIERS, rng.randint(0, 2)),
            "price": round(rng.uniform(2.5, 11.0), 2),
            "status": rng.choice(STATUSES),
            "eventId": "NYC",
            "Message": f"Order step {detail_type}",
        }
        if rng.random() < 0.5:
            detail["orderNumber"] = rng.randint(1, 999)
        if detail_type == "OrderProcessor.OrderTimeOut":
            detail["cause"] = rng.choice(("Customer timedout", "Barista timedout"))
        events.append(
            {
                "version": "0",
                "id": f"{number:08x}-7b2c-4e1a-9f00-{rng.getrandbits(48):012x}",
                "detail-type": detail_type,
                "source": SOURCE,
                "account": "123456789012",
                "time": f"2026-03-{1 + number % 28:02d}T12:{number % 60:02d}:00Z",
                "region": rng.choice(REGIONS),
                "resources": ["arn:aws:states:us-east-1:123456789012:stateMachine:OrderProcessor"],
                "detail": detail,
            }
        )
    return events


@dataclass
class SizeResult:
    rules: int
    index_events_per_second: float
    index_microseconds_per_event: float
    naive_events_per_second: float
    naive_events_measured: int
    matches_per_event: float
    index_memory_bytes: int
    index_peak_memory_bytes: int
    add_microseconds_per_rule: float
    remove_microseconds_per_rule: float

    @property
    def speedup(self) -> float:
        return self.index_events_per_second / self.naive_events_per_second


def _best_rate(
    run: Callable[[dict[str, Any]], object],
    events: Sequence[dict[str, Any]],
    seconds: float,
    rounds: int = 5,
) -> tuple[float, int]:
    """Events per second over `events` (cycled), best of `rounds` rounds of about seconds/rounds
    each (the best round is the one least disturbed by other work on the machine); also returns
    how many events were processed in all."""
    best = 0.0
    processed = 0
    for _ in range(rounds):
        count = 0
        start = time.perf_counter()
        while True:
            for event in events:
                run(event)
            count += len(events)
            elapsed = time.perf_counter() - start
            if elapsed >= seconds / rounds:
                break
        best = max(best, count / elapsed)
        processed += count
    return best, processed


def measure_size(
    size: int,
    events: Sequence[dict[str, Any]],
    *,
    index_seconds: float,
    naive_seconds: float,
    naive_max_events: int,
) -> SizeResult:
    rules = generate_rules(size)

    gc.collect()
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    index = RuleIndex()
    for rule_id, pattern in rules:
        index.add(rule_id, pattern)
    retained, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del index
    gc.collect()

    index = RuleIndex()
    start = time.perf_counter()
    for rule_id, pattern in rules:
        index.add(rule_id, pattern)
    add_seconds = time.perf_counter() - start
    compiled: list[tuple[str, Pattern]] = [(rule_id, compile_pattern(p)) for rule_id, p in rules]

    def naive(event: dict[str, Any]) -> set[str]:
        return {rule_id for rule_id, pattern in compiled if pattern.matches(event)}

    naive_events = list(events[: max(1, min(len(events), naive_max_events))])
    matched_total = 0
    for event in naive_events:
        expected = naive(event)
        got = index.match(event)
        if got != expected:
            raise AssertionError(f"index and naive loop disagree at {size} rules on {event}")
        matched_total += len(got)

    index_rate, _ = _best_rate(index.match, events, index_seconds)
    naive_rate, naive_count = _best_rate(naive, naive_events, naive_seconds)

    probe = rules[: min(len(rules), 200)]
    start = time.perf_counter()
    for rule_id, _ in probe:
        index.remove(rule_id)
    remove_seconds = time.perf_counter() - start

    return SizeResult(
        rules=size,
        index_events_per_second=index_rate,
        index_microseconds_per_event=1e6 / index_rate,
        naive_events_per_second=naive_rate,
        naive_events_measured=naive_count,
        matches_per_event=matched_total / len(naive_events),
        index_memory_bytes=retained - baseline,
        index_peak_memory_bytes=peak - baseline,
        add_microseconds_per_rule=add_seconds / size * 1e6,
        remove_microseconds_per_rule=remove_seconds / len(probe) * 1e6,
    )


def run(sizes: Sequence[int], *, quick: bool) -> list[SizeResult]:
    events = generate_events(300 if quick else 5_000)
    results = []
    for size in sizes:
        results.append(
            measure_size(
                size,
                events,
                index_seconds=0.2 if quick else 2.0,
                naive_seconds=0.2 if quick else 2.0,
                naive_max_events=20 if quick else max(20, 200_000 // size),
            )
        )
    return results


def format_table(results: Sequence[SizeResult]) -> str:
    header = (
        f"{'rules':>7} {'index ev/s':>11} {'µs/event':>9} {'naive ev/s':>11} "
        f"{'index/naive':>12} {'matches/ev':>10} {'index MiB':>9} {'peak MiB':>9} "
        f"{'add µs':>7} {'remove µs':>9}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        lines.append(
            f"{result.rules:>7,} {result.index_events_per_second:>11,.0f} "
            f"{result.index_microseconds_per_event:>9.1f} {result.naive_events_per_second:>11,.1f} "
            f"{result.speedup:>11,.0f}x {result.matches_per_event:>10.2f} "
            f"{result.index_memory_bytes / 2**20:>9.2f} "
            f"{result.index_peak_memory_bytes / 2**20:>9.2f} "
            f"{result.add_microseconds_per_rule:>7.1f} {result.remove_microseconds_per_rule:>9.1f}"
        )
    if len(results) > 1:
        smallest, largest = results[0], results[-1]
        slowdown = smallest.index_events_per_second / largest.index_events_per_second
        lines.append("")
        lines.append(
            f"index speed at {smallest.rules:,} rules / at {largest.rules:,} rules: "
            f"{slowdown:.2f}x (time per event grows {slowdown:.2f}x for "
            f"{largest.rules / smallest.rules:,.0f}x the rules)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run with fewer events")
    parser.add_argument(
        "--sizes",
        type=lambda text: [int(part) for part in text.split(",")],
        default=list(SIZES),
        help="comma-separated rule counts (default 10,100,1000,10000)",
    )
    args = parser.parse_args(argv)
    print(
        f"EventBridge pattern index benchmark (Python {sys.version.split()[0]}, one core; "
        f"{SHOP_COUNT:,} shops, {len(CHAIN_WIDE_RULES)} chain-wide rules)"
    )
    results = run(args.sizes, quick=args.quick)
    print(format_table(results))
    print(
        "naive = {rule for rule, pattern in rules if pattern.matches(event)}, timed on "
        + ", ".join(f"{r.naive_events_measured:,} ev at {r.rules:,}" for r in results)
    )
    print()
    print(bench_adversarial.format_table(bench_adversarial.run(quick=args.quick)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
