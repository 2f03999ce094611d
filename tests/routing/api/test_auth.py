"""Who may call the API: API keys (two headers), staff sessions with CSRF, and bus scopes."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from routing.models import ApiKey, Event, EventBus
from routing.services.apikeys import apikey_create, apikey_revoke
from tests.routing.api.conftest import ApiClient, entry

pytestmark = pytest.mark.django_db

PUT = "/api/events"
BODY = {"Entries": [entry()]}


def test_no_credentials_is_401_with_a_json_error_and_a_challenge(anonymous: ApiClient) -> None:
    response = anonymous.post(PUT, BODY)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="coffeeshop"'
    assert response.json()["code"] == "MissingAuthenticationTokenException"
    assert "Authorization: Bearer <key>" in response.json()["message"]
    assert not Event.objects.exists()


@pytest.mark.parametrize("header", [
    {"Authorization": "Bearer cs_0123456789ab_" + "x" * 43},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer"},
    {"X-Api-Key": "not-a-key"},
])
def test_bad_keys_are_401(anonymous: ApiClient, header: dict[str, str]) -> None:
    response = anonymous.post(PUT, BODY, headers=header)
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "UnrecognizedClientException"
    assert body["field"] in {"Authorization", "X-Api-Key"}


def test_both_headers_work_and_must_agree(api_key: str, anonymous: ApiClient) -> None:
    assert anonymous.post(PUT, BODY, headers={"X-Api-Key": api_key}).status_code == 200
    assert anonymous.post(PUT, BODY, headers={"authorization": f"bearer {api_key}"}
                          ).status_code == 200
    both = anonymous.post(PUT, BODY, headers={"Authorization": f"Bearer {api_key}",
                                              "X-Api-Key": api_key + "x"})
    assert both.status_code == 401
    assert "different keys" in both.json()["message"]


def test_a_revoked_key_is_refused(api: ApiClient) -> None:
    assert api.post(PUT, BODY).status_code == 200
    apikey_revoke(name="till-1")
    response = api.post(PUT, BODY)
    assert response.status_code == 401
    assert response.json()["message"] == "The API key is not valid or has been revoked."


def test_events_published_with_a_key_name_it_and_mark_it_used(api: ApiClient) -> None:
    response = api.post(PUT, BODY)
    [result] = response.json()["Entries"]
    assert Event.objects.get(pk=result["EventId"]).published_by == "api-key:till-1"
    assert ApiKey.objects.get(name="till-1").last_used_at is not None


def test_a_key_is_not_a_session_so_no_csrf_token_is_needed(api_key: str) -> None:
    client = ApiClient(api_key)
    client.client = Client(enforce_csrf_checks=True)
    assert client.post(PUT, BODY).status_code == 200


@pytest.fixture
def staff(db: None) -> User:
    return User.objects.create_user("barista", password="pw", is_staff=True)


def test_a_staff_session_must_pass_the_csrf_check(staff: User, default_bus: EventBus) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    refused = client.post(PUT, json.dumps(BODY), content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "CsrfCheckFailed"
    assert not Event.objects.exists()

    client.get("/api/docs")  # any page that renders {% csrf_token %} hands out the cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(PUT, json.dumps(BODY), content_type="application/json",
                           headers={"X-CSRFToken": token})
    assert accepted.status_code == 200, accepted.content
    [result] = accepted.json()["Entries"]
    assert Event.objects.get(pk=result["EventId"]).published_by == "user:barista"
    # Reads need no token.
    assert client.get(f"/api/events/{result['EventId']}").status_code == 200


def test_a_logged_in_user_who_is_not_staff_is_403(default_bus: EventBus) -> None:
    client = Client()
    client.force_login(User.objects.create_user("customer", password="pw"))
    response = client.post(PUT, json.dumps(BODY), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDeniedException"


def test_a_scoped_key_publishes_only_to_its_buses(other_bus: EventBus) -> None:
    _, raw = apikey_create(name="payments-only", bus_names=["payments"])
    client = ApiClient(raw)
    response = client.post(PUT, {"Entries": [
        entry(EventBusName="payments"),
        entry(),  # the default bus
        entry(EventBusName="arn:aws:events:us-east-1:000000000000:event-bus/payments"),
    ]})
    assert response.status_code == 200
    body = response.json()
    assert body["FailedEntryCount"] == 1
    assert "EventId" in body["Entries"][0]
    assert body["Entries"][1] == {
        "ErrorCode": "AccessDeniedException",
        "ErrorMessage": "This caller may not publish to event bus default.",
    }
    assert "EventId" in body["Entries"][2]
    assert set(Event.objects.values_list("bus__name", flat=True)) == {"payments"}

    # Nor may it read the trace of an event on another bus.
    unscoped = ApiClient(apikey_create(name="all")[1])
    [other] = unscoped.post(PUT, BODY).json()["Entries"]
    denied = client.get(f"/api/events/{other['EventId']}")
    assert denied.status_code == 403
    assert denied.json()["message"] == "This API key may not read events on event bus default."


def test_docs_and_description_are_public(anonymous: ApiClient) -> None:
    assert anonymous.get("/api/docs").status_code == 200
    assert anonymous.get("/api/openapi.json").status_code == 200


def test_a_session_callers_form_body_is_refused_in_the_error_shape(staff: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    form = "application/x-www-form-urlencoded"
    client.get("/api/docs")  # the CSRF cookie: without it the check needs not read the body
    token = client.cookies["csrftoken"].value
    # The CSRF check reads a form body for its token, under Django's own limits.
    too_big = client.post(PUT, "a=" + "x" * 3_000_000, content_type=form)
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "RequestEntityTooLarge"
    too_many = client.post(PUT, "&".join(f"f{n}=1" for n in range(1500)), content_type=form)
    assert too_many.status_code == 400
    assert too_many.json()["field"] == "body"
    # A form that passes the CSRF check still is not JSON.
    not_json = client.post(PUT, f"csrfmiddlewaretoken={token}&Entries=1", content_type=form)
    assert not_json.status_code == 415
