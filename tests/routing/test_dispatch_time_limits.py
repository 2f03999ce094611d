"""A message carries no time limits of its own: the worker that runs it applies its configured
ones. Celery otherwise stamps the sending process's limits into the message whenever the task
is registered there, and a web process configured differently from the workers would override
them (routing's lease check is computed from the worker's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery.signals import before_task_publish

from routing import dispatch, task_names


@pytest.fixture
def published_headers() -> Iterator[list[dict[str, Any]]]:
    import routing.tasks  # noqa: F401 (registered here, as in a web process that imported it)
    from coffeeshop.celery import app

    assert app.tasks[task_names.DELIVER_BATCH_TASK].soft_time_limit is not None
    seen: list[dict[str, Any]] = []

    def record(headers: dict[str, Any] | None = None, **_: object) -> None:
        seen.append(dict(headers or {}))

    before_task_publish.connect(record, weak=False)
    try:
        yield seen
    finally:
        before_task_publish.disconnect(record)
        app.control.purge()


def test_a_message_leaves_the_time_limits_to_the_worker(
    published_headers: list[dict[str, Any]],
) -> None:
    assert dispatch.send_deliver_batch(["00000000-0000-0000-0000-000000000000"])
    assert [headers["task"] for headers in published_headers] == [task_names.DELIVER_BATCH_TASK]
    assert tuple(published_headers[0]["timelimit"]) == (None, None)
