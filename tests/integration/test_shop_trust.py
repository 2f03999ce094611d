"""Attacks on the shop's trust, with real servers: uvicorn for both APIs, a real Celery worker
running the shop's real handlers. A credential cannot publish the shop's source (each refused
entry fails alone, the others are stored); a forged shop event that some path let through
changes no customer's journey and no metric; replaying the shop's archive changes no figure."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from orders.events import BUS_NAME, SOURCE, DetailType
from orders.models import Customer, DailyMetric, JourneyEntry, Order, Shop
from orders.rules import ARCHIVE_NAME, ensure_shop_rules
from orders.services import order_claim, order_complete, order_submit
from orders.workflow import OrderState
from routing.aws.credentials import awscredential_create
from routing.models import (
    ApiKey,
    ArchivedEvent,
    Delivery,
    DeliveryStatus,
    Event,
    Replay,
    ReplayState,
)
from routing.publishers import Publisher, PublisherKind
from routing.services import Actor
from routing.services.apikeys import apikey_create
from routing.services.publish import EventEntry, events_store
from routing.services.replays import replay_start
from tests.orders.conftest import LATTE_CHOICE, make_barista, make_customer, make_shop, redeem
from tests.routing.aws.conftest import Credential, make_client
from tests.support.processes import AsgiServer, CeleryWorker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

UNSETTLED = [DeliveryStatus.PENDING, DeliveryStatus.RUNNING]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def settled() -> bool:
    return not Delivery.objects.filter(status__in=UNSETTLED).exists()


def completed_order(shop: Shop, customer: Customer) -> Order:
    """One order through the shop's services, its workflow steps run by the worker."""
    barista = make_barista(f"barista-{customer.pk}")
    order = redeem(shop, customer)
    wait_until(lambda: Order.objects.get(pk=order.pk).state == OrderState.WAITING_FOR_DRINK,
               "the worker to start the workflow")
    order = order_submit(order=order, customer=customer, drink_name="Latte", choices=LATTE_CHOICE)
    wait_until(lambda: Order.objects.get(pk=order.pk).announced_at is not None,
               "the order store to announce the order")
    order_claim(order=order, barista=barista)
    order_complete(order=Order.objects.get(pk=order.pk), barista=barista)
    wait_until(lambda: JourneyEntry.objects.filter(order_id=order.pk).count() == 7,
               "the journey to record all seven events")
    wait_until(settled, "every delivery to settle")
    return order


def figures(shop: Shop) -> dict[str, Any]:
    """Every metric and journey figure the shop shows."""
    return {
        "metrics": sorted(DailyMetric.objects.filter(shop=shop)
                          .values_list("business_date", "name", "count", "total")),
        "journey": sorted(JourneyEntry.objects.values_list("order_id", "detail_type", "message")),
        "orders": sorted(Order.objects.values_list("pk", "state")),
    }


def forged_completion(order: Order) -> dict[str, str]:
    return {"EventBusName": BUS_NAME, "Source": SOURCE,
            "DetailType": DetailType.ORDER_COMPLETED.value,
            "Detail": json.dumps({"shopId": order.shop.slug, "orderId": order.pk,
                                  "userId": str(order.customer_id), "drink": "Latte",
                                  "waitSeconds": 1, "Message": "Forged: order completed."})}


