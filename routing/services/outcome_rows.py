"""The write of a delivery's outcome: settling it (only under the claim that attempted it) and
recording its attempt, all or none, in as few statements as the database allows."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import cast

from django.db import connections, models, router, transaction
from django.db.models.sql import UpdateQuery

from routing.models import Delivery, DeliveryAttempt, DeliveryStatus


def delivery_settle(*, delivery_id: uuid.UUID | str, token: str, update: Mapping[str, object],
                    attempt: DeliveryAttempt | None) -> bool:
    """Applies `update` to the delivery if `token` still holds its claim (running), and then
    stores `attempt` (if any). Returns whether the claim settled it.

    On PostgreSQL that is one statement (an UPDATE … RETURNING feeding the attempt's INSERT in a
    CTE): outside a transaction it commits by itself, one round trip instead of BEGIN, UPDATE,
    INSERT and COMMIT. Elsewhere, the two statements in one transaction."""
    connection = connections[router.db_for_write(Delivery)]
    claimed = Delivery.objects.using(connection.alias).filter(
        pk=delivery_id, claim_token=token, status=DeliveryStatus.RUNNING)
    if attempt is None:
        return bool(claimed.update(**update))
    if connection.vendor != "postgresql":
        with transaction.atomic(using=connection.alias):
            if not claimed.update(**update):
                return False
            attempt.save(using=connection.alias)
        return True
    query = cast(UpdateQuery, claimed.query.chain(UpdateQuery))
    query.add_update_values(dict(update))
    update_sql, update_params = query.get_compiler(connection=connection).as_sql()
    pk_column = connection.ops.quote_name(Delivery._meta.pk.column)
    fields = [field for field in DeliveryAttempt._meta.concrete_fields
              if not isinstance(field, models.AutoField)]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values, params = [], []
    for field in fields:
        if field.attname == "delivery_id":
            values.append(f"settled.{pk_column}")
            continue
        values.append("%s")
        params.append(field.get_db_prep_save(getattr(attempt, field.attname), connection))
    table = connection.ops.quote_name(DeliveryAttempt._meta.db_table)
    # Names come from the models, SQL from Django's compiler; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH settled AS ({update_sql} RETURNING {pk_column}) "  # noqa: S608
            f"INSERT INTO {table} ({columns}) SELECT {', '.join(values)} FROM settled "
            f"RETURNING 1",
            (*update_params, *params))
        return cursor.fetchone() is not None
