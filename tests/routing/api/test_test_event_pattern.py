"""POST /api/test-event-pattern: TestEventPattern, checked against the AWS-recorded corpus."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.routing.api.conftest import ApiClient
from tests.routing.patterns.corpus import load_cases

pytestmark = pytest.mark.django_db

TEST = "/api/test-event-pattern"
ENVELOPE = {
    "id": "e-1", "account": "000000000000", "source": "coffee", "time": "2026-11-29T09:30:00Z",
    "region": "us-east-1", "detail-type": "Order", "resources": [], "detail": {"price": 4.5},
}
ENVELOPE_FIELDS = ("id", "account", "source", "time", "region", "detail-type")


@pytest.mark.parametrize("as_text", [False, True], ids=["objects", "text"])
def test_match_and_no_match(api: ApiClient, as_text: bool) -> None:
    def shape(value: Any) -> Any:
        return json.dumps(value) if as_text else value

    for price, expected in ((4.5, True), (2, False)):
        event = {**ENVELOPE, "detail": {"price": price}}
        response = api.post(TEST, {
            "EventPattern": shape({"source": ["coffee"],
                                   "detail": {"price": [{"numeric": [">", 3]}]}}),
            "Event": shape(event),
        })
        assert response.status_code == 200
        assert response.json() == {"Result": expected}


def test_a_bad_pattern_is_invalid_event_pattern_exception_naming_where(api: ApiClient) -> None:
    response = api.post(TEST, {"EventPattern": {"detail": {"price": [{"numeric": [">", "x"]}]}},
                               "Event": ENVELOPE})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidEventPatternException"
    assert body["message"].startswith("Event pattern is not valid. Reason: ")
    assert body["field"] == "EventPattern.detail.price"


@pytest.mark.parametrize("pattern", ["{", "[]", "null", "1", [], 1, True, {"source": "coffee"}])
def test_patterns_that_are_not_patterns(api: ApiClient, pattern: Any) -> None:
    response = api.post(TEST, {"EventPattern": pattern, "Event": ENVELOPE})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidEventPatternException"
    assert response.json()["field"].startswith("EventPattern")


@pytest.mark.parametrize("event", [
    "plain string", "[]", '"text"', "{", ["plain string"], 1, True, {"testEvent": "value"},
    {key: value for key, value in ENVELOPE.items() if key != "region"},
])
def test_events_that_are_not_envelopes(api: ApiClient, event: Any) -> None:
    response = api.post(TEST, {"EventPattern": {"source": ["coffee"]}, "Event": event})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "ValidationException"
    assert body["message"].startswith("Parameter Event is not valid.")
    assert body["field"] == "Event"


def test_the_message_says_what_the_event_lacks(api: ApiClient) -> None:
    response = api.post(TEST, {"EventPattern": {"source": ["coffee"]},
                               "Event": {"source": "coffee"}})
    assert response.json()["message"] == (
        "Parameter Event is not valid. Reason: missing id, account, time, region, detail-type."
    )


@pytest.mark.parametrize("body", [
    {}, {"EventPattern": {"source": ["x"]}}, {"Event": ENVELOPE},
    {"EventPattern": None, "Event": ENVELOPE},
])
def test_both_members_are_required(api: ApiClient, body: dict[str, Any]) -> None:
    response = api.post(TEST, body)
    assert response.status_code == 400
    assert response.json()["field"] in {"EventPattern", "Event"}
    assert response.json()["message"].endswith("is a required argument.")


def test_deep_events_and_patterns_are_answered_not_crashed(api: ApiClient) -> None:
    deep: Any = "x"
    for _ in range(700):
        deep = {"a": deep}
    response = api.post(TEST, {"EventPattern": {"detail": {"a": {"a": ["x"]}}},
                               "Event": {**ENVELOPE, "detail": deep}})
    assert response.status_code == 200
    assert response.json() == {"Result": False}
    response = api.post(TEST, {"EventPattern": deep, "Event": ENVELOPE})
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidEventPatternException"


def test_any_authenticated_caller_may_test_patterns_even_a_scoped_key(other_bus: Any) -> None:
    from routing.services.apikeys import apikey_create

    client = ApiClient(apikey_create(name="scoped", bus_names=["payments"])[1])
    response = client.post(TEST, {"EventPattern": {"source": ["coffee"]}, "Event": ENVELOPE})
    assert response.json() == {"Result": True}
    assert ApiClient(None).post(TEST, {"EventPattern": {}, "Event": {}}).status_code == 401


def test_the_invalid_event_cases_recorded_against_aws(api: ApiClient) -> None:
    cases = load_cases("cases_api_validation.jsonl")
    assert cases
    for case in cases:
        event = case["event"] if case.get("raw_event") else json.dumps(case["event"])
        response = api.post(TEST, {"EventPattern": case["pattern"], "Event": event})
        assert response.status_code == 400, case["id"]
        assert response.json()["code"] == case["aws_error_code"]
        assert response.json()["message"].startswith(case["aws_error"])


def _aws_recorded_cases() -> list[dict[str, Any]]:
    return [
        case for case in load_cases()
        if case.get("verified_against_aws")
        and isinstance(case["event"], dict)
        and all(name in case["event"] for name in ENVELOPE_FIELDS)
    ]


def test_every_aws_recorded_case_through_the_api(api: ApiClient) -> None:
    cases = _aws_recorded_cases()
    assert len(cases) > 150
    wrong = []
    for case in cases:
        response = api.post(TEST, {"EventPattern": case["pattern"],
                                   "Event": json.dumps(case["event"])})
        if case["expect"] == "invalid":
            got = response.json().get("code") if response.status_code == 400 else "no error"
            ok = got == "InvalidEventPatternException" and (
                "aws_error" not in case or response.json()["message"] == case["aws_error"]
            )
        else:
            ok = response.status_code == 200 and response.json()["Result"] == (
                case["expect"] == "match"
            )
        if not ok:
            wrong.append((case["id"], response.status_code, response.content[:200]))
    assert not wrong
