"""The rule editor's JSON endpoints and the reads behind them: validation with the engine's
message and where the problem is, the sandbox, the impact preview (exact counts and examples on
seeded events, in a fixed number of queries), and the target preview (exactly what
render_target_input gives)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from routing.dashboard.rules.pattern_text import TextPosition, locate_pattern_error
from routing.models import Rule
from routing.patterns import InvalidPatternError, compile_pattern
from routing.selectors.rules import pattern_impact, pattern_summary
from routing.services import Actor, TargetSpec, targets_put
from routing.timestamps import utc_timestamp
from routing.transform.rendering import render_target_input
from routing.transform.target_input import InputTransformer, TargetInput
from tests.routing.dashboard.test_rules_support import (
    BUS,
    CURRENT,
    PROPOSED,
    SOURCE,
    client_for,
    make_bus,
    make_event,
    make_rule,
    make_user,
    seed_numbered_events,
)

pytestmark = pytest.mark.django_db

BAD_NUMERIC = '{\n  "source": ["x"],\n  "detail": {\n    "price": [{"numeric": 5}]\n  }\n}'
NUMERIC_MESSAGE = "Event pattern is not valid. Reason: Value of numeric must be an array."


@pytest.fixture
def client() -> Client:
    return client_for(make_user("ops"))


def post(client: Client, name: str, data: dict[str, Any], *args: Any) -> Any:
    return client.post(reverse(f"dashboard-rules:{name}", args=args), data)


# Validation as you type -----------------------------------------------------------------------

def test_a_valid_pattern_is_valid(client: Client) -> None:
    response = post(client, "check-pattern", {"event_pattern": json.dumps(PROPOSED)})
    assert (response.status_code, response.json()) == (200, {"valid": True})


def test_an_invalid_pattern_gets_the_engines_message_its_path_and_its_line(
    client: Client
) -> None:
    response = post(client, "check-pattern", {"event_pattern": BAD_NUMERIC})
    assert response.status_code == 400
    assert response.json() == {
        "valid": False,
        "code": "InvalidEventPatternException",
        "message": NUMERIC_MESSAGE,
        "field": "detail.price",
        "position": {"line": 4, "column": 5, "length": 7},
    }


def test_a_syntax_error_has_no_path_but_a_line(client: Client) -> None:
    response = post(client, "check-pattern", {"event_pattern": '{\n  "source": ["a",\n}'})
    body = response.json()
    assert response.status_code == 400
    assert body["message"].startswith("Event pattern is not valid. Reason: Unexpected close marker")
    assert "field" not in body
    assert body["position"] == {"line": 3, "column": 1, "length": 1}


def test_a_whole_pattern_problem_has_neither_path_nor_line(client: Client) -> None:
    body = post(client, "check-pattern", {"event_pattern": "{}"}).json()
    assert body == {"valid": False, "code": "InvalidEventPatternException",
                    "message": "Event pattern is not valid. Reason: Empty objects are not allowed",
                    "position": None}


def test_an_empty_editor_is_asked_for_a_pattern(client: Client) -> None:
    response = post(client, "check-pattern", {"event_pattern": "  "})
    assert response.status_code == 400
    assert response.json() == {"code": "ValidationException", "field": "event_pattern",
                               "message": "Write an event pattern (a JSON object)."}


def test_the_checks_take_post_only(client: Client) -> None:
    response = client.get(reverse("dashboard-rules:check-pattern"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(("text", "expected"), [
    ('{"detail": {"price": [{"numeric": 5}]}}', TextPosition(1, 13, 7)),
    ('{"a": {"$or": [{"b": [1]},\n {"c": {"d": [{"prefixx": "x"}]}}]}}', TextPosition(2, 9, 3)),
    ('{"$or": [{"a": [1]}, 5]}', TextPosition(1, 22, 1)),
    ('{"detail": {"state.status": [{"numeric": 1}]}}', TextPosition(1, 13, 14)),
    # Duplicate keys: the engine keeps the last one, so the mark goes there.
    ('{"a": ["ok"],\n "a": [{"numeric": 1}]}', TextPosition(2, 2, 3)),
    # Keys inside match expressions are not locations: the field holding them is marked.
    ('{"x": [{"a": {"b": 1}}]}', TextPosition(1, 2, 3)),
    ('{"a": [1]} x', TextPosition(1, 12, 1)),
])
def test_locating_the_engines_complaint_in_the_text(text: str, expected: TextPosition) -> None:
    with pytest.raises(InvalidPatternError) as caught:
        compile_pattern(text)
    assert locate_pattern_error(text, caught.value.path) == expected


# Sandbox --------------------------------------------------------------------------------------

def envelope_text(**detail: Any) -> str:
    return json.dumps({
        "version": "0", "id": "e1", "detail-type": "OrderManager.WaitingCompletion",
        "source": SOURCE, "account": "000000000000", "time": "2024-11-29T09:41:07Z",
        "region": "us-east-1", "resources": [], "detail": detail,
    })


@pytest.mark.parametrize(("n", "matched"), [(7, True), (3, False), ("7", False)])
def test_the_sandbox_tests_the_unsaved_pattern_on_a_sample(
    client: Client, n: Any, matched: bool
) -> None:
    response = post(client, "sandbox", {"event_pattern": json.dumps(PROPOSED),
                                        "event_source": "sample",
                                        "sample_event": envelope_text(n=n)})
    assert response.status_code == 200
    body = response.json()
    assert (body["matched"], body["event_id"], body["event"]["detail"]) == (matched, None,
                                                                            {"n": n})


def test_the_sandbox_tests_a_stored_event_picked_by_id(client: Client) -> None:
    event = make_event(make_bus(), n=12)
    body = post(client, "sandbox", {"event_pattern": json.dumps(PROPOSED),
                                    "event_source": "stored", "event_id": str(event.pk),
                                    "sample_event": "ignored"}).json()
    assert body == {"matched": True, "event_id": str(event.pk),
                    "event_url": f"/dashboard/events/{event.pk}/", "event": event.envelope()}
    body = post(client, "sandbox", {"event_pattern": json.dumps(CURRENT),
                                    "event_source": "stored", "event_id": str(event.pk)}).json()
    assert body["matched"] is False


@pytest.mark.parametrize(("data", "status", "field", "message"), [
    ({"event_source": "sample", "sample_event": '{"source": "x"}'}, 400, "sample_event",
     "Parameter Event is not valid. Reason: missing id, account, time, region, detail-type."),
    ({"event_source": "sample", "sample_event": "{nope"}, 400, "sample_event",
     "Parameter Event is not valid."),
    ({"event_source": "stored", "event_id": "12345678-1234-5678-1234-567812345678"}, 404,
     "event_id", "Event 12345678-1234-5678-1234-567812345678 does not exist."),
    ({"event_source": "stored", "event_id": "abc"}, 404, "event_id", "not an event id"),
    ({"event_source": "stored", "event_id": ""}, 400, "event_id", "Choose a stored event"),
])
def test_the_sandbox_says_what_is_wrong_with_the_event(
    client: Client, data: dict[str, str], status: int, field: str, message: str
) -> None:
    response = post(client, "sandbox", {"event_pattern": json.dumps(PROPOSED), **data})
    assert response.status_code == status
    assert response.json()["field"] == field
    assert message in response.json()["message"]


def test_the_sandbox_refuses_an_invalid_pattern_with_its_position(client: Client) -> None:
    response = post(client, "sandbox", {"event_pattern": BAD_NUMERIC, "event_source": "sample",
                                        "sample_event": envelope_text()})
    assert response.status_code == 400
    assert response.json()["valid"] is False
    assert response.json()["position"]["line"] == 4


# Impact preview -------------------------------------------------------------------------------

@pytest.fixture
def seeded() -> tuple[Rule, list[Any]]:
    bus = make_bus()
    rule = make_rule(bus)
    events = seed_numbered_events(bus)  # n = 0..29, n = 29 newest
    make_event(make_bus("elsewhere"), n=12)  # another bus's events are never counted
    return rule, events


def test_impact_counts_both_patterns_and_the_differences_exactly(
    client: Client, seeded: tuple[Rule, list[Any]], django_assert_max_num_queries: Any
) -> None:
    rule, events = seeded
    by_n = {event.detail["n"]: event for event in events}
    with django_assert_max_num_queries(6):
        response = post(client, "impact", {"event_pattern": json.dumps(PROPOSED),
                                           "rule": str(rule.pk), "limit": "100"})
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("bus", "has_current", "limit", "scanned",
                                       "current_matches", "proposed_matches", "both")} == {
        "bus": BUS, "has_current": True, "limit": 100, "scanned": 30,
        "current_matches": 10, "proposed_matches": 15, "both": 5,
    }
    assert body["newly_matched"]["count"] == 10
    assert body["no_longer_matched"]["count"] == 5
    # Examples are the newest of each difference, linked to the event page.
    assert [e["id"] for e in body["newly_matched"]["examples"]] == [
        str(by_n[n].pk) for n in (19, 18, 17, 16, 15)]
    assert [e["id"] for e in body["no_longer_matched"]["examples"]] == [
        str(by_n[n].pk) for n in (4, 3, 2, 1, 0)]
    example = body["newly_matched"]["examples"][0]
    assert example == {"id": str(by_n[19].pk), "source": SOURCE,
                       "detail_type": "OrderManager.WaitingCompletion",
                       "time": by_n[19].envelope()["time"],
                       "url": f"/dashboard/events/{by_n[19].pk}/"}


def test_impact_only_reads_the_last_n_events(seeded: tuple[Rule, list[Any]]) -> None:
    rule, _ = seeded
    impact = pattern_impact(bus=rule.bus, current=compile_pattern(CURRENT),
                            proposed=compile_pattern(PROPOSED), limit=12)
    # The 12 newest are n = 18..29: the proposed pattern matches 18 and 19, the current none.
    assert (impact.scanned, impact.current_matches, impact.proposed_matches) == (12, 0, 2)
    assert impact.newly_matched.count == 2
    assert impact.no_longer_matched.count == 0


def test_impact_of_a_rule_not_saved_yet_counts_the_new_pattern_only(
    client: Client, seeded: tuple[Rule, list[Any]]
) -> None:
    body = post(client, "impact", {"event_pattern": json.dumps(PROPOSED), "bus": BUS,
                                   "limit": "1000"}).json()
    assert (body["has_current"], body["current_matches"], body["proposed_matches"],
            body["newly_matched"]["count"], body["no_longer_matched"]["count"]) == (
        False, 0, 15, 15, 0)


@pytest.mark.parametrize(("data", "status", "field"), [
    ({"limit": "10"}, 400, "limit"),
    ({"limit": "many"}, 400, "limit"),
    ({"rule": "999999"}, 404, "Rule"),
    ({"rule": "", "bus": "nope"}, 404, "EventBusName"),
])
def test_impact_refuses_bad_input(
    client: Client, seeded: tuple[Rule, list[Any]], data: dict[str, str], status: int,
    field: str
) -> None:
    rule, _ = seeded
    response = post(client, "impact", {"event_pattern": json.dumps(PROPOSED),
                                       "rule": str(rule.pk), **data})
    assert response.status_code == status
    assert response.json()["field"] == field


# Target preview -------------------------------------------------------------------------------

TRANSFORMER = {"InputPathsMap": {"n": "$.detail.n", "shop": "$.detail.shopId"},
               "InputTemplate": '{"number": <n>, "at": "<shop>", "rule": <aws.events.rule-name>, '
                                '"arn": "<aws.events.rule-arn>", '
                                '"seen": "<aws.events.event.ingestion-time>"}'}


def preview_form(prefix: str = "new", **values: Any) -> dict[str, Any]:
    data = {"target_id": "t9", "kind": "channels", "address": "shop.{detail.shopId}",
            "webhook_timeout_seconds": "5", "input_mode": "input_transformer",
            "input_transformer": json.dumps(TRANSFORMER), "max_retry_attempts": "185",
            "max_event_age_seconds": "86400", **values}
    return {"prefix": prefix, **{f"{prefix}-{key}": value for key, value in data.items()}}


def test_the_target_preview_is_exactly_what_render_target_input_gives(client: Client) -> None:
    bus = make_bus()
    rule = make_rule(bus)
    event = make_event(bus, n=7)
    response = post(client, "target-preview", {**preview_form(), "event_source": "stored",
                                               "event_id": str(event.pk)}, rule.pk)
    assert response.status_code == 200
    body = response.json()
    seen = utc_timestamp(event.ingested_at, timespec="seconds")
    expected = render_target_input(
        event.envelope(), TargetInput.from_aws({"InputTransformer": TRANSFORMER}),
        rule_arn=rule.arn, rule_name=rule.name, ingestion_time=seen,
    )
    assert body["body"] == expected
    assert json.loads(body["body"]) == {"number": 7, "at": "main", "rule": "Numbers",
                                        "arn": rule.arn, "seen": seen}
    assert body["pretty"] == json.dumps(json.loads(expected), indent=2)
    assert (body["event_id"], body["channels_group"]) == (str(event.pk), "shop.main")


def test_the_preview_of_a_saved_target_uses_its_form_as_edited(client: Client) -> None:
    bus = make_bus()
    rule = make_rule(bus)
    targets_put(rule=rule, actor=Actor.system("test"), targets=[TargetSpec(
        target_id="t1", kind="channels", address="shop.{detail.shopId}",
        target_input=TargetInput(input_transformer=InputTransformer(input_template="<n>",
                                                                    input_paths_map={"n": "$"})),
    )])
    sample = json.loads(envelope_text(n=3, shopId="main"))
    data = {**preview_form("t-t1", input_mode="input_path", input_path="$.detail"),
            "event_source": "sample", "sample_event": json.dumps(sample)}
    body = post(client, "target-preview", data, rule.pk).json()
    assert body["body"] == '{"n":3,"shopId":"main"}'
    whole = post(client, "target-preview", {**data, "t-t1-input_mode": "event"}, rule.pk).json()
    assert json.loads(whole["body"]) == sample


def test_a_bad_input_is_named_on_its_field(client: Client) -> None:
    rule = make_rule(make_bus())
    response = post(client, "target-preview", {
        **preview_form(input_mode="input_path", input_path="$..x"),
        "event_source": "sample", "sample_event": envelope_text(n=1),
    }, rule.pk)
    assert response.status_code == 400
    body = response.json()
    assert (body["field"], body["html_field"]) == ("input_path", "new-input_path")
    assert "$..x" in body["message"]
    unknown = post(client, "target-preview", {**preview_form("t-ghost"), "event_source": "sample",
                                              "sample_event": envelope_text()}, rule.pk)
    assert unknown.status_code == 404


# Pattern summaries ----------------------------------------------------------------------------

def test_pattern_summaries_are_short_and_readable() -> None:
    assert pattern_summary({
        "source": ["awsserverlessda.serverlesspresso"],
        "detail-type": [{"prefix": "OrderManager."}, {"prefix": "OrderProcessor."},
                        {"prefix": "Validator."}, {"prefix": "ConfigService."}],
    }) == ["source: awsserverlessda.serverlesspresso",
           "detail-type: prefix OrderManager. | prefix OrderProcessor. | prefix Validator. (+1)"]
    assert pattern_summary({"detail": {"orderId": [{"exists": True}],
                                       "n": [{"numeric": [">", 3]}]},
                            "$or": [{"a": [1]}, {"b": [2]}]}) == [
        "detail.orderId: exists true", "detail.n: numeric > 3", "$or: any of 2 alternatives"]
    many = {f"k{i}": [i] for i in range(6)}
    assert pattern_summary(many) == ["k0: 0", "k1: 1", "k2: 2", "+3 more fields"]
