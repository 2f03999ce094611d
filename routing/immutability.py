"""The one door through which events may be deleted: the retention purge (and `flush`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction


@contextmanager
def event_deletion_permitted(using: str = "default") -> Iterator[None]:
    """Inside this block (one transaction) the database lets rows of routing_event be deleted."""
    connection = connections[using]
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL coffeeshop.event_purge = 'on'")
            else:
                cursor.execute("INSERT INTO routing_event_purge_permit (id) VALUES (1)")
        try:
            yield
        finally:
            # Close the door even when this block is nested in a longer transaction.
            if not connection.needs_rollback:
                with connection.cursor() as cursor:
                    if connection.vendor == "postgresql":
                        cursor.execute("SET LOCAL coffeeshop.event_purge = 'off'")
                    else:
                        cursor.execute("DELETE FROM routing_event_purge_permit")
