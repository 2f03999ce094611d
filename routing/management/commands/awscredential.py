"""`manage.py awscredential create NAME [--bus BUS ...] [--source PATTERN ...] | list | revoke
NAME`: key pairs for the AWS-protocol endpoint (boto3, the AWS CLI; see docs/aws-compat.md)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from django.conf import settings

from routing.aws.credentials import awscredential_create, awscredential_list, awscredential_revoke
from routing.management.callers import CallerCommand, example_source, when
from routing.models import region


def endpoint_url() -> str:
    return f"http://localhost:{getattr(settings, 'PORT', 8000)}/aws/events"


def boto3_snippet(access_key_id: str, secret: str, *, endpoint: str, bus: str,
                  source: str = "my.app") -> str:
    return "\n".join([
        "import json",
        "",
        "import boto3",
        "",
        "events = boto3.client(",
        '    "events",',
        f'    endpoint_url="{endpoint}",',
        f'    region_name="{region()}",',
        f'    aws_access_key_id="{access_key_id}",',
        f'    aws_secret_access_key="{secret}",',
        ")",
        "print(events.put_events(Entries=[{",
        f'    "EventBusName": "{bus}",',
        f'    "Source": "{source}",',
        '    "DetailType": "Hello",',
        '    "Detail": json.dumps({"hello": "world"}),',
        "}]))",
    ])


def cli_line(access_key_id: str, secret: str, *, endpoint: str, bus: str,
             source: str = "my.app") -> str:
    entries = json.dumps([{"EventBusName": bus, "Source": source, "DetailType": "Hello",
                           "Detail": json.dumps({"hello": "world"})}], separators=(",", ":"))
    return (
        f"AWS_ACCESS_KEY_ID={access_key_id} AWS_SECRET_ACCESS_KEY={shlex.quote(secret)} "
        f"aws events put-events --endpoint-url {endpoint} --region {region()} "
        f"--entries {shlex.quote(entries)}"
    )


class Command(CallerCommand):
    help = ("Create, list and revoke AWS credentials for the bus's AWS-protocol endpoint "
            "(see docs/aws-compat.md).")
    noun = "credential"
    example_name = "billing-svc"
    quiet_help = "print only 'ACCESS_KEY_ID SECRET_ACCESS_KEY', for scripts"

    def _create(self, *, name: str, buses: list[str], sources: list[str], quiet: bool,
                **options: Any) -> None:
        credential, secret = awscredential_create(name=name, bus_names=buses, sources=sources)
        key_id = credential.access_key_id
        if quiet:
            self.stdout.write(f"{key_id} {secret}")
            return
        scope = ", ".join(sorted(buses)) if buses else "every bus"
        bus = sorted(buses)[0] if buses else "default"
        endpoint = endpoint_url()
        publishes = ", ".join(credential.sources) or "any source not reserved"
        source = example_source(credential.sources)
        self.stdout.write(self.style.SUCCESS(
            f"Created AWS credential {credential.name} (may use: {scope}; may publish: "
            f"{publishes})."))
        self.stdout.write("This is the only time the secret is shown; store it now:\n")
        self.stdout.write(f"    aws_access_key_id     = {key_id}")
        self.stdout.write(f"    aws_secret_access_key = {secret}")
        self.stdout.write(f"    region                = {region()}")
        self.stdout.write(f"    endpoint_url          = {endpoint}\n")
        self.stdout.write("From Python (boto3):\n")
        self.stdout.write(boto3_snippet(key_id, secret, endpoint=endpoint, bus=bus,
                                        source=source) + "\n")
        self.stdout.write("From the AWS CLI:\n")
        self.stdout.write(cli_line(key_id, secret, endpoint=endpoint, bus=bus,
                                   source=source) + "\n")
        self.stdout.write("The same pair signs EventBridge Scheduler requests: "
                          f'boto3.client("scheduler", endpoint_url='
                          f'"{endpoint.removesuffix("/events")}/scheduler", ...).')
        self.stdout.write("More in docs/aws-compat.md.")

    def _list(self, **options: Any) -> None:
        credentials = list(awscredential_list())
        if not credentials:
            self.stdout.write("No AWS credentials. Create one with: "
                              "manage.py awscredential create NAME")
            return
        self.write_table(credentials, ("NAME", "ACCESS KEY ID"),
                         lambda credential: credential.access_key_id)

    def _revoke(self, *, name: str, **options: Any) -> None:
        credential = awscredential_revoke(name=name)
        self.stdout.write(self.style.SUCCESS(
            f"AWS credential {credential.name} ({credential.access_key_id}) is revoked (since "
            f"{when(credential.revoked_at)} UTC); requests signed with it are now refused."
        ))
