"""Claiming outbox rows (PendingRoute) for routing: they are deleted inside the router's
transaction, which holds them locked until it commits (its deliveries then exist) or rolls back
(they are back, to be routed again). A router running at the same time skips rows another holds
instead of waiting for them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, F, IntegerField, QuerySet, When
from django.db.models.expressions import RawSQL

from routing.models import Event, PendingRoute

# Each claimed event carries its bus's `rules_version` (None for a deleted bus) under this name,
# sparing the rule cache its own read.
VERSION_ANNOTATION = "bus_rules_version"


def claimed_events(event_ids: Sequence[str]) -> list[Event]:
    """Claims the outbox rows of those of `event_ids` still waiting to be routed, and returns
    their events. Must run inside a transaction (the caller's, which writes the deliveries).
    On PostgreSQL one statement does both; elsewhere a DELETE … RETURNING, then the read."""
    if not event_ids:
        return []
    connection = connections[router.db_for_write(PendingRoute)]
    if not connection.in_atomic_block:
        raise RuntimeError("outbox rows are claimed inside the transaction that routes them")
    table = connection.ops.quote_name(PendingRoute._meta.db_table)
    column = connection.ops.quote_name(PendingRoute._meta.pk.column)
    params = [PendingRoute._meta.pk.get_db_prep_value(uuid.UUID(event_id), connection)
              for event_id in event_ids]
    placeholders = ", ".join(["%s"] * len(params))
    if connection.vendor == "postgresql":
        # Table and column names come from the models; every value is a parameter.
        claim = (f"DELETE FROM {table} WHERE {column} IN (SELECT {column} FROM {table} "  # noqa: S608
                 f"WHERE {column} IN ({placeholders}) FOR UPDATE SKIP LOCKED) "
                 f"RETURNING {column}")
        events_sql, events_params = _events_query(
            RawSQL(f"SELECT {column} FROM claimed", []), connection)  # noqa: S608, S611
        return list(Event.objects.raw(f"WITH claimed AS ({claim}) {events_sql}",
                                      (*params, *events_params)))
    # SQLite: the transaction holds the database's write lock, so nobody else is claiming.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders}) "  # noqa: S608
                       f"RETURNING {column}", params)
        claimed = [uuid.UUID(str(row[0])) for row in cursor.fetchall()]
    if not claimed:
        return []
    return list(_events(claimed))


def _events(ids: Sequence[uuid.UUID] | RawSQL) -> QuerySet[Event]:
    version = Case(When(bus__deleted_at__isnull=True, then=F("bus__rules_version")),
                   default=None, output_field=IntegerField())
    return Event.objects.filter(pk__in=ids).annotate(**{VERSION_ANNOTATION: version}).order_by()


def _events_query(ids: RawSQL, connection: BaseDatabaseWrapper) -> tuple[str, tuple[object, ...]]:
    queryset = _events(ids)
    sql, params = queryset.query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)
