from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from routing import handlers
from routing.handlers import HandlerContext, register_handler
from routing.models import EventBus
from routing.services import Actor, bus_ensure_default


@pytest.fixture
def actor() -> Actor:
    return Actor.system("test")


@pytest.fixture
def default_bus(db: None) -> EventBus:
    return bus_ensure_default()


class Recorder:
    """A handler that records what it receives and fails as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, HandlerContext]] = []
        self.failures_left = 0
        self.error: Exception = RuntimeError("told to fail")

    def __call__(self, payload: Any, context: HandlerContext) -> None:
        self.calls.append((payload, context))
        if self.failures_left:
            self.failures_left -= 1
            raise self.error


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()
    register_handler("tests.recorder")(recording)
    yield recording
    handlers._handlers.pop("tests.recorder", None)


@pytest.fixture(autouse=True)
def _fresh_rule_cache() -> None:
    """Rolled-back tests reuse bus versions with other rows, which a long-lived worker never
    sees; so each test starts with this process's compiled indexes forgotten."""
    from routing.rule_cache import forget_compiled_buses

    forget_compiled_buses()
