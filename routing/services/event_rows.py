"""The write of a publish: events with their outbox rows (PendingRoute), all or none, in as
few statements as the database allows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql import InsertQuery

from routing.models import Event, PendingRoute

# Up to this many events (any request's, and more) are written in one statement on PostgreSQL;
# larger batches (replays) go through bulk_create, which splits them as the database needs.
ONE_STATEMENT_MAX_EVENTS = 100


def events_insert_with_outbox(events: list[Event], routes: list[PendingRoute]) -> None:
    """Writes the events and their outbox rows, all or none. On PostgreSQL that is one
    statement (a data-modifying CTE): outside a transaction it commits by itself, so a
    publish costs one round trip instead of BEGIN, two INSERTs and COMMIT. Elsewhere (and for
    batches larger than any request's), two multi-row INSERTs in one transaction."""
    connection = connections[router.db_for_write(Event)]
    if connection.vendor != "postgresql" or len(events) > ONE_STATEMENT_MAX_EVENTS:
        with transaction.atomic(using=connection.alias):
            Event.objects.using(connection.alias).bulk_create(events)
            PendingRoute.objects.using(connection.alias).bulk_create(routes)
        return
    event_sql, event_params = _insert_statement(Event, events, connection)
    route_sql, route_params = _insert_statement(PendingRoute, routes, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH stored_events AS ({event_sql}) {route_sql}",
                       (*event_params, *route_params))
    for row in (*events, *routes):
        row._state.adding = False
        row._state.db = connection.alias


def _insert_statement(model: type[models.Model], rows: Sequence[models.Model],
                      connection: BaseDatabaseWrapper) -> tuple[str, tuple[Any, ...]]:
    """The multi-row INSERT that bulk_create would send for `rows` (every field is set here:
    both tables' keys are chosen before the write), built by Django's own compiler so each
    value is prepared exactly as the ORM prepares it."""
    fields = [field for field in model._meta.concrete_fields if not field.generated]
    query = InsertQuery(model)
    query.insert_values(fields, list(rows))
    [(sql, params)] = query.get_compiler(connection=connection).as_sql()
    return sql, tuple(params)
