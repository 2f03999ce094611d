"""`manage.py apikey create NAME [--bus BUS ...] [--source PATTERN ...] | list | revoke NAME`:
keys for the HTTP API."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from routing.management.callers import CallerCommand, example_source, when
from routing.selectors import apikey_list
from routing.services.apikeys import apikey_create, apikey_revoke


class Command(CallerCommand):
    help = "Create, list and revoke API keys for the bus's HTTP API (see docs/api.md)."
    noun = "key"
    example_name = "till-1 or ci"
    quiet_help = "print only the key, for scripts"

    def _create(self, *, name: str, buses: list[str], sources: list[str], quiet: bool,
                **options: Any) -> None:
        key, raw_key = apikey_create(name=name, bus_names=buses, sources=sources)
        if quiet:
            self.stdout.write(raw_key)
            return
        scope = ", ".join(sorted(buses)) if buses else "every bus"
        base_url = f"http://localhost:{getattr(settings, 'PORT', 8000)}"
        publishes = ", ".join(key.sources) or "any source not reserved"
        self.stdout.write(self.style.SUCCESS(
            f"Created API key {key.name} (may use: {scope}; may publish: {publishes})."
        ))
        self.stdout.write("This is the only time the key is shown; store it now:\n")
        self.stdout.write(f"    {raw_key}\n")
        self.stdout.write("Use it like this:\n")
        self.stdout.write(
            f"    curl -X POST {base_url}/api/events \\\n"
            f'      -H "Authorization: Bearer {raw_key}" \\\n'
            '      -H "Content-Type: application/json" \\\n'
            f'      -d \'{{"Entries": [{{"Source": "{example_source(key.sources)}", '
            '"DetailType": "Hello", '
            '"Detail": "{\\"hello\\": \\"world\\"}"}]}\'\n'
        )
        self.stdout.write(f"More in docs/api.md and at {base_url}/api/docs")

    def _list(self, **options: Any) -> None:
        keys = apikey_list()
        if not keys:
            self.stdout.write("No API keys. Create one with: manage.py apikey create NAME")
            return
        self.write_table(keys, ("NAME", "PREFIX"), lambda key: f"cs_{key.prefix}_…")

    def _revoke(self, *, name: str, **options: Any) -> None:
        key = apikey_revoke(name=name)
        self.stdout.write(self.style.SUCCESS(
            f"API key {key.name} is revoked (since {when(key.revoked_at)} UTC); "
            "requests with it now get 401."
        ))
