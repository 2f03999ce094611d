"""Who may call the AWS endpoint: requests signed by issued credentials, nothing else; and a
credential limited to some buses stays within them. Real boto3 clients and raw HTTP requests
against the real ASGI server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from routing.aws.credentials import awscredential_create, awscredential_revoke
from routing.aws.errors import INVALID_SIGNATURE_MESSAGE, UNRECOGNIZED_CLIENT_MESSAGE
from routing.models import AwsCredential, region
from routing.services import Actor, bus_create
from tests.routing.aws.conftest import Credential
from tests.support.processes import AsgiServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LIST_BUSES = "AWSEvents.ListEventBuses"


def signed_post(
    url: str,
    credential: Credential,
    target: str,
    body: bytes = b"{}",
    *,
    content_type: str = "application/x-amz-json-1.1",
    region_name: str | None = None,
    service: str = "events",
    extra_headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A request signed by botocore's own SigV4 signer and sent as it is."""
    request = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": content_type, "X-Amz-Target": target, **(extra_headers or {})})
    SigV4Auth(Credentials(credential.access_key_id, credential.secret), service,
              region_name or region()).add_auth(request)
    prepared = request.prepare()
    return httpx.post(prepared.url, content=prepared.body, headers=dict(prepared.headers),
                      timeout=10)


def aws_error(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    assert response.headers["x-amzn-errortype"] == body["__type"]
    return response.status_code, body["__type"], body["message"]


@pytest.fixture
def endpoint(asgi_server: AsgiServer) -> str:
    return f"{asgi_server.url}/aws/events"


def test_a_signed_request_is_answered(endpoint: str, credential: Credential) -> None:
    response = signed_post(endpoint, credential, LIST_BUSES)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.json()["EventBuses"][0]["Name"] == "default"
    assert AwsCredential.objects.get(access_key_id=credential.access_key_id).last_used_at


def test_unsigned_request_is_missing_authentication_token(endpoint: str) -> None:
    response = httpx.post(endpoint, content=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LIST_BUSES})
    assert aws_error(response) == (403, "MissingAuthenticationTokenException",
                                   "Missing Authentication Token")


def test_unknown_access_key_is_unrecognized_client(client_for: Any, credential: Credential
                                                   ) -> None:
    stranger = client_for(Credential("CSAKAAAAAAAAAAAAAAAA", credential.secret))
    with pytest.raises(stranger.exceptions.ClientError) as refused:
        stranger.list_event_buses()
    error = refused.value.response
    assert error["Error"] == {"Code": "UnrecognizedClientException",
                              "Message": UNRECOGNIZED_CLIENT_MESSAGE}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_wrong_secret_is_invalid_signature(client_for: Any, credential: Credential) -> None:
    impostor = client_for(Credential(credential.access_key_id, credential.secret + "x"))
    with pytest.raises(impostor.exceptions.ClientError) as refused:
        impostor.put_events(Entries=[{"Source": "shop", "DetailType": "x", "Detail": "{}"}])
    assert refused.value.response["Error"] == {"Code": "InvalidSignatureException",
                                               "Message": INVALID_SIGNATURE_MESSAGE}
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(("skew", "words"), [
    (timedelta(minutes=-6), "Signature expired"),
    (timedelta(minutes=6), "Signature not yet current"),
])
def test_a_date_more_than_5_minutes_off_is_refused(
    client_for: Any, credential: Credential, monkeypatch: pytest.MonkeyPatch,
    skew: timedelta, words: str,
) -> None:
    client = client_for(credential)
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda: datetime.now(UTC).replace(tzinfo=None) + skew)
    with pytest.raises(client.exceptions.ClientError, match=words) as refused:
        client.list_event_buses()
    assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    # Within the window, the same client is fine.
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda: datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=4))
    assert client.list_event_buses()["EventBuses"]


