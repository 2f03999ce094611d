"""Fixtures that start the real parts: a Celery worker process and an ASGI server process, both on
the test database and the suite's Redis (embedded unless REDIS_URL is set)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections

from tests.support.processes import AsgiServer, CeleryWorker
from tests.support.webhook_server import WebhookServer


@pytest.fixture(scope="session", autouse=True)
def _clean_redis() -> None:
    """The suite owns its Redis database: messages left by an earlier run must not leak in."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def celery_worker(django_db_setup: None) -> Iterator[CeleryWorker]:
    """A real `celery worker` process (prefork), started for a test module and stopped after it.

    Tests that let it see their data must commit it: use django_db(transaction=True)."""
    from coffeeshop.celery import app

    app.control.purge()  # messages left by tests that ran without a worker
    worker = CeleryWorker().start_and_wait()
    yield worker
    worker.stop()


@pytest.fixture
async def thread_connections_closed() -> AsyncIterator[None]:
    """Consumers read the database from asgiref's worker thread: close what they opened there,
    or PostgreSQL refuses to drop the test database at the end ("being accessed by other
    users"). Use it in tests that drive consumers in-process."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None) -> Iterator[AsgiServer]:
    """The project's ASGI application served by uvicorn in its own process."""
    server = AsgiServer().start_and_wait()
    yield server
    server.stop()


# A second run of the suite on another database (CI runs PostgreSQL, then SQLite) need not repeat
# what cannot reach a database: pytest-django refuses database access to a test that neither
# carries django_db nor uses a database fixture, so such a test cannot differ between the runs.
_DATABASE_FIXTURES = frozenset({
    "db", "transactional_db", "django_db_setup", "live_server",
    "django_db_reset_sequences", "django_db_serialized_rollback",
})


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-tests-only", action="store_true",
        help="run only the tests that can reach the database (for a second database's run)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--database-tests-only"):
        return
    kept: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        reaches_database = (item.get_closest_marker("django_db") is not None
                            or bool(fixtures & _DATABASE_FIXTURES))
        (kept if reaches_database else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
