"""The live tail: the consumer through the project's real ASGI stack (origin check, sessions,
auth) — staff only, snapshot then sequenced deltas as events are published, filters, resync —
and the tail's polling rules (late commits, no repeats, status changes, bursts)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.utils import timezone

from coffeeshop.asgi import application
from routing.dashboard.explorer import live
from routing.dashboard.explorer.consumers import CLOSE_FORBIDDEN, CLOSE_NOT_LOGGED_IN
from routing.models import EventBus, PendingRoute
from routing.selectors.events import EventFilters
from routing.services import bus_ensure_default, event_publish
from tests.routing.dashboard.test_explorer_support import make_event, make_user
from tests.support.publishers import TEST_PUBLISHER

db = sync_to_async


def user_cookie(user: Any) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def socket(path: str = "/ws/dashboard/events/", cookie: str | None = None
           ) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def receive(communicator: WebsocketCommunicator, timeout: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await communicator.receive_from(timeout=timeout))
    return message


async def staff_socket(path: str = "/ws/dashboard/events/") -> WebsocketCommunicator:
    user = await db(make_user)("tail-staff")
    communicator = socket(path, await db(user_cookie)(user))
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


@pytest.mark.usefixtures("thread_connections_closed")
@pytest.mark.django_db(transaction=True)
async def test_the_tail_is_for_staff_only() -> None:
    """Refused after the handshake, so that the page can read the close code."""
    assert await close_code_of(socket()) == CLOSE_NOT_LOGGED_IN
    customer = await db(make_user)("not-staff", staff=False)
    assert await close_code_of(socket(cookie=await db(user_cookie)(customer))) == CLOSE_FORBIDDEN


async def close_code_of(communicator: WebsocketCommunicator) -> int:
    connected, _ = await communicator.connect(timeout=5)
    assert connected, "refused during the handshake: the browser would see 1006, not a code"
    closing = await communicator.receive_output(timeout=5)
    assert closing["type"] == "websocket.close", closing
    await communicator.disconnect()  # the consumer ends (and lets go of its database connection)
    code: int = closing["code"]
    return code


@pytest.mark.usefixtures("thread_connections_closed")
@pytest.mark.django_db(transaction=True)
async def test_snapshot_then_published_events_arrive_with_a_sequence() -> None:
    bus: EventBus = await db(bus_ensure_default)()
    older = await db(make_event)(bus, ingested_at=timezone.now() - timedelta(minutes=5))
    tail = await staff_socket()
    snapshot = await receive(tail)
    assert snapshot["type"] == "snapshot"
    assert snapshot["seq"] == 0
    assert [event["id"] for event in snapshot["events"]] == [str(older.pk)]
    assert f'data-event-id="{older.pk}"' in snapshot["events"][0]["html"]

    published = await db(event_publish)(
        publisher=TEST_PUBLISHER, source="shop", detail_type="OrderPlaced",
        detail={"orderId": "o-1"})
    delta = await receive(tail)
    assert delta["type"] == "events"
    assert delta["seq"] == 1
    assert [event["id"] for event in delta["events"]] == [str(published.pk)]
    assert delta["events"][0]["detailType"] == "OrderPlaced"
    assert delta["events"][0]["status"] == "routing"  # no worker here: still in the outbox

    # Routed (its outbox row gone) and matched by nothing: the row's status follows.
    await db(lambda: PendingRoute.objects.filter(event=published).delete())()
    change = await receive(tail)
    assert change["seq"] == 2
    assert change["events"] == []
    assert change["statuses"] == {str(published.pk): "unmatched"}

    await tail.send_json_to({"type": "resync"})
    again = await receive(tail)
    assert again["type"] == "snapshot"
    assert again["seq"] == 2
    assert [event["id"] for event in again["events"]] == [str(published.pk), str(older.pk)]
    assert await tail.receive_nothing(timeout=1.5)
    await tail.disconnect()


@pytest.mark.usefixtures("thread_connections_closed")
@pytest.mark.django_db(transaction=True)
async def test_filters_choose_what_the_tail_shows() -> None:
    await db(bus_ensure_default)()
    tail = await staff_socket("/ws/dashboard/events/?source=till&field=detail.total%20%3D%205")
    assert (await receive(tail))["events"] == []
    await db(event_publish)(
        publisher=TEST_PUBLISHER, source="shop", detail_type="Sale", detail={"total": 5})
    await db(event_publish)(
        publisher=TEST_PUBLISHER, source="till", detail_type="Sale", detail={"total": 6})
    wanted = await db(event_publish)(
        publisher=TEST_PUBLISHER, source="till", detail_type="Sale", detail={"total": 5})
    delta = await receive(tail)
    assert [event["id"] for event in delta["events"]] == [str(wanted.pk)]

    await tail.send_json_to({"type": "filter", "filters": {"source": "shop"}})
    refiltered = await receive(tail)
    assert refiltered["type"] == "snapshot"
    assert refiltered["seq"] == delta["seq"]
    assert [event["source"] for event in refiltered["events"]] == ["shop"]
    await tail.disconnect()


@pytest.mark.usefixtures("thread_connections_closed")
@pytest.mark.django_db(transaction=True)
async def test_bad_filters_are_explained_then_the_socket_closes() -> None:
    tail = await staff_socket("/ws/dashboard/events/?field=nonsense")
    message = await receive(tail)
    assert message["type"] == "error"
    assert message["field"] == "field"
    assert "path = value" in message["message"]
    assert (await tail.receive_output(timeout=2))["type"] == "websocket.close"
    await tail.disconnect()  # or the consumer's channel-layer read outlives the test's loop


@pytest.mark.django_db
def test_a_late_commit_within_the_lookback_is_still_sent_once(default_bus: EventBus) -> None:
    now = timezone.now()
    tail = live.EventTail(EventFilters())
    first = make_event(default_bus, ingested_at=now - timedelta(seconds=1))
    assert [e["id"] for e in tail.snapshot()["events"]] == [str(first.pk)]
    assert tail.poll(now=now) is None

    # Stamped before the newest event, but committed after the snapshot was read.
    late = make_event(default_bus, ingested_at=now - timedelta(seconds=3))
    message = tail.poll(now=now)
    assert message is not None
    assert [e["id"] for e in message["events"]] == [str(late.pk)]
    assert tail.poll(now=now) is None  # never sent twice

    # Older than the lookback behind the watermark: search finds it, the tail does not.
    make_event(default_bus, ingested_at=now - live.LOOKBACK - timedelta(seconds=5))
    assert tail.poll(now=now) is None


@pytest.mark.django_db
def test_a_burst_sends_the_newest_and_counts_the_rest(
    default_bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "ROWS_PER_MESSAGE", 3)
    tail = live.EventTail(EventFilters())
    tail.snapshot()
    now = timezone.now()
    made = [make_event(default_bus, ingested_at=now - timedelta(milliseconds=500 - i))
            for i in range(5)]
    message = tail.poll(now=now)
    assert message is not None
    assert [e["id"] for e in message["events"]] == [str(e.pk) for e in reversed(made[2:])]
    assert message["skipped"] == 2
    assert message["seq"] == 1
    assert tail.poll(now=now) is None


@pytest.mark.django_db
def test_an_old_watermark_does_not_rescan_history(default_bus: EventBus) -> None:
    now = timezone.now()
    make_event(default_bus, ingested_at=now - timedelta(days=3))
    tail = live.EventTail(EventFilters())
    tail.snapshot()
    # Two days old, so behind the horizon: not new to a tail opened now.
    make_event(default_bus, ingested_at=now - timedelta(days=2))
    assert tail.poll(now=now) is None
    fresh = make_event(default_bus, ingested_at=now)
    message = tail.poll(now=now)
    assert message is not None
    assert [e["id"] for e in message["events"]] == [str(fresh.pk)]
