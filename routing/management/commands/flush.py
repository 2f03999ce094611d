from typing import Any

from django.core.management.commands.flush import Command as DjangoFlushCommand

from routing.immutability import event_deletion_permitted


class Command(DjangoFlushCommand):
    help = (
        DjangoFlushCommand.help
        + " Stored events are removed too: flush is the one wipe-everything tool, which the"
        " database's immutability triggers let through."
    )

    def handle(self, **options: Any) -> None:
        with event_deletion_permitted(using=options["database"]):
            super().handle(**options)
