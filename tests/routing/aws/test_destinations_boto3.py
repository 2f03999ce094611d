"""Connections and API destinations through boto3 against the real ASGI server: every action
round-trips in botocore's shapes, secrets never come back (and are not stored in clear), states
are EventBridge's, and an API destination is a PutTargets target with HttpParameters."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from routing.aws.actions.destinations import ACTIONS as DESTINATION_ACTIONS
from routing.models import ACCOUNT_ID, Connection, region
from tests.routing.aws import shape_check
from tests.routing.aws.conftest import Recorder
from tests.support.webhook_server import Reply, WebhookServer

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECRETS = ("s3cr3t-password", "key-value-123", "client-secret-xyz", "secret-header-value")


@pytest.fixture
def token_server() -> Iterator[WebhookServer]:
    server = WebhookServer().start()
    server.responder = lambda request: Reply(200, json.dumps(
        {"access_token": "token-1", "token_type": "Bearer", "expires_in": 3600}).encode(),
        {"Content-Type": "application/json"})
    yield server
    server.stop()


def _shape_problems(recorder: Recorder) -> list[str]:
    return [problem for response in recorder.responses
            for problem in shape_check.response_errors(response.operation, response.status,
                                                       response.body)]


def _wait_for(condition: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_every_connection_and_api_destination_action_round_trips(
    events: Any, recorder: Recorder, token_server: WebhookServer, celery_worker: Any,
    webhook_server: WebhookServer,
) -> None:
    arn_prefix = f"arn:aws:events:{region()}:{ACCOUNT_ID}:"
    basic = events.create_connection(
        Name="till-basic", Description="The till's API", AuthorizationType="BASIC",
        AuthParameters={
            "BasicAuthParameters": {"Username": "till", "Password": SECRETS[0]},
            "InvocationHttpParameters": {"HeaderParameters": [
                {"Key": "X-Shop", "Value": "north", "IsValueSecret": False},
                {"Key": "X-Hidden", "Value": SECRETS[3], "IsValueSecret": True},
            ]},
        })
    assert basic["ConnectionArn"].startswith(arn_prefix + "connection/till-basic/")
    assert basic["ConnectionState"] == "AUTHORIZED"
    events.create_connection(Name="till-key", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "X-Api-Key", "ApiKeyValue": SECRETS[1]}})
    oauth = events.create_connection(
        Name="till-oauth", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters={
            "OAuthParameters": {
                "ClientParameters": {"ClientID": "shop", "ClientSecret": SECRETS[2]},
                "AuthorizationEndpoint": f"{token_server.url}/oauth/token",
                "HttpMethod": "POST",
                "OAuthHttpParameters": {"BodyParameters": [
                    {"Key": "scope", "Value": "orders:write", "IsValueSecret": False}]},
            }})
    assert oauth["ConnectionState"] == "AUTHORIZING"
    # The worker fetches the first token: AUTHORIZED, with LastAuthorizedTime.
    _wait_for(lambda: events.describe_connection(Name="till-oauth")["ConnectionState"]
              == "AUTHORIZED")
    [token_request] = token_server.received("/oauth/token")
    assert b"grant_type=client_credentials" in token_request.body
    assert b"scope=orders%3Awrite" in token_request.body
    assert token_request.headers["authorization"].startswith("Basic ")

    described = events.describe_connection(Name="till-basic")
    assert described["AuthorizationType"] == "BASIC"
    assert described["Description"] == "The till's API"
    assert described["AuthParameters"]["BasicAuthParameters"] == {"Username": "till"}
    assert described["AuthParameters"]["InvocationHttpParameters"]["HeaderParameters"] == [
        {"Key": "X-Shop", "Value": "north", "IsValueSecret": False},
        {"Key": "X-Hidden", "IsValueSecret": True},
    ]
    oauth_described = events.describe_connection(Name="till-oauth")
    assert oauth_described["AuthParameters"]["OAuthParameters"]["ClientParameters"] == {
        "ClientID": "shop"}
    assert "LastAuthorizedTime" in oauth_described
    listed = events.list_connections(NamePrefix="till-", Limit=2)
    assert [c["Name"] for c in listed["Connections"]] == ["till-basic", "till-key"]
    rest = events.list_connections(NamePrefix="till-", NextToken=listed["NextToken"])
    assert [c["Name"] for c in rest["Connections"]] == ["till-oauth"]
    assert [c["Name"] for c in events.list_connections(
        ConnectionState="AUTHORIZED")["Connections"]] == ["till-basic", "till-key", "till-oauth"]

    updated = events.update_connection(Name="till-key", Description="rotated", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyValue": SECRETS[1] + "-2"}})
    assert updated["ConnectionState"] == "AUTHORIZED"
    assert events.describe_connection(Name="till-key")["AuthParameters"][
        "ApiKeyAuthParameters"] == {"ApiKeyName": "X-Api-Key"}

    # API destinations.
    created = events.create_api_destination(
        Name="till-orders", ConnectionArn=basic["ConnectionArn"],
        InvocationEndpoint=f"{webhook_server.url}/shops/*/orders", HttpMethod="POST",
        InvocationRateLimitPerSecond=10, Description="Orders to the till")
    assert created["ApiDestinationArn"].startswith(arn_prefix + "api-destination/till-orders/")
    assert created["ApiDestinationState"] == "ACTIVE"
    destination = events.describe_api_destination(Name="till-orders")
    assert (destination["ConnectionArn"], destination["HttpMethod"],
            destination["InvocationRateLimitPerSecond"], destination["Description"]) == (
        basic["ConnectionArn"], "POST", 10, "Orders to the till")
    events.update_api_destination(Name="till-orders", InvocationRateLimitPerSecond=20)
    assert events.describe_api_destination(Name="till-orders")[
        "InvocationRateLimitPerSecond"] == 20
    events.create_api_destination(Name="scratch", ConnectionArn=oauth["ConnectionArn"],
                                  InvocationEndpoint="https://api.example.com/x",
                                  HttpMethod="PUT")
    assert [d["Name"] for d in events.list_api_destinations(
        ConnectionArn=basic["ConnectionArn"])["ApiDestinations"]] == ["till-orders"]
    assert events.describe_api_destination(Name="scratch")["InvocationRateLimitPerSecond"] == 300

    # A target: the path wildcard from the event, a header and a query parameter.
    events.put_rule(Name="to-till", EventPattern=json.dumps({"source": ["coffee.till"]}))
    put = events.put_targets(Rule="to-till", Targets=[{
        "Id": "till", "Arn": created["ApiDestinationArn"],
        "HttpParameters": {"PathParameterValues": ["$.detail.shop"],
                           "HeaderParameters": {"X-Order": "$.detail.orderId"},
                           "QueryStringParameters": {"source": "bus"}},
        "InputTransformer": {"InputPathsMap": {"order": "$.detail.orderId"},
                             "InputTemplate": '{"order": <order>}'},
    }])
    assert put["FailedEntryCount"] == 0
    [listed_target] = events.list_targets_by_rule(Rule="to-till")["Targets"]
    assert listed_target["Arn"] == created["ApiDestinationArn"]
    assert listed_target["HttpParameters"]["PathParameterValues"] == ["$.detail.shop"]
    events.put_events(Entries=[{"Source": "coffee.till", "DetailType": "Order",
                                "Detail": json.dumps({"shop": "north 1", "orderId": "o-9"})}])
    [request] = webhook_server.wait_for(1)
    assert request.path == "/shops/north%201/orders?source=bus"
    assert json.loads(request.body) == {"order": "o-9"}
    assert request.headers["x-order"] == "o-9"
    assert request.headers["x-shop"] == "north"
    assert request.headers["x-hidden"] == SECRETS[3]
    assert request.headers["authorization"] == "Basic dGlsbDpzM2NyM3QtcGFzc3dvcmQ="

    # Deauthorizing removes the secrets; a used connection cannot be deleted.
    deauthorized = events.deauthorize_connection(Name="till-key")
    assert deauthorized["ConnectionState"] == "DEAUTHORIZED"
    assert events.describe_connection(Name="till-key")["ConnectionState"] == "DEAUTHORIZED"
    with pytest.raises(events.exceptions.ClientError, match="used by API destination") as used:
        events.delete_connection(Name="till-basic")
    assert used.value.response["Error"]["Code"] == "ValidationException"
    events.delete_api_destination(Name="scratch")
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_api_destination(Name="scratch")
    deleted = events.delete_connection(Name="till-oauth")
    assert deleted["ConnectionState"] == "DELETING"
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.describe_connection(Name="till-oauth")

    exercised = {response.operation for response in recorder.responses}
    assert set(DESTINATION_ACTIONS) <= exercised, set(DESTINATION_ACTIONS) - exercised
    assert not _shape_problems(recorder), "\n".join(_shape_problems(recorder))
    # No secret in any answer, nor in clear in the database.
    answers = json.dumps([response.body for response in recorder.responses])
    stored = json.dumps(list(Connection.objects.values()), default=str)
    for secret in SECRETS:
        assert secret not in answers
        assert secret not in stored


def test_bad_input_is_refused_in_eventbridges_terms(events: Any, recorder: Recorder) -> None:
    with pytest.raises(events.exceptions.ClientError, match="takes AuthParameters"):
        events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    with pytest.raises(events.exceptions.ClientError, match="characters that are not allowed"):
        events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters={
            "BasicAuthParameters": {"Username": "u:1", "Password": "p"}})
    with pytest.raises(events.exceptions.ClientError, match="regular expression pattern"):
        events.create_connection(Name="bad name", AuthorizationType="API_KEY", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    with pytest.raises(events.exceptions.ResourceAlreadyExistsException):
        events.create_connection(Name="c", AuthorizationType="API_KEY", AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
    with pytest.raises(events.exceptions.ResourceNotFoundException):
        events.create_api_destination(Name="d", ConnectionArn="nope",
                                      InvocationEndpoint="https://a.example.com",
                                      HttpMethod="POST")
    with pytest.raises(events.exceptions.ClientError, match="between 1 and 300"):
        events.create_api_destination(Name="d", ConnectionArn="c",
                                      InvocationEndpoint="https://a.example.com",
                                      HttpMethod="POST", InvocationRateLimitPerSecond=301)
    with pytest.raises(events.exceptions.ClientError, match="HttpMethod must be one of"):
        events.create_api_destination(Name="d", ConnectionArn="c",
                                      InvocationEndpoint="https://a.example.com",
                                      HttpMethod="BREW")
    events.create_api_destination(Name="d", ConnectionArn="c", HttpMethod="POST",
                                  InvocationEndpoint="https://a.example.com/*")
    events.put_rule(Name="r", EventPattern='{"source": ["x"]}')
    arn = events.describe_api_destination(Name="d")["ApiDestinationArn"]
    failed = events.put_targets(Rule="r", Targets=[{"Id": "t", "Arn": arn}])
    assert failed["FailedEntryCount"] == 1
    assert "PathParameterValues gives 0" in failed["FailedEntries"][0]["ErrorMessage"]
    webhook = events.put_targets(Rule="r", Targets=[{
        "Id": "w", "Arn": "https://hooks.example.com/x",
        "HttpParameters": {"HeaderParameters": {"a": "b"}}}])
    assert "for API destination targets only" in webhook["FailedEntries"][0]["ErrorMessage"]
    assert not _shape_problems(recorder), "\n".join(_shape_problems(recorder))
