"""Issued AWS credentials: their form, their encrypted secret (and key rotation), revocation, the
management command, and what the endpoint says when a secret cannot be read."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from routing.aws.credentials import (
    CredentialUnreadable,
    awscredential_create,
    awscredential_find,
    awscredential_revoke,
    awscredential_touch,
    decrypt_secret,
)
from routing.errors import AlreadyExists, NotFound, ValidationError
from routing.models import AwsCredential, EventBus, region
from routing.services import Actor, bus_create

pytestmark = pytest.mark.django_db


def test_a_credential_looks_like_an_aws_key_pair_and_its_secret_is_stored_encrypted(
    default_bus: EventBus,
) -> None:
    credential, secret = awscredential_create(name="billing-svc")
    assert re.fullmatch(r"CSAK[A-Z2-7]{16}", credential.access_key_id)
    assert len(secret) == 40
    stored = AwsCredential.objects.get(pk=credential.pk)
    assert secret not in stored.secret_access_key_encrypted
    assert decrypt_secret(stored.secret_access_key_encrypted) == secret
    other, other_secret = awscredential_create(name="other")
    assert other.access_key_id != credential.access_key_id
    assert other_secret != secret


def test_create_refuses_bad_names_duplicates_and_unknown_buses(default_bus: EventBus) -> None:
    awscredential_create(name="till-1")
    with pytest.raises(AlreadyExists, match="AWS credential till-1 already exists"):
        awscredential_create(name="till-1")
    with pytest.raises(ValidationError, match="AWS credential name"):
        awscredential_create(name="-bad name")
    with pytest.raises(NotFound, match="Event bus nope does not exist"):
        awscredential_create(name="scoped", bus_names=["nope"])


def test_find_gives_live_credentials_only(default_bus: EventBus) -> None:
    credential, _ = awscredential_create(name="till-1")
    assert awscredential_find(credential.access_key_id) == credential
    assert awscredential_find("CSAKAAAAAAAAAAAAAAAA") is None
    assert awscredential_find("not a key") is None
    revoked = awscredential_revoke(name="till-1")
    assert revoked.revoked_at is not None
    assert awscredential_find(credential.access_key_id) is None
    assert awscredential_revoke(name="till-1").revoked_at == revoked.revoked_at
    with pytest.raises(NotFound):
        awscredential_revoke(name="ghost")


def test_last_used_is_written_at_most_once_a_minute(default_bus: EventBus) -> None:
    credential, _ = awscredential_create(name="till-1")
    awscredential_touch(credential)
    first = AwsCredential.objects.get(pk=credential.pk).last_used_at
    assert first is not None
    awscredential_touch(credential)
    assert AwsCredential.objects.get(pk=credential.pk).last_used_at == first
    AwsCredential.objects.filter(pk=credential.pk).update(last_used_at=first - timedelta(
        minutes=2))
    credential.refresh_from_db()
    awscredential_touch(credential)
    assert AwsCredential.objects.get(pk=credential.pk).last_used_at > first


def test_the_encryption_key_can_be_rotated(default_bus: EventBus, settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ROUTING_AWS_CREDENTIALS_KEY = old
    credential, secret = awscredential_create(name="till-1")
    settings.ROUTING_AWS_CREDENTIALS_KEY = f"{new},{old}"
    assert decrypt_secret(credential.secret_access_key_encrypted) == secret
    settings.ROUTING_AWS_CREDENTIALS_KEY = new
    with pytest.raises(CredentialUnreadable, match="ROUTING_AWS_CREDENTIALS_KEY"):
        decrypt_secret(credential.secret_access_key_encrypted)
    settings.ROUTING_AWS_CREDENTIALS_KEY = "not-a-fernet-key"
    with pytest.raises(ImproperlyConfigured, match="must be one Fernet key"):
        decrypt_secret(credential.secret_access_key_encrypted)


def test_by_default_the_key_follows_secret_key_and_its_fallbacks(
    default_bus: EventBus, settings: Any,
) -> None:
    settings.ROUTING_AWS_CREDENTIALS_KEY = ""
    credential, secret = awscredential_create(name="till-1")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-key", [settings.SECRET_KEY]
    assert decrypt_secret(credential.secret_access_key_encrypted) == secret
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(CredentialUnreadable):
        decrypt_secret(credential.secret_access_key_encrypted)


def _signed_client_post(key_id: str, secret: str, target: str, body: bytes = b"{}") -> Any:
    request = AWSRequest(method="POST", url="http://testserver/aws/events", data=body, headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
    SigV4Auth(Credentials(key_id, secret), "events", region()).add_auth(request)
    # As an HTTP library would send them (botocore signs the Host it derives from the URL).
    headers = {"Host": "testserver", **{name: value for name, value in request.headers.items()
                                        if name.lower() != "content-type"}}
    return Client().post("/aws/events", data=body, content_type="application/x-amz-json-1.1",
                         headers=headers)


def test_the_endpoint_works_behind_wsgi_too(default_bus: EventBus) -> None:
    credential, secret = awscredential_create(name="till-1")
    response = _signed_client_post(credential.access_key_id, secret,
                                   "AWSEvents.DescribeEventBus")
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["Name"] == "default"


def test_an_unreadable_secret_is_an_internal_error_logged_for_the_operator(
    default_bus: EventBus, settings: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    credential, secret = awscredential_create(name="till-1")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "rotated-without-fallback", []
    response = _signed_client_post(credential.access_key_id, secret, "AWSEvents.ListEventBuses")
    assert response.status_code == 500
    assert json.loads(response.content)["__type"] == "InternalException"
    assert "ROUTING_AWS_CREDENTIALS_KEY" not in json.loads(response.content)["message"]
    assert "AWS credential till-1: cannot decrypt" in caplog.text


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("awscredential", *args, stdout=out)
    return out.getvalue()


def test_command_create_prints_the_pair_once_with_a_snippet_and_a_cli_line(
    default_bus: EventBus,
) -> None:
    bus_create(name="payments", actor=Actor.system("test"))
    output = _run("create", "payments-svc", "--bus", "payments")
    credential = AwsCredential.objects.get(name="payments-svc")
    assert credential.access_key_id in output
    [secret] = re.findall(r"aws_secret_access_key = (\S+)", output)
    assert decrypt_secret(credential.secret_access_key_encrypted) == secret
    assert "may use: payments" in output
    assert "boto3.client(" in output
    assert f'aws_secret_access_key="{secret}"' in output
    assert "aws events put-events --endpoint-url http://localhost:" in output
    assert re.search(r'boto3\.client\("scheduler", endpoint_url="http://localhost:\d+/aws/scheduler"',
                     output)
    assert [bus.name for bus in credential.buses.all()] == ["payments"]

    quiet = _run("create", "ci", "--quiet").strip()
    key_id, quiet_secret = quiet.split(" ")
    ci = AwsCredential.objects.get(name="ci")
    assert key_id == ci.access_key_id
    assert decrypt_secret(ci.secret_access_key_encrypted) == quiet_secret

    listing = _run("list")
    assert "payments-svc" in listing
    assert credential.access_key_id in listing
    assert secret not in listing
    assert "(all)" in listing  # ci may use every bus

    assert "is revoked" in _run("revoke", "ci")
    assert awscredential_find(ci.access_key_id) is None
    with pytest.raises(CommandError, match="AWS credential ci already exists"):
        _run("create", "ci")
    assert "No AWS credentials" not in _run("list")
    AwsCredential.objects.all().delete()
    assert "No AWS credentials" in _run("list")


def test_revoked_time_shows_in_list(default_bus: EventBus) -> None:
    awscredential_create(name="till-1")
    awscredential_revoke(name="till-1")
    line = next(line for line in _run("list").splitlines() if line.startswith("till-1"))
    assert timezone.now().strftime("%Y-%m-%d") in line.split("(all)")[1]