def test_revoked_credential_is_refused(client_for: Any, credential: Credential) -> None:
    client = client_for(credential)
    assert client.list_event_buses()["EventBuses"]
    awscredential_revoke(name="boto-tests")
    # The server is another process: it may remember the credential for its cache's
    # time-to-live (ROUTING_CALLER_CACHE_SECONDS, 1 s), never longer.
    deadline = time.monotonic() + 2.0
    code = None
    while code is None:
        try:
            client.list_event_buses()
        except client.exceptions.ClientError as refused:
            code = refused.response["Error"]["Code"]
        else:
            assert time.monotonic() < deadline, "still accepted 2 s after it was revoked"
            time.sleep(0.05)
    assert code == "UnrecognizedClientException"


def test_scope_must_name_this_region_and_the_events_service(endpoint: str,
                                                            credential: Credential) -> None:
    status, code, message = aws_error(signed_post(endpoint, credential, LIST_BUSES,
                                                  region_name="eu-west-1"))
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith("Credential should be scoped to a valid region.")
    assert f"'{region()}'" in message
    status, code, message = aws_error(signed_post(endpoint, credential, LIST_BUSES,
                                                  service="sqs"))
    assert (code, message) == ("InvalidSignatureException",
                               "Credential should be scoped to correct service: 'events'.")


def test_session_tokens_are_refused(client_for: Any, credential: Credential) -> None:
    client = client_for(credential)
    client._request_signer._credentials = Credentials(credential.access_key_id,
                                                      credential.secret, token="FQoGZXIvYXdzE")
    with pytest.raises(client.exceptions.ClientError, match="issues no session tokens") as refused:
        client.list_event_buses()
    assert refused.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_a_tampered_body_or_target_breaks_the_signature(endpoint: str,
                                                        credential: Credential) -> None:
    request = AWSRequest(method="POST", url=endpoint, data=b'{"NamePrefix": "a"}', headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LIST_BUSES})
    SigV4Auth(Credentials(credential.access_key_id, credential.secret), "events",
              region()).add_auth(request)
    headers = dict(request.prepare().headers)
    assert httpx.post(endpoint, content=b'{"NamePrefix": "a"}', headers=headers).status_code == 200
    tampered = httpx.post(endpoint, content=b'{"NamePrefix": "b"}', headers=headers)
    assert aws_error(tampered)[1] == "InvalidSignatureException"
    retargeted = httpx.post(endpoint, content=b'{"NamePrefix": "a"}', headers={
        **headers, "X-Amz-Target": "AWSEvents.ListRules"})
    assert aws_error(retargeted)[1] == "InvalidSignatureException"


def test_malformed_authorization_is_incomplete_signature(endpoint: str) -> None:
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": LIST_BUSES,
            "X-Amz-Date": now}
    cases = {
        "Bearer cs_123": "must use the AWS4-HMAC-SHA256 algorithm",
        "AWS4-HMAC-SHA256 Credential=CSAK/20261129/us-east-1/events/aws4_request":
            "requires 'SignedHeaders' parameter",
        "AWS4-HMAC-SHA256 Credential=CSAK, SignedHeaders=host;x-amz-target, Signature=ab":
            "Credential must read ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request",
        "AWS4-HMAC-SHA256 Credential=CSAKAAAAAAAAAAAAAAAA/20261129/us-east-1/events/aws4_request, "
        "SignedHeaders=content-type;x-amz-date, Signature=ab":
            "'host' must be a 'SignedHeader'",
    }
    for authorization, words in cases.items():
        response = httpx.post(endpoint, content=b"{}",
                              headers={**base, "Authorization": authorization})
        status, code, message = aws_error(response)
        assert (status, code) == (400, "IncompleteSignatureException"), message
        assert words in message
    no_date = {key: value for key, value in base.items() if key != "X-Amz-Date"}
    response = httpx.post(endpoint, content=b"{}", headers={**no_date, "Authorization": (
        "AWS4-HMAC-SHA256 Credential=CSAKAAAAAAAAAAAAAAAA/20261129/us-east-1/events/aws4_request, "
        "SignedHeaders=host;x-amz-target, Signature=ab")})
    assert aws_error(response)[1:] == (
        "IncompleteSignatureException",
        "Authorization header requires existence of an 'X-Amz-Date' header.")


