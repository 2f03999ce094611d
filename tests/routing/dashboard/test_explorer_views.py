"""The explorer's pages: staff only, filters and keyset pages through HTTP, the event page's
trace and redrive, the deliveries page's redrive and progress endpoints, metrics, topology,
archives and replays."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from routing.models import (
    Archive,
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
    Event,
    EventBus,
    Replay,
    ReplayState,
)
from routing.services import Actor, archive_create
from tests.routing.dashboard.test_explorer_support import (
    make_delivery,
    make_event,
    make_events,
    make_rule_with_target,
    make_user,
    staff_client,
)

pytestmark = pytest.mark.django_db

PAGES = ["/dashboard/", "/dashboard/events/", "/dashboard/deliveries/", "/dashboard/metrics/",
         "/dashboard/topology/", "/dashboard/archives/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_for_staff_only(path: str, default_bus: EventBus) -> None:
    anonymous = Client().get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")

    customer = Client()
    customer.force_login(make_user("customer", staff=False))
    assert customer.get(path).status_code == 403

    page = staff_client().get(path)
    assert page.status_code == 200
    assert b"<h1>" in page.content


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/dashboard/deliveries/redrive/"),
    ("post", "/dashboard/deliveries/progress/"),
    ("get", "/dashboard/deliveries/selection/"),
    ("get", "/dashboard/archives/replays/status/"),
])
def test_json_endpoints_answer_json_refusals(method: str, path: str) -> None:
    anonymous = getattr(Client(), method)(path)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "NotAuthenticated"
    customer = Client()
    customer.force_login(make_user("customer", staff=False))
    assert getattr(customer, method)(path).status_code == 403


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-event-id="([0-9a-f-]+)"', html)


def test_events_page_pages_by_keyset_and_filters(default_bus: EventBus) -> None:
    events = make_events(default_bus, 60, source="shop")
    newest_first = [str(e.pk) for e in reversed(events)]
    client = staff_client()

    first = client.get("/dashboard/events/").content.decode()
    assert rows_of(first) == newest_first[:50]
    assert 'data-tail-path="/ws/dashboard/events/"' in first  # the newest page is live
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    older_url = "/dashboard/events/" + older.group(1).replace("&amp;", "&")
    second = client.get(older_url).content.decode()
    assert rows_of(second) == newest_first[50:]
    assert "data-tail-path" not in second  # an older page is not live
    assert "OFFSET" not in second

    make_event(default_bus, source="till", detail={"orderId": "o-77"})
    found = client.get("/dashboard/events/", {"source": "till", "field": "detail.orderId = o-77"})
    assert len(rows_of(found.content.decode())) == 1
    assert "ws/dashboard/events/?source=till&amp;field=detail.orderId" in found.content.decode()


def test_events_page_explains_bad_input(default_bus: EventBus) -> None:
    client = staff_client()
    bad_field = client.get("/dashboard/events/", {"field": "payload.x = 1"}).content.decode()
    assert "Field paths start with detail" in bad_field
    bad_cursor = client.get("/dashboard/events/", {"after": "garbage"}).content.decode()
    assert "page link is not valid" in bad_cursor
    now = timezone.now()
    backwards = client.get("/dashboard/events/", {
        "since": now.strftime("%Y-%m-%dT%H:%M"),
        "until": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }).content.decode()
    assert "must come after its start" in backwards


def test_event_page_shows_envelope_trace_and_redrive(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    event = make_event(default_bus, detail={"orderId": "o-1", "note": "<script>x</script>"})
    dead = make_delivery(event, target, status=DeliveryStatus.DEAD,
                         attempts=[(AttemptOutcome.FAILED, 12.5)] * 2, error="HTTP 500")
    page = staff_client().get(f"/dashboard/events/{event.pk}/").content.decode()
    assert "&quot;orderId&quot;: &quot;o-1&quot;" in page  # the envelope, pretty and escaped
    assert "<script>x</script>" not in page
    assert "revision 2" in page  # the rule at the revision that matched (targets_put made r2)
    assert page.count("data-attempt=") == 2
    assert "12.5 ms" in page
    assert f'name="ids" value="{dead.pk}"' in page
    assert "Redrive" in page

    fragment = staff_client("ops2").get(f"/dashboard/events/{event.pk}/trace/")
    assert fragment.status_code == 200
    assert b'data-trace-status="failed"' in fragment.content
    assert staff_client("ops3").get(
        "/dashboard/events/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_event_page_shows_who_published_it_and_what_a_copy_replays(
    default_bus: EventBus,
) -> None:
    original = make_event(default_bus)
    copy = Event(id=uuid.uuid4(), bus=default_bus, source="shop", detail_type="OrderPlaced",
                 time=original.time, ingested_at=timezone.now(), replay_name="again",
                 published_by="replay:again", publisher_kind="replay", publisher_ref="42",
                 replay_of=original.pk)
    copy.save()
    page = staff_client().get(f"/dashboard/events/{copy.pk}/").content.decode()
    assert 'data-publisher-kind="replay"' in page
    assert "replay:again" in page
    assert "(replay 42)" in page
    assert f'href="/dashboard/events/{original.pk}/"' in page
    live = staff_client("ops2").get(f"/dashboard/events/{original.pk}/").content.decode()
    assert "Replay of" not in live
    assert 'data-publisher-kind=""' in live  # stored before publishers were recorded


def test_redrive_from_a_form_redirects_back_with_a_message(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    event = make_event(default_bus)
    dead = make_delivery(event, target, status=DeliveryStatus.DEAD)
    client = staff_client()
    response = client.post("/dashboard/deliveries/redrive/",
                           {"ids": [str(dead.pk)], "next": f"/dashboard/events/{event.pk}/"},
                           follow=True)
    assert response.redirect_chain[-1][0] == f"/dashboard/events/{event.pk}/"
    assert "Redriven 1 delivery" in response.content.decode()
    dead.refresh_from_db()
    assert dead.status == DeliveryStatus.PENDING
    assert dead.redrive_count == 1

    offsite = client.post("/dashboard/deliveries/redrive/",
                          {"ids": [str(dead.pk)], "next": "https://evil.example/"})
    assert offsite["Location"] == "/dashboard/deliveries/"


def test_redrive_and_progress_as_json(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    dead = [make_delivery(make_event(default_bus), target, status=DeliveryStatus.DEAD)
            for _ in range(3)]
    done = make_delivery(make_event(default_bus), target, status=DeliveryStatus.SUCCEEDED,
                         attempts=[(AttemptOutcome.SUCCEEDED, 1)])
    client = staff_client()
    ids = [str(d.pk) for d in dead] + [str(done.pk), "6a1f0c3e-2b7d-4c9a-8e51-3f2d1c0b9a87"]
    result = client.post("/dashboard/deliveries/redrive/", json.dumps({"ids": ids}),
                         content_type="application/json").json()
    assert sorted(result["redriven"]) == sorted(str(d.pk) for d in dead)
    assert {item["id"]: item["reason"] for item in result["refused"]} == {
        str(done.pk): "it is succeeded: only dead or dropped deliveries can be redriven",
        "6a1f0c3e-2b7d-4c9a-8e51-3f2d1c0b9a87": "no such delivery",
    }

    Delivery.objects.filter(pk=dead[0].pk).update(status=DeliveryStatus.SUCCEEDED)
    Delivery.objects.filter(pk=dead[1].pk).update(status=DeliveryStatus.DEAD)
    Delivery.objects.filter(pk=dead[2].pk).update(attempt_count=5)  # failed since the redrive
    progress = client.post("/dashboard/deliveries/progress/",
                           json.dumps({"ids": result["redriven"]}),
                           content_type="application/json").json()
    assert (progress["succeeded"], progress["failedAgain"], progress["inFlight"],
            progress["retrying"], progress["done"]) == (1, 1, 1, 1, False)

    garbage = client.post("/dashboard/deliveries/redrive/", json.dumps({"ids": ["nope"]}),
                          content_type="application/json")
    assert garbage.status_code == 400
    assert garbage.json()["field"] == "ids"
    too_many = client.post("/dashboard/deliveries/progress/",
                           json.dumps({"ids": [str(dead[0].pk)] * 501}),
                           content_type="application/json")
    assert too_many.status_code == 400
    assert "at most 500" in too_many.json()["message"]


def test_deliveries_page_filters_and_selects_every_dead_letter(default_bus: EventBus) -> None:
    _, first = make_rule_with_target(default_bus, name="orders", target_id="a")
    _, second = make_rule_with_target(default_bus, name="audit", target_id="b",
                                      address="http://127.0.0.1:9/b")
    dead_a = [make_delivery(make_event(default_bus), first, status=DeliveryStatus.DEAD)
              for _ in range(2)]
    make_delivery(make_event(default_bus), first, status=DeliveryStatus.SUCCEEDED,
                  attempts=[(AttemptOutcome.SUCCEEDED, 1)])
    make_delivery(make_event(default_bus), second, status=DeliveryStatus.DEAD)
    client = staff_client()

    page = client.get("/dashboard/deliveries/", {"status": "dead", "target": first.pk})
    html = page.content.decode()
    assert sorted(re.findall(r'<tr data-delivery-id="([0-9a-f-]+)"', html)) == sorted(
        str(d.pk) for d in dead_a)
    assert html.count('data-select aria-label') == 2

    selection = client.get("/dashboard/deliveries/selection/", {"target": first.pk}).json()
    assert sorted(selection["ids"]) == sorted(str(d.pk) for d in dead_a)
    assert selection["truncated"] is False


def test_deliveries_keyset_pages(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    start = timezone.now() - timedelta(hours=1)
    made = [make_delivery(make_event(default_bus, ingested_at=start + timedelta(seconds=i // 3)),
                          target) for i in range(120)]  # ties: three per second
    client = staff_client()
    seen: list[str] = []
    url = "/dashboard/deliveries/"
    while url:
        html = client.get(url).content.decode()
        seen += re.findall(r'<tr data-delivery-id="([0-9a-f-]+)"', html)
        older = re.search(r'href="([^"]+)" rel="next"', html)
        url = "/dashboard/deliveries/" + older.group(1).replace("&amp;", "&") if older else ""
    expected = sorted(made, key=lambda d: (d.created_at, str(d.pk)), reverse=True)
    assert seen == [str(d.pk) for d in expected]


def test_metrics_page_draws_charts_with_their_numbers(default_bus: EventBus) -> None:
    _, target = make_rule_with_target(default_bus)
    for latency in (5.0, 50.0):
        make_delivery(make_event(default_bus), target, status=DeliveryStatus.SUCCEEDED,
                      attempts=[(AttemptOutcome.SUCCEEDED, latency)])
    make_delivery(make_event(default_bus), target, status=DeliveryStatus.DEAD)
    client = staff_client()
    for key in ("15m", "1h", "6h", "24h", "7d"):
        html = client.get("/dashboard/metrics/", {"range": key}).content.decode()
        assert html.count("<svg") >= 5, key
        assert f'href="?range={key}" aria-current="true"' in html
    html = client.get("/dashboard/metrics/").content.decode()
    assert "default/orders" in html  # matches per rule
    # Attempts took 5, 50 and (the dead letter's) 12 ms: nearest-rank p50 12, p95 50.
    assert "12.0 ms / 50.0 ms" in html
    assert "Show the numbers" in html


def test_topology_draws_buses_rules_and_targets(default_bus: EventBus) -> None:
    rule, target = make_rule_with_target(default_bus, name="orders-to-kitchen")
    make_delivery(make_event(default_bus), target)
    html = staff_client().get("/dashboard/topology/").content.decode()
    assert "orders-to-kitchen" in html
    assert "1 matched in 1 h" in html
    assert f'href="/dashboard/rules/{rule.pk}/"' in html
    assert f'href="/dashboard/deliveries/?target={target.pk}"' in html
    assert "http://127.0.0.1:9/hook" in html


def test_archives_create_replay_and_cancel(default_bus: EventBus) -> None:
    make_rule_with_target(default_bus, name="orders")
    client = staff_client()
    bad = client.post("/dashboard/archives/", {"name": "has space", "bus": "default",
                                               "retention_days": 0})
    assert bad.status_code == 400
    assert "Archive names are 1-48 characters" in bad.content.decode()
    bad_pattern = client.post("/dashboard/archives/", {
        "name": "orders", "bus": "default", "retention_days": 0,
        "event_pattern": '{"source": "not-a-list"}'})
    assert bad_pattern.status_code == 400
    assert "Event pattern is not valid" in (
        bad_pattern.content.decode().replace("&#x27;", "'"))

    made = client.post("/dashboard/archives/", {"name": "orders", "bus": "default",
                                                "retention_days": 7,
                                                "event_pattern": '{"source": ["shop"]}'})
    assert made.status_code == 302
    archive = Archive.objects.get(name="orders")
    assert archive.event_pattern == {"source": ["shop"]}
    assert archive.retention_days == 7

    now = timezone.now().replace(second=0, microsecond=0)
    future = client.post("/dashboard/archives/replays/", {
        "name": "r1", "archive": "orders",
        "start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "end": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")})
    assert future.status_code == 400
    assert "must not be in the future" in future.content.decode()

    started = client.post("/dashboard/archives/replays/", {
        "name": "r1", "archive": "orders", "filter_rules": ["default/orders"],
        "start": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "end": now.strftime("%Y-%m-%dT%H:%M")})
    assert started.status_code == 302
    replay = Replay.objects.get(name="r1")
    assert [rule.name for rule in replay.filter_rules.all()] == ["orders"]

    status = client.get("/dashboard/archives/replays/status/", {"name": "r1"}).json()
    assert status["replays"][0]["state"] == "STARTING"
    assert status["replays"][0]["active"]
    cancelled = client.post("/dashboard/archives/replays/r1/cancel/",
                            HTTP_ACCEPT="application/json").json()
    assert cancelled["state"] == ReplayState.CANCELLED
    again = client.post("/dashboard/archives/replays/r1/cancel/", follow=True)
    assert "not in a valid state" in again.content.decode()

    client.post("/dashboard/archives/orders/", {"action": "disable"})
    archive.refresh_from_db()
    assert archive.state == "DISABLED"
    client.post("/dashboard/archives/orders/", {"action": "delete"})
    assert not Archive.objects.filter(name="orders").exists()


def test_archives_page_lists_counts_and_replay_progress(default_bus: EventBus) -> None:
    archive_create(name="all", bus_name="default", actor=Actor.system("test"))
    html = staff_client().get("/dashboard/archives/").content.decode()
    assert 'id="archive-all"' in html
    assert "every event" in html
