"""The shape both `manage.py apikey` and `manage.py awscredential` share: create NAME
[--bus BUS ...] [--source PATTERN ...] [--quiet] | list | revoke NAME, with domain errors as
command errors."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Model

from routing.errors import RoutingError


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def example_source(patterns: list[str]) -> str:
    """A source the printed snippets may publish: the first pattern's, else a neutral one."""
    return patterns[0].removesuffix(".*") if patterns else "my.app"


class CallerCommand(BaseCommand):
    """Subclasses name what they manage and implement `_create`, `_list` and `_revoke`."""

    noun = "caller"  # e.g. "key", "credential"
    example_name = "ci"
    quiet_help = "print only the secret, for scripts"

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help=f"create a {self.noun} and print it (once)")
        create.add_argument("name", help=f"a name for the {self.noun}, e.g. {self.example_name}")
        create.add_argument(
            "--bus", dest="buses", action="append", default=[], metavar="BUS",
            help=f"limit the {self.noun} to this bus (repeat for several); default: every bus",
        )
        create.add_argument(
            "--source", dest="sources", action="append", default=[], metavar="PATTERN",
            help=f"let the {self.noun} publish only this source ('my.app') or prefix "
                 "('my.app.*'); repeat for several; default: any source not reserved "
                 "(aws.* and the project's own, such as the shop's)",
        )
        create.add_argument("--quiet", action="store_true", help=self.quiet_help)
        actions.add_parser("list", help=f"list {self.noun}s (never their secrets)")
        revoke = actions.add_parser("revoke", help=f"refuse a {self.noun} from now on")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(**options)
        except RoutingError as error:
            raise CommandError(error.message) from None

    def write_table(self, callers: Sequence[Model], headers: tuple[str, str],
                    identify: Any) -> None:
        """NAME, the given identity column, BUSES, SOURCES, CREATED, LAST USED, REVOKED."""
        rows = [(headers[0], headers[1], "BUSES", "SOURCES", "CREATED", "LAST USED",
                 "REVOKED")]
        rows += [
            (
                caller.name,  # type: ignore[attr-defined]
                identify(caller),
                ",".join(bus.name for bus in caller.buses.all()) or "(all)",  # type: ignore[attr-defined]
                ",".join(caller.sources) or "(unreserved)",  # type: ignore[attr-defined]
                when(caller.created_at),  # type: ignore[attr-defined]
                when(caller.last_used_at),  # type: ignore[attr-defined]
                when(caller.revoked_at),  # type: ignore[attr-defined]
            )
            for caller in callers
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(
                row, widths, strict=True)).rstrip())