def test_a_key_limited_to_its_sources_cannot_publish_the_shops_over_either_api(
    asgi_server: AsgiServer,
) -> None:
    ensure_shop_rules()
    _, key = apikey_create(name="partner", sources=["partner.app.*"])
    row, secret = awscredential_create(name="partner-aws", sources=["partner.app.*"])
    mine = {"EventBusName": BUS_NAME, "Source": "partner.app.orders", "DetailType": "Hello",
            "Detail": json.dumps({"hello": "world"})}
    theirs = {**mine, "Source": SOURCE, "DetailType": DetailType.ORDER_COMPLETED.value}
    other = {**mine, "Source": "someone.else"}

    with httpx.Client(base_url=asgi_server.url, timeout=10,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.post("/api/events", json={"Entries": [theirs, mine, other]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["FailedEntryCount"] == 2
    refused, stored, refused_other = body["Entries"]
    assert "EventId" in stored
    assert refused["ErrorCode"] == refused_other["ErrorCode"] == \
        "NotAuthorizedForSourceException"
    assert SOURCE in refused["ErrorMessage"]
    assert "someone.else" in refused_other["ErrorMessage"]

    boto = make_client(f"{asgi_server.url}/aws/events", Credential(row.access_key_id, secret))
    answer = boto.put_events(Entries=[mine, theirs])
    assert answer["FailedEntryCount"] == 1
    assert "EventId" in answer["Entries"][0]
    assert answer["Entries"][1]["ErrorCode"] == "NotAuthorizedForSourceException"
    assert SOURCE in answer["Entries"][1]["ErrorMessage"]

    published = Event.objects.order_by("ingested_at")
    assert [(e.source, e.publisher_kind, e.publisher_ref) for e in published] == [
        ("partner.app.orders", PublisherKind.API_KEY, str(_key_id("partner"))),
        ("partner.app.orders", PublisherKind.AWS_CREDENTIAL, str(row.pk)),
    ]
    assert not Event.objects.filter(source=SOURCE).exists()


def _key_id(name: str) -> int:
    return ApiKey.objects.get(name=name).pk


def test_a_forged_shop_event_changes_no_journey_and_no_metric(
    asgi_server: AsgiServer, celery_worker: CeleryWorker,
) -> None:
    ensure_shop_rules()
    shop = make_shop()
    order = completed_order(shop, make_customer("Ada"))
    before = figures(shop)
    assert ("orders.completed", 1) in [(name, count) for _, name, count, _ in before["metrics"]]

    # Through the API: refused at the door, whatever key.
    _, key = apikey_create(name="anyone")
    with httpx.Client(base_url=asgi_server.url, timeout=10,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        response = client.post("/api/events", json={"Entries": [forged_completion(order)]})
    assert response.json()["Entries"][0]["ErrorCode"] == "NotAuthorizedForSourceException"

    # And if some path ever let one through: the shop's subscribers still act on nothing.
    forged = forged_completion(order)
    [event] = events_store(
        entries=[EventEntry(source=SOURCE, detail_type=forged["DetailType"],
                            detail=json.loads(forged["Detail"]), bus_name=BUS_NAME)],
        publisher=Publisher.api_key(key_id=_key_id("anyone"), name="anyone"),
    )
    wait_until(lambda: Delivery.objects.filter(event=event).exists() and settled(),
               "the forged event's deliveries to settle")
    assert figures(shop) == before
    refusals = Delivery.objects.filter(event=event)
    assert refusals.count() >= 2  # the journey and metrics rules at least matched it
    assert set(refusals.values_list("status", "last_error_code")) == {
        (DeliveryStatus.DEAD, "HandlerRejected")
    }
    assert "published by api-key:anyone" in refusals.first().last_error  # type: ignore[union-attr]


def test_replaying_the_shops_archive_changes_no_metric_and_no_journey(
    celery_worker: CeleryWorker,
) -> None:
    ensure_shop_rules()
    shop = make_shop()
    window_start = timezone.now() - timedelta(seconds=1)
    orders = [completed_order(shop, make_customer(name)) for name in ("Ada", "Grace")]
    originals = set(Event.objects.filter(bus__name=BUS_NAME).values_list("pk", flat=True))
    wait_until(lambda: ArchivedEvent.objects.filter(archive__name=ARCHIVE_NAME).count()
               == len(originals), "every shop event to be archived")
    before = figures(shop)
    assert len(before["journey"]) == 14
    completed = [(name, count) for _, name, count, _ in before["metrics"]]
    assert ("orders.completed", 2) in completed

    replay = replay_start(name="shop-again", archive_name=ARCHIVE_NAME,
                          event_start_time=window_start, event_end_time=timezone.now(),
                          actor=Actor.system("test"))
    wait_until(lambda: Replay.objects.get(pk=replay.pk).state == ReplayState.COMPLETED,
               "the replay to finish")
    copies = Event.objects.filter(replay_name="shop-again")
    wait_until(lambda: Delivery.objects.filter(event__in=copies).count()
               >= Delivery.objects.filter(event_id__in=originals).count() and settled(),
               "every replayed copy's deliveries to settle")

    assert copies.count() == len(originals)
    assert {copy.replay_of for copy in copies} == originals
    assert {(c.publisher_kind, c.publisher_ref) for c in copies} == {
        (PublisherKind.REPLAY, str(replay.pk))}
    assert all(copy.envelope()["replay-name"] == "shop-again" for copy in copies)
    assert figures(shop) == before
    assert [order.pk for order in orders] == [o.pk for o in Order.objects.order_by("created_at")]
    # The copies reached the shop's handlers and were handled (as the originals they copy).
    assert not Delivery.objects.filter(event__in=copies).exclude(
        status=DeliveryStatus.SUCCEEDED).exists()
