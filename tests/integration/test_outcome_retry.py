"""A webhook answered while the database is away for two seconds (PostgreSQL cuts the worker's
connections and refuses new ones, as a restart does): the outcome is written again on a fresh
connection once it is back, so the receiver gets the delivery once, not again after the lease."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from django.db import connection

from routing.models import AttemptOutcome, Delivery, DeliveryStatus
from routing.services import put_events
from tests.integration.test_bus_delivery import make_order_entry, wait_until, webhook_rule
from tests.support.processes import CeleryWorker
from tests.support.publishers import TEST_PUBLISHER
from tests.support.webhook_server import ReceivedRequest, Reply, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 2.0  # longer than one immediate second try, shorter than the pauses' sum


@pytest.mark.timeout(120)
def test_an_outcome_written_after_the_connection_was_cut_is_not_sent_again(
    django_db_setup: None, webhook_server: WebhookServer
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("cuts PostgreSQL connections (tests/routing/test_leases.py fails writes "
                    "on every database)")
    from routing.rule_cache import forget_compiled_buses

    forget_compiled_buses()
    import psycopg

    settings_dict = connection.settings_dict
    database = settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [test_backend] = cursor.fetchone()
    # A database cannot refuse connections to itself from inside: the switch is thrown from the
    # maintenance database.
    admin = psycopg.connect(host=settings_dict.get("HOST") or "127.0.0.1",
                            port=settings_dict.get("PORT") or 5432,
                            user=settings_dict.get("USER") or "postgres",
                            password=settings_dict.get("PASSWORD") or None,
                            dbname="postgres", autocommit=True)
    cut_at: list[float] = []
    cut: list[int] = []
    lock = threading.Lock()

    def respond(request: ReceivedRequest) -> Reply:
        with lock:
            if not cut:
                # The database goes away for a moment: no new connections, and every one but
                # the test's own (the worker's) is cut.
                admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
                row = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> %s", [database, test_backend]).fetchone()
                cut.append(row[0] if row else 0)
                cut_at.append(time.monotonic())
        return Reply(200)

    def back_after_an_outage() -> None:
        with lock:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')

    def succeeded() -> bool:
        if cut_at and time.monotonic() > cut_at[0] + OUTAGE_SECONDS:
            back_after_an_outage()
        return Delivery.objects.filter(event_id=event_id, target=target,
                                       status=DeliveryStatus.SUCCEEDED).exists()

    webhook_server.responder = respond
    target = webhook_rule("cut-off", webhook_server, "/cut")
    worker = CeleryWorker(concurrency=1).start_and_wait()
    try:
        event_id = put_events([make_order_entry("o-1")],
                              publisher=TEST_PUBLISHER).entries[0]["EventId"]
        # No beat runs: only the worker's own retries can record it (the lease never lapses).
        try:
            wait_until(succeeded, 30, "the delivery to be recorded as succeeded")
        except AssertionError as error:
            raise AssertionError(f"{error}; the worker's log:\n{worker.log()[-5000:]}") from None
    finally:
        back_after_an_outage()
        admin.close()
        log = worker.log()
        worker.stop()
    assert cut, "the receiver was never called"
    assert cut[0] >= 1, "no worker connection was cut"
    assert "could not record the outcome" in log, log[-4000:]
    delivery = Delivery.objects.get(event_id=event_id, target=target)
    assert [a.outcome for a in delivery.attempts.all()] == [AttemptOutcome.SUCCEEDED]
    assert Counter(r.headers["idempotency-key"] for r in webhook_server.received()) == {
        str(delivery.pk): 1}
