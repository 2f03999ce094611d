import time
from typing import Any

from django.core.management.commands.flush import Command as DjangoFlushCommand
from django.db import OperationalError

from routing.immutability import event_deletion_permitted

DEADLOCK_RETRIES = 5


class Command(DjangoFlushCommand):
    help = (
        DjangoFlushCommand.help
        + " Stored events are removed too: flush is the one wipe-everything tool, which the"
        " database's immutability triggers let through."
    )

    def handle(self, **options: Any) -> None:
        # TRUNCATE takes every table's exclusive lock; a worker still running a query on the
        # same tables can deadlock with it, and PostgreSQL then aborts one side. Once the
        # worker's transaction is over, trying again succeeds.
        for attempt in range(1, DEADLOCK_RETRIES + 1):
            try:
                with event_deletion_permitted(using=options["database"]):
                    super().handle(**options)
                return
            except OperationalError as error:
                if "deadlock detected" not in str(error) or attempt == DEADLOCK_RETRIES:
                    raise
                time.sleep(0.2 * attempt)
