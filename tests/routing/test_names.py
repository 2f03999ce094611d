"""Names that only look like good ones: a trailing newline (which `$` lets through), NUL,
look-alike Unicode. Every name field of both APIs refuses each with a clear 400 /
ValidationException, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from django.core.management import CommandError, call_command

from routing.aws.credentials import awscredential_create
from routing.errors import ValidationError
from routing.models import ApiKey, Archive, AwsCredential, Event, EventBus, Replay, Rule, Target
from routing.services import Actor, archive_create, bus_ensure_default, rule_put
from routing.services.apikeys import apikey_create
from tests.routing.aws.conftest import Credential, make_client
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SYSTEM = Actor.system("test")


# Cyrillic letters that look like Latin ones.
HOMOGLYPHS = {"e": "\u0435", "a": "\u0430", "o": "\u043e", "i": "\u0456"}


def lookalikes(name: str) -> list[str]:
    """`name` spelt so that it reads (or prints) the same, or nearly, but is another string."""
    position = next(i for i, char in enumerate(name) if char in HOMOGLYPHS)
    return [
        name + "\n",
        name + "\r\n",
        name[:2] + "\x00" + name[2:],
        name + "\x00",
        name[:position] + HOMOGLYPHS[name[position]] + name[position + 1:],
        "".join(chr(ord(char) + 0xFEE0) for char in name),  # fullwidth letters
        name[:2] + "\u200b" + name[2:],  # zero-width space
        name + "\u00a0",  # no-break space
    ]


BAD_NAMES = lookalikes("default")
ids = [repr(name) for name in BAD_NAMES]


@pytest.fixture
def aws(asgi_server: AsgiServer) -> Any:
    bus_ensure_default()
    rule_put(bus_name="default", name="rule", event_pattern={"source": ["a"]}, actor=SYSTEM)
    archive_create(name="archive", bus_name="default", actor=SYSTEM)
    row, secret = awscredential_create(name="names-svc")
    return make_client(f"{asgi_server.url}/aws/events", Credential(row.access_key_id, secret))


def _stored() -> dict[str, list[str]]:
    return {
        "buses": sorted(EventBus.objects.values_list("name", flat=True)),
        "rules": sorted(Rule.objects.values_list("name", flat=True)),
        "targets": sorted(Target.objects.values_list("target_id", flat=True)),
        "archives": sorted(Archive.objects.values_list("name", flat=True)),
        "replays": sorted(Replay.objects.values_list("name", flat=True)),
        "events": [str(pk) for pk in Event.objects.values_list("pk", flat=True)],
    }


def _refused(call: Callable[[], Any], *, member: str) -> None:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error
    assert error["Code"] == "ValidationException", error
    assert member.split(".")[-1].lower() in error["Message"].lower() or "name" in \
        error["Message"].lower(), error


@pytest.mark.parametrize("bad", BAD_NAMES, ids=ids)
def test_every_aws_name_field_refuses_lookalikes(aws: Any, bad: str) -> None:
    before = _stored()
    _refused(lambda: aws.create_event_bus(Name=bad), member="Name")
    _refused(lambda: aws.put_rule(Name=bad, EventPattern='{"source": ["a"]}'), member="Name")
    _refused(lambda: aws.create_archive(
        ArchiveName=bad, EventSourceArn="arn:aws:events:us-east-1:000000000000:event-bus/default"
    ), member="ArchiveName")
    _refused(lambda: aws.start_replay(
        ReplayName=bad, EventSourceArn="arn:aws:events:us-east-1:000000000000:archive/archive",
        EventStartTime=datetime(2026, 1, 1, tzinfo=UTC),
        EventEndTime=datetime(2026, 1, 2, tzinfo=UTC),
        Destination={"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/default"},
    ), member="ReplayName")
    # As at AWS, a target Id the model refuses refuses the whole call.
    _refused(lambda: aws.put_targets(Rule="rule", Targets=[
        {"Id": bad, "Arn": "https://a.example.com/"}]), member="targets.1.member.id")
    assert _stored() == before


@pytest.mark.parametrize("bad", BAD_NAMES, ids=ids)
def test_aws_lookups_by_lookalike_names_answer_4xx(aws: Any, bad: str) -> None:
    # Not a 5xx (PostgreSQL refuses NUL in a query), and not the real `default` or `rule`.
    for call in (lambda: aws.describe_event_bus(Name=bad),
                 lambda: aws.describe_rule(Name=bad),
                 lambda: aws.describe_rule(Name="rule", EventBusName=bad),
                 lambda: aws.describe_archive(ArchiveName=bad.replace("default", "archive")),
                 lambda: aws.describe_replay(ReplayName=bad)):
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400, \
            refused.value.response["Error"]


@pytest.mark.parametrize("bad", BAD_NAMES, ids=ids)
def test_rest_put_events_refuses_lookalike_bus_names(asgi_server: AsgiServer, bad: str) -> None:
    bus_ensure_default()
    _, key = apikey_create(name="names-key")
    with httpx.Client(base_url=asgi_server.url, timeout=10,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.post("/api/events", json={"Entries": [
            {"Source": "my.app", "DetailType": "x", "Detail": "{}", "EventBusName": bad},
        ]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["FailedEntryCount"] == 1, body
    assert body["Entries"][0]["ErrorCode"] in {"ValidationException",
                                               "ResourceNotFoundException"}, body
    assert not Event.objects.exists()


@pytest.mark.parametrize("bad", lookalikes("till-1"), ids=repr)
def test_credential_names_refuse_lookalikes(bad: str) -> None:
    for create in (apikey_create, awscredential_create):
        with pytest.raises(ValidationError, match="name is 1-100 characters") as refused:
            create(name=bad)
        assert refused.value.field == "Name"
    for command in ("apikey", "awscredential"):
        with pytest.raises(CommandError, match="name is 1-100 characters"):
            call_command(command, "create", bad)
    assert not ApiKey.objects.exists()
    assert not AwsCredential.objects.exists()
