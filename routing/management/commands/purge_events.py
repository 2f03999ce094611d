from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from routing.services.retention import events_purge


class Command(BaseCommand):
    help = (
        "Deletes events ingested more than N days ago that no archive retains, with their "
        "deliveries and attempts, and archive entries past their archive's retention. Events "
        "still being routed or delivered are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=None,
            help="Delete events ingested more than this many days ago "
            "(default: ROUTING_EVENT_RETENTION_DAYS).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what would be deleted; delete nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than_days"]
        if days is None:
            days = int(settings.ROUTING_EVENT_RETENTION_DAYS)
            if days <= 0:
                raise CommandError(
                    "ROUTING_EVENT_RETENTION_DAYS is 0 (keep events forever): pass "
                    "--older-than-days to purge anyway."
                )
        if days < 0:
            raise CommandError("--older-than-days must be 0 or more.")
        report = events_purge(
            older_than=timezone.now() - timedelta(days=days), dry_run=options["dry_run"]
        )
        for line in report.lines():
            self.stdout.write(line)