def test_the_protocol_itself_is_checked_after_the_signature(endpoint: str,
                                                            credential: Credential) -> None:
    status, code, message = aws_error(signed_post(endpoint, credential, "AWSEvents.PutPermission"))
    assert (status, code) == (400, "UnknownOperationException")
    assert "PutEvents" in message
    status, code, _ = aws_error(signed_post(endpoint, credential, LIST_BUSES,
                                            content_type="application/json"))
    assert (status, code) == (400, "SerializationException")
    status, code, message = aws_error(signed_post(endpoint, credential, LIST_BUSES,
                                                  body=b'{"Limit": NaN}'))
    assert (status, code) == (400, "SerializationException")
    status, code, _ = aws_error(signed_post(endpoint, credential, LIST_BUSES, body=b"[1]"))
    assert code == "SerializationException"
    status, code, message = aws_error(signed_post(
        endpoint, credential, "AWSEvents.PutEvents",
        body=json.dumps({"EndpointId": "abc.123", "Entries": [
            {"Source": "shop", "DetailType": "x", "Detail": "{}"}]}).encode()))
    assert (code, message.startswith("EndpointId is not supported")) == (
        "ValidationException", True)
    status, code, message = aws_error(signed_post(
        endpoint, credential, "AWSEvents.ListRules", body=b'{"Limit": "ten"}'))
    assert (code, message) == ("ValidationException",
                               "Value ten at 'limit' is not valid: expected a whole number.")
    status, code, message = aws_error(signed_post(
        endpoint, credential, "AWSEvents.DescribeRule", body=b"{}"))
    assert (code, message) == ("ValidationException", "1 validation error detected: Value null "
                               "at 'name' failed to satisfy constraint: Member must not be null")
    response = httpx.get(endpoint)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_a_credential_limited_to_some_buses_stays_within_them(client_for: Any) -> None:
    actor = Actor.system("test")
    bus_create(name="payments", actor=actor)
    bus_create(name="audit", actor=actor)
    row, secret = awscredential_create(name="payments-svc", bus_names=["payments"])
    client = client_for(Credential(row.access_key_id, secret))

    assert [bus["Name"] for bus in client.list_event_buses()["EventBuses"]] == ["payments"]
    published = client.put_events(Entries=[
        {"Source": "pay", "DetailType": "x", "Detail": "{}", "EventBusName": "payments"},
        {"Source": "pay", "DetailType": "x", "Detail": "{}"},
    ])
    assert published["FailedEntryCount"] == 1
    assert published["Entries"][1]["ErrorCode"] == "AccessDeniedException"
    client.put_rule(Name="charge", EventBusName="payments", EventPattern='{"source": ["pay"]}')
    for call in (lambda: client.describe_rule(Name="charge"),
                 lambda: client.list_rules(),
                 lambda: client.describe_event_bus(Name="audit"),
                 lambda: client.put_rule(Name="x", EventPattern='{"source": ["pay"]}'),
                 lambda: client.create_event_bus(Name="mine")):
        with pytest.raises(client.exceptions.AccessDeniedException):
            call()
    put = client.put_targets(Rule="charge", EventBusName="payments", Targets=[
        {"Id": "copy", "Arn": f"arn:aws:events:{region()}:000000000000:event-bus/audit"},
        {"Id": "hook", "Arn": "https://hooks.example.com/pay"},
    ])
    assert [(f["TargetId"], f["ErrorCode"]) for f in put["FailedEntries"]] == [
        ("copy", "AccessDeniedException")]
