"""The system check that keeps the claim lease longer than any task that holds a claim."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from routing import tasks
from routing.checks import claim_lease_outlasts_task_time_limit


def error_ids() -> list[str]:
    return sorted(message.id or "" for message in claim_lease_outlasts_task_time_limit())


def test_the_default_settings_pass(settings) -> None:
    assert settings.ROUTING_RUNNING_LEASE_SECONDS > settings.CELERY_TASK_TIME_LIMIT
    assert error_ids() == []


@pytest.mark.parametrize("lease", [60.0, 90.0])
def test_a_lease_not_longer_than_the_hard_time_limit_is_refused(settings, lease) -> None:
    assert settings.CELERY_TASK_TIME_LIMIT == 90
    settings.ROUTING_RUNNING_LEASE_SECONDS = lease
    assert error_ids() == ["routing.E002"] * 3
    with pytest.raises(SystemCheckError, match="ROUTING_RUNNING_LEASE_SECONDS"):
        call_command("check")


def test_tasks_without_a_hard_time_limit_are_refused(monkeypatch) -> None:
    for task in (tasks.route_events, tasks.deliver, tasks.deliver_batch):
        monkeypatch.setattr(task, "time_limit", None)
    assert error_ids() == ["routing.E001"] * 3


def test_a_task_s_own_time_limit_counts(settings, monkeypatch) -> None:
    settings.ROUTING_RUNNING_LEASE_SECONDS = 120
    monkeypatch.setattr(tasks.deliver_batch, "time_limit", 300)
    [error] = claim_lease_outlasts_task_time_limit()
    assert error.id == "routing.E002"
    assert "routing.deliver_batch (300 s)" in error.msg
