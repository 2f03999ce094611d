"""No pattern holds up the web tier: adversarial TestEventPattern calls on ~250 KB values, on both
APIs at once against a real uvicorn, while /healthz keeps answering within a second.

With the backtracking regex the matcher used before, `a*a*a*a*a*b` took minutes on a
200-character value, so one such request stalled the whole process (/healthz took 30 s).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from routing.aws.credentials import awscredential_create
from routing.services.apikeys import apikey_create
from tests.routing.aws.conftest import Credential, make_client
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

VALUE_LENGTH = 250_000
HEALTHZ_BOUND_SECONDS = 1.0  # the bound: a wide margin over a healthy answer
REQUEST_TIMEOUT_SECONDS = 60.0  # fail, rather than hang, if matching is slow again

# (wildcard, value, whether it matches): each value keeps the old regex backtracking.
CASES: tuple[tuple[dict[str, Any], str, bool], ...] = (
    ({"wildcard": "a*a*a*a*a*b"}, "a" * VALUE_LENGTH, False),
    ({"wildcard": "a*a*a*a*a*b"}, "a" * (VALUE_LENGTH - 1) + "b", True),
    ({"wildcard": "*a*b*"}, "a" * VALUE_LENGTH, False),
    ({"wildcard": "*a*a*a*a*b*"}, "ab" * (VALUE_LENGTH // 2), True),
    ({"anything-but": {"wildcard": "*a*a*a*b"}}, "a" * VALUE_LENGTH, True),
    ({"prefix": {"equals-ignore-case": "A" * 1000 + "B"}}, "a" * VALUE_LENGTH, False),
    ({"suffix": {"equals-ignore-case": "A" * 1000 + "b"}}, "a" * VALUE_LENGTH + "B", True),
    ({"equals-ignore-case": "a" * 2000}, "A" * VALUE_LENGTH, False),
    ({"wildcard": "*aaaaab*a*b"}, "a" * VALUE_LENGTH, False),
    ({"wildcard": "\\**a*\\\\"}, "*" + "a" * VALUE_LENGTH + "\\", True),
)


def _event(value: str) -> dict[str, Any]:
    return {
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "account": "123456789012",
        "source": "adversary",
        "time": "2026-12-03T20:00:00Z",
        "region": "us-east-1",
        "detail-type": "Long value",
        "resources": [],
        "detail": {"x": value},
    }


def _pattern(matcher: dict[str, Any]) -> dict[str, Any]:
    return {"detail": {"x": [matcher]}}


class HealthPoller:
    """Polls /healthz back to back in a thread, recording how long each answer took."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.durations: list[float] = []
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                with urllib.request.urlopen(self.url, timeout=REQUEST_TIMEOUT_SECONDS) as answer:
                    status = answer.status
            except urllib.error.HTTPError as error:
                status = error.code
            self.durations.append(time.monotonic() - start)
            self.statuses.append(status)
            self._stop.wait(0.05)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)


def _run_while_polling(asgi_server: AsgiServer, calls: list[Any]) -> HealthPoller:
    # The poller shares this process (and its GIL) with the callers, so everything costly on the
    # client side (encoding bodies, making boto3 clients) is done before; and the server's first
    # answer (imports, connections) is not the figure under test.
    with urllib.request.urlopen(f"{asgi_server.url}/healthz", timeout=REQUEST_TIMEOUT_SECONDS):
        pass
    with HealthPoller(f"{asgi_server.url}/healthz") as poller:
        time.sleep(0.3)  # a few answers before the load, for comparison in a failure message
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            futures = [pool.submit(call) for call in calls]
            for future in futures:
                future.result(timeout=REQUEST_TIMEOUT_SECONDS * 2)
        time.sleep(0.2)
    return poller


def _assert_healthz_kept_answering(poller: HealthPoller) -> None:
    assert len(poller.durations) >= 5, poller.durations
    assert set(poller.statuses) == {200}, poller.statuses
    assert max(poller.durations) < HEALTHZ_BOUND_SECONDS, poller.durations


def test_ten_adversarial_rest_calls_leave_healthz_answering(
    celery_worker: CeleryWorker, asgi_server: AsgiServer
) -> None:
    _, key = apikey_create(name="adversary")
    requests = [
        urllib.request.Request(
            f"{asgi_server.url}/api/test-event-pattern",
            data=json.dumps({"EventPattern": _pattern(matcher), "Event": _event(value)}).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            method="POST",
        )
        for matcher, value, _ in CASES
    ]
    results: dict[int, bool] = {}

    def call(number: int) -> None:
        with urllib.request.urlopen(requests[number], timeout=REQUEST_TIMEOUT_SECONDS) as answer:
            results[number] = json.load(answer)["Result"]

    poller = _run_while_polling(
        asgi_server, [lambda number=number: call(number) for number in range(len(CASES))]
    )
    assert results == {number: expected for number, (_, _, expected) in enumerate(CASES)}
    _assert_healthz_kept_answering(poller)


def test_ten_adversarial_aws_calls_leave_healthz_answering(
    celery_worker: CeleryWorker, asgi_server: AsgiServer
) -> None:
    row, secret = awscredential_create(name="adversary-aws")
    credential = Credential(row.access_key_id, secret)
    # A client per thread (each from its own session, as boto3 advises for threads).
    clients = [make_client(f"{asgi_server.url}/aws/events", credential) for _ in CASES]
    arguments = [
        {"EventPattern": json.dumps(_pattern(matcher)), "Event": json.dumps(_event(value))}
        for matcher, value, _ in CASES
    ]
    results: dict[int, bool] = {}

    def call(number: int) -> None:
        results[number] = clients[number].test_event_pattern(**arguments[number])["Result"]

    poller = _run_while_polling(
        asgi_server, [lambda number=number: call(number) for number in range(len(CASES))]
    )
    assert results == {number: expected for number, (_, _, expected) in enumerate(CASES)}
    _assert_healthz_kept_answering(poller)
