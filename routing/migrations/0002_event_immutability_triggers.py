"""The database itself refuses to change or remove an event.

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE, unless
the transaction has set `coffeeshop.event_purge = on` (only routing.immutability does, for the
retention purge and for `flush`). SQLite: triggers refuse UPDATE always, and DELETE unless the
permit table holds a row (written and removed inside the purging transaction)."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE FUNCTION routing_event_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'routing_event is append-only: events are immutable'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF coalesce(current_setting('coffeeshop.event_purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'routing_event is append-only: only the retention purge removes events'
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;
CREATE TRIGGER routing_event_refuse_update BEFORE UPDATE ON routing_event
    FOR EACH ROW EXECUTE FUNCTION routing_event_refuse_change();
CREATE TRIGGER routing_event_refuse_delete BEFORE DELETE ON routing_event
    FOR EACH ROW EXECUTE FUNCTION routing_event_refuse_change();
CREATE TRIGGER routing_event_refuse_truncate BEFORE TRUNCATE ON routing_event
    FOR EACH STATEMENT EXECUTE FUNCTION routing_event_refuse_change();
"""

POSTGRES_REVERSE = """
DROP TRIGGER IF EXISTS routing_event_refuse_truncate ON routing_event;
DROP TRIGGER IF EXISTS routing_event_refuse_delete ON routing_event;
DROP TRIGGER IF EXISTS routing_event_refuse_update ON routing_event;
DROP FUNCTION IF EXISTS routing_event_refuse_change();
"""

SQLITE_FORWARD = [
    "CREATE TABLE routing_event_purge_permit (id INTEGER PRIMARY KEY)",
    """CREATE TRIGGER routing_event_refuse_update BEFORE UPDATE ON routing_event
       BEGIN SELECT RAISE(ABORT, 'routing_event is append-only: events are immutable'); END""",
    """CREATE TRIGGER routing_event_refuse_delete BEFORE DELETE ON routing_event
       WHEN NOT EXISTS (SELECT 1 FROM routing_event_purge_permit)
       BEGIN SELECT RAISE(ABORT,
           'routing_event is append-only: only the retention purge removes events'); END""",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS routing_event_refuse_delete",
    "DROP TRIGGER IF EXISTS routing_event_refuse_update",
    "DROP TABLE IF EXISTS routing_event_purge_permit",
]


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"event immutability triggers are not written for {vendor}")


def reverse(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    statements = [POSTGRES_REVERSE] if vendor == "postgresql" else SQLITE_REVERSE
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_initial")]
    operations = [migrations.RunPython(forward, reverse)]
