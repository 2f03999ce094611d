"""`manage.py apikey create NAME [--bus BUS ...] | list | revoke NAME`: keys for the HTTP API."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from routing.errors import RoutingError
from routing.selectors import apikey_list
from routing.services.apikeys import apikey_create, apikey_revoke


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


class Command(BaseCommand):
    help = "Create, list and revoke API keys for the bus's HTTP API (see docs/api.md)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = actions.add_parser("create", help="create a key and print it (once)")
        create.add_argument("name", help="a name for the key, e.g. till-1 or ci")
        create.add_argument(
            "--bus", dest="buses", action="append", default=[], metavar="BUS",
            help="limit the key to this bus (repeat for several); default: every bus",
        )
        create.add_argument("--quiet", action="store_true",
                            help="print only the key, for scripts")
        actions.add_parser("list", help="list keys (never the keys themselves)")
        revoke = actions.add_parser("revoke", help="refuse a key from now on")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(**options)
        except RoutingError as error:
            raise CommandError(error.message) from None

    def _create(self, *, name: str, buses: list[str], quiet: bool, **options: Any) -> None:
        key, raw_key = apikey_create(name=name, bus_names=buses)
        if quiet:
            self.stdout.write(raw_key)
            return
        scope = ", ".join(sorted(buses)) if buses else "every bus"
        base_url = f"http://localhost:{getattr(settings, 'PORT', 8000)}"
        self.stdout.write(self.style.SUCCESS(f"Created API key {key.name} (may use: {scope})."))
        self.stdout.write("This is the only time the key is shown; store it now:\n")
        self.stdout.write(f"    {raw_key}\n")
        self.stdout.write("Use it like this:\n")
        self.stdout.write(
            f"    curl -X POST {base_url}/api/events \\\n"
            f'      -H "Authorization: Bearer {raw_key}" \\\n'
            '      -H "Content-Type: application/json" \\\n'
            '      -d \'{"Entries": [{"Source": "my.app", "DetailType": "Hello", '
            '"Detail": "{\\"hello\\": \\"world\\"}"}]}\'\n'
        )
        self.stdout.write(f"More in docs/api.md and at {base_url}/api/docs")

    def _list(self, **options: Any) -> None:
        keys = apikey_list()
        if not keys:
            self.stdout.write("No API keys. Create one with: manage.py apikey create NAME")
            return
        rows = [("NAME", "PREFIX", "BUSES", "CREATED", "LAST USED", "REVOKED")]
        rows += [
            (
                key.name,
                f"cs_{key.prefix}_…",
                ",".join(bus.name for bus in key.buses.all()) or "(all)",
                _when(key.created_at),
                _when(key.last_used_at),
                _when(key.revoked_at),
            )
            for key in keys
        ]
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(
                row, widths, strict=True)).rstrip())

    def _revoke(self, *, name: str, **options: Any) -> None:
        key = apikey_revoke(name=name)
        self.stdout.write(self.style.SUCCESS(
            f"API key {key.name} is revoked (since {_when(key.revoked_at)} UTC); "
            "requests with it now get 401."
        ))
