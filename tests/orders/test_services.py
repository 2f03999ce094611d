"""The shop's services on a real database: every transition, time-out and refusal, and the
events each emits (in the same transaction as the change)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from orders.events import BUS_NAME, DetailType
from orders.models import (
    Customer,
    Drink,
    ModifierGroup,
    ModifierOption,
    Order,
    OrderCounter,
    Shop,
)
from orders.services import (
    OrderError,
    customer_create,
    customer_for_account,
    customer_set_name,
    menu_change,
    order_actions,
    order_announce,
    order_cancel,
    order_claim,
    order_complete,
    order_redeem,
    order_redeem_check,
    order_start,
    order_submit,
    order_unclaim,
    orders_time_out_overdue,
    qr_window_current,
    shop_create,
    shop_set_open,
    shop_update_config,
)
from orders.workflow import OrderState, TimeoutCause, WaitKind
from routing.models import Event, EventBus
from tests.orders.conftest import (
    LATTE_CHOICE,
    claimed,
    detail_types,
    make_account,
    make_customer,
    make_shop,
    queued,
    redeem,
    shop_events,
    started,
)

pytestmark = pytest.mark.django_db

S = OrderState


def refused(code: str, **expected: Any) -> Any:
    """pytest.raises for an OrderError; check `.value` fields afterwards."""
    return pytest.raises(OrderError, check=lambda e: e.code == code and all(
        getattr(e, key) == value for key, value in expected.items()
    ))


def detail(event: Event) -> dict[str, Any]:
    return dict(event.detail)


# Customers -----------------------------------------------------------------------------------

def test_customer_names_are_trimmed_and_checked() -> None:
    assert customer_create(name="  Ada   Lovelace \n").name == "Ada Lovelace"
    assert customer_create(name="Robot 7", robot=True).robot is True
    with refused("invalid_name", field="name") as error:
        customer_create(name="   ")
    assert "your name" in error.value.message
    with refused("invalid_name") as error:
        customer_create(name="x" * 41)
    assert "at most 40 characters for your name (this one has 41)" in error.value.message
    customer_create(name="y" * 40)
    with refused("invalid_name"):
        customer_create(name="Bell\x07")


# QR windows ----------------------------------------------------------------------------------

def test_windows_are_fixed_wall_clock_slots(shop: Shop) -> None:
    base = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    first = qr_window_current(shop=shop, now=base + timedelta(seconds=10))
    assert (first.starts_at, first.ends_at) == (base, base + timedelta(minutes=5))
    assert first.capacity == shop.drinks_per_window == 10
    assert qr_window_current(shop=shop, now=base + timedelta(seconds=299)).pk == first.pk
    second = qr_window_current(shop=shop, now=base + timedelta(seconds=300))
    assert second.pk != first.pk
    assert second.code != first.code
    assert second.starts_at == base + timedelta(minutes=5)
    assert len(first.code) == 10


# Redeeming -----------------------------------------------------------------------------------

def test_redeeming_the_current_code_creates_an_order_and_announces_it(
    shop: Shop, customer: Customer
) -> None:
    window = qr_window_current(shop=shop)
    order = order_redeem(shop=shop, code=f" {window.code} ", customer=customer)
    assert order.state == S.NEW
    assert order.customer == customer
    assert order.qr_window == window
    assert order.business_date == shop.business_date(order.created_at)
    assert order.deadline_at == order.created_at + timedelta(seconds=300)
    window.refresh_from_db()
    assert window.redeemed == 1
    [event] = shop_events(DetailType.NEW_ORDER)
    assert event.source == "awsserverlessda.serverlesspresso"
    assert event.bus.name == BUS_NAME
    assert detail(event) == {
        "shopId": "test", "orderId": order.pk, "userId": str(customer.pk),
        "window": {"remaining": 9, "endsAt": window.ends_at.isoformat().replace("+00:00", "Z")},
        "Message": detail(event)["Message"],
    }
    assert "A customer scanned the QR code" in detail(event)["Message"]
    assert window.code not in json.dumps(event.detail)


def test_the_bus_is_created_on_first_use(shop: Shop, customer: Customer) -> None:
    assert not EventBus.objects.filter(name=BUS_NAME).exists()
    redeem(shop, customer)
    assert EventBus.objects.filter(name=BUS_NAME).exists()


def test_an_empty_or_unknown_code_is_refused(shop: Shop, customer: Customer) -> None:
    qr_window_current(shop=shop)
    with refused("invalid_code", field="code") as error:
        order_redeem(shop=shop, code="", customer=customer)
    assert "Scan the QR code" in error.value.message
    with refused("invalid_code", field="code") as error:
        order_redeem(shop=shop, code="not-a-code", customer=customer)
    assert error.value.message == (
        "This is not a valid code for Test Bar. Scan the QR code on the shop's display."
    )
    assert not Order.objects.exists()


def test_another_shops_code_is_refused(shop: Shop, customer: Customer) -> None:
    elsewhere = make_shop("elsewhere")
    code = qr_window_current(shop=elsewhere).code
    with refused("invalid_code"):
        order_redeem(shop=shop, code=code, customer=customer)


def test_an_expired_code_says_so(shop: Shop, customer: Customer) -> None:
    old = qr_window_current(shop=shop, now=timezone.now() - timedelta(minutes=5))
    with refused("window_expired", field="code") as error:
        order_redeem(shop=shop, code=old.code, customer=customer)
    assert "expired" in error.value.message
    assert "every 5 minutes" in error.value.message
    assert not Order.objects.exists()


def test_a_window_accepts_no_more_than_its_capacity(shop: Shop) -> None:
    shop.drinks_per_window = 2
    shop.save()
    customers = [make_customer(f"C{n}") for n in range(3)]
    redeem(shop, customers[0])
    redeem(shop, customers[1])
    with refused("window_exhausted", field="code") as error:
        redeem(shop, customers[2])
    window = qr_window_current(shop=shop)
    assert "All 2 drinks for this QR code have been ordered" in error.value.message
    assert error.value.details["retryAt"] == window.ends_at.isoformat().replace("+00:00", "Z")
    assert (window.redeemed, window.remaining) == (2, 0)
    assert Order.objects.count() == 2
    assert [detail(e)["window"]["remaining"] for e in shop_events(DetailType.NEW_ORDER)] == [1, 0]


def test_the_daily_limit_is_enforced_before_the_window_is_used(
    shop: Shop, customer: Customer
) -> None:
    first = redeem(shop, customer)
    with refused("daily_limit") as error:
        redeem(shop, customer)
    message = error.value.message
    assert "Each customer can order one drink a day at Test Bar" in message
    assert "Your order in progress counts too" in message
    assert "You can order again tomorrow from 00:00" in message
    assert error.value.details["activeOrderId"] == first.pk
    midnight = datetime.combine(timezone.now().date() + timedelta(days=1), datetime.min.time(),
                                tzinfo=UTC)
    assert error.value.details["retryAt"] == midnight.isoformat().replace("+00:00", "Z")
    assert qr_window_current(shop=shop).redeemed == 1
    assert Order.objects.count() == 1


def test_the_daily_limit_counts_in_the_shops_time_zone(customer: Customer) -> None:
    shop = make_shop(timezone="Pacific/Kiritimati")  # UTC+14: its day starts before UTC's
    redeem(shop, customer)
    with refused("daily_limit") as error:
        redeem(shop, customer)
    retry_at = datetime.fromisoformat(error.value.details["retryAt"])
    local = retry_at.astimezone(shop.tz)
    assert (local.hour, local.minute) == (0, 0)
    assert local.date() == shop.business_date(timezone.now()) + timedelta(days=1)


def test_completed_orders_count_and_cancelled_ones_do_not(
    shop: Shop, customer: Customer, barista: User
) -> None:
    shop.max_orders_per_customer_per_day = 2
    shop.save()
    order = started(shop, customer)
    order_cancel(order=order, by="customer", customer=customer)
    completed = queued(shop, customer)
    order_complete(order=completed, barista=barista)
    redeem(shop, customer)  # the second counted order of the day
    with refused("daily_limit") as error:
        redeem(shop, customer)
    assert "order 2 drinks a day" in error.value.message


# Starting the workflow -----------------------------------------------------------------------

def test_start_waits_for_the_customer_with_a_deadline(shop: Shop, customer: Customer) -> None:
    order = order_start(order_id=redeem(shop, customer).pk)
    order.refresh_from_db()
    assert order.state == S.WAITING_FOR_DRINK
    assert order.wait_kind == WaitKind.CUSTOMER
    assert len(order.wait_token) >= 24
    assert order.deadline_at is not None
    assert abs((order.deadline_at - timezone.now()).total_seconds() - 300) < 5
    [event] = shop_events(DetailType.WORKFLOW_STARTED)
    assert set(detail(event)) == {"shopId", "orderId", "userId", "deadline", "Message"}
    assert detail(event)["deadline"] == order.deadline_at.isoformat().replace("+00:00", "Z")
    assert "choose your drink by" in detail(event)["Message"]
    assert order.wait_token not in json.dumps(event.detail)


def test_start_is_idempotent(shop: Shop, customer: Customer) -> None:
    order = started(shop, customer)
    token = Order.objects.get(pk=order.pk).wait_token
    again = order_start(order_id=order.pk)
    assert again.state == S.WAITING_FOR_DRINK
    assert Order.objects.get(pk=order.pk).wait_token == token
    assert len(shop_events(DetailType.WORKFLOW_STARTED)) == 1


def window_redeemed(shop: Shop) -> int:
    return qr_window_current(shop=shop).redeemed


def test_a_closed_shop_refuses_the_code_and_keeps_the_place(shop: Shop, customer: Customer) -> None:
    Shop.objects.filter(pk=shop.pk).update(is_open=False)
    with pytest.raises(OrderError) as refused:
        redeem(shop, customer)
    assert refused.value.code == "shop_closed"
    assert "Test Bar is closed right now" in refused.value.message
    assert window_redeemed(shop) == 0
    assert not Order.objects.exists()
    assert not shop_events(DetailType.NEW_ORDER)


def test_a_shop_closing_before_the_start_turns_the_order_away_and_gives_the_place_back(
    shop: Shop, customer: Customer
) -> None:
    redeemed = redeem(shop, customer)
    assert window_redeemed(shop) == 1
    Shop.objects.filter(pk=shop.pk).update(is_open=False)
    order = order_start(order_id=redeemed.pk)
    assert window_redeemed(shop) == 0
    assert order.state == S.SHOP_UNAVAILABLE
    assert order.unavailable_reason == "closed"
    assert order.finished_at is not None
    assert order.deadline_at is None
    [event] = shop_events(DetailType.SHOP_UNAVAILABLE)
    assert detail(event)["orderId"] == order.pk
    assert detail(event)["userId"] == str(customer.pk)
    assert detail(event)["reason"] == "closed"
    assert "Test Bar is closed right now" in detail(event)["Message"]
    assert not shop_events(DetailType.WORKFLOW_STARTED)
    order_start(order_id=order.pk)
    assert len(shop_events(DetailType.SHOP_UNAVAILABLE)) == 1
    assert window_redeemed(shop) == 0  # given back once, not once per delivery


def test_a_full_shop_refuses_the_code_as_busy_and_keeps_the_place(
    shop: Shop, customer: Customer, other_customer: Customer
) -> None:
    shop.max_queue = 1
    shop.save()
    queued(shop, other_customer)
    with pytest.raises(OrderError) as refused:
        redeem(shop, customer)
    assert refused.value.code == "shop_busy"
    assert "too busy right now (1 orders open, the most is 1)" in refused.value.message
    assert window_redeemed(shop) == 1
    assert Order.objects.count() == 1


def test_a_queue_filling_before_the_start_turns_the_order_away_as_busy(
    shop: Shop, customer: Customer, other_customer: Customer
) -> None:
    order = redeem(shop, customer)
    queued(shop, other_customer)
    Shop.objects.filter(pk=shop.pk).update(max_queue=1)
    started_order = order_start(order_id=order.pk)
    assert (started_order.state, started_order.unavailable_reason) == (S.SHOP_UNAVAILABLE,
                                                                        "busy")
    [event] = shop_events(DetailType.SHOP_UNAVAILABLE)
    assert detail(event)["reason"] == "busy"
    assert "too busy right now (1 orders open, the most is 1)" in detail(event)["Message"]
    assert window_redeemed(shop) == 1


@pytest.mark.parametrize("step", ["redeemed", "started"])
def test_an_order_not_finished_holds_a_place(
    shop: Shop, customer: Customer, other_customer: Customer, step: str
) -> None:
    shop.max_queue = 1
    shop.save()
    redeem(shop, other_customer) if step == "redeemed" else started(shop, other_customer)
    with pytest.raises(OrderError) as refused:
        redeem(shop, customer)
    assert refused.value.code == "shop_busy"


def test_a_guest_may_order_only_where_the_shop_allows_guests(shop: Shop) -> None:
    guest = customer_create(name="Guest")
    with pytest.raises(OrderError) as refused:
        redeem(shop, guest)
    assert (refused.value.code, refused.value.http_status) == ("sign_in_required", 401)
    assert window_redeemed(shop) == 0
    Shop.objects.filter(pk=shop.pk).update(guest_orders=True)
    shop.refresh_from_db()
    assert redeem(shop, guest).customer_id == guest.pk


def test_an_account_without_a_name_is_asked_for_it_first(shop: Shop) -> None:
    nameless = customer_for_account(user=make_account("new@example.com"))
    assert customer_for_account(user=nameless.user) == nameless  # type: ignore[arg-type]
    with pytest.raises(OrderError) as refused:
        redeem(shop, nameless)
    assert refused.value.code == "invalid_name"
    customer_set_name(customer=nameless, name="  Ada  ")
    assert redeem(shop, nameless).customer.name == "Ada"


def test_the_scan_check_refuses_a_closed_shop_and_the_daily_limit_and_changes_nothing(
    shop: Shop, customer: Customer
) -> None:
    code = qr_window_current(shop=shop).code
    order_redeem_check(shop=shop, code=code, customer=None)
    order_redeem_check(shop=shop, code=code, customer=customer)
    redeem(shop, customer)
    with pytest.raises(OrderError) as limited:
        order_redeem_check(shop=shop, code=code, customer=customer)
    assert limited.value.code == "daily_limit"
    Shop.objects.filter(pk=shop.pk).update(is_open=False)
    shop.refresh_from_db()
    with pytest.raises(OrderError) as closed:
        order_redeem_check(shop=shop, code=code, customer=None)
    assert closed.value.code == "shop_closed"
    Shop.objects.filter(pk=shop.pk).update(is_open=True)
    shop.refresh_from_db()
    with pytest.raises(OrderError) as bad_code:
        order_redeem_check(shop=shop, code="nope", customer=None)
    assert bad_code.value.code == "invalid_code"
    assert window_redeemed(shop) == 1


def test_finished_orders_do_not_take_places(
    shop: Shop, customer: Customer, other_customer: Customer, barista: User
) -> None:
    shop.max_queue = 1
    shop.save()
    order_complete(order=queued(shop, other_customer), barista=barista)
    assert started(shop, customer).state == S.WAITING_FOR_DRINK


def test_starting_an_unknown_order_is_refused(db: None) -> None:
    with refused("not_found"):
        order_start(order_id="no-such-order")


def test_an_order_never_started_in_time_times_out(shop: Shop, customer: Customer) -> None:
    order = redeem(shop, customer)
    Order.objects.filter(pk=order.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    order = order_start(order_id=order.pk)
    assert (order.state, order.timeout_cause) == (S.TIMED_OUT, TimeoutCause.WORKFLOW)
    [event] = shop_events(DetailType.ORDER_TIMEOUT)
    assert detail(event)["cause"] == "Workflow timedout"
    assert not shop_events(DetailType.WORKFLOW_STARTED)


# Submitting the drink ------------------------------------------------------------------------

def test_submit_queues_the_order_with_the_next_number(
    shop: Shop, customer: Customer, other_customer: Customer
) -> None:
    order = started(shop, customer)
    customer_token = Order.objects.get(pk=order.pk).wait_token
    order = order_submit(order=order, customer=customer, drink_name="Latte",
                         choices={"Extras": ["Vanilla"], "Milk": ["Oat"]})
    order.refresh_from_db()
    assert order.state == S.QUEUED
    assert order.order_number == 1
    assert (order.drink, order.icon) == ("Latte", "latte")
    assert order.modifiers == [{"group": "Milk", "option": "Oat"},
                               {"group": "Extras", "option": "Vanilla"}]
    assert order.wait_kind == WaitKind.BARISTA
    assert order.wait_token not in ("", customer_token)
    assert order.deadline_at is not None
    assert abs((order.deadline_at - timezone.now()).total_seconds() - 900) < 5
    assert order.submitted_at is not None
    [event] = shop_events(DetailType.PROCESSOR_WAITING_COMPLETION)
    assert set(detail(event)) == {"shopId", "orderId", "orderNumber", "userId", "Message"}
    assert detail(event)["orderNumber"] == 1
    assert "The customer ordered a Latte (Oat, Vanilla): it is order #1" in detail(event)["Message"]
    second = queued(shop, other_customer, drink="Espresso")
    assert second.order_number == 2
    assert OrderCounter.objects.get(shop=shop).value == 2


def test_order_numbers_count_per_shop_and_day(shop: Shop, customer: Customer) -> None:
    elsewhere = make_shop("elsewhere")
    assert queued(elsewhere, customer).order_number == 1
    assert queued(shop, customer).order_number == 1
    yesterday = shop.business_date(timezone.now()) - timedelta(days=1)
    OrderCounter.objects.filter(shop=shop).update(business_date=yesterday)
    Order.objects.filter(shop=shop).update(business_date=yesterday)
    assert queued(shop, make_customer("Next day")).order_number == 1
    assert OrderCounter.objects.get(shop=shop, business_date=yesterday).value == 1


def test_only_the_owner_can_submit(
    shop: Shop, customer: Customer, other_customer: Customer
) -> None:
    order = started(shop, customer)
    with refused("forbidden", http_status=403) as error:
        order_submit(order=order, customer=other_customer, drink_name="Latte",
                     choices=LATTE_CHOICE)
    assert error.value.message == "This is not your order."
    assert Order.objects.get(pk=order.pk).state == S.WAITING_FOR_DRINK


@pytest.mark.parametrize(("drink", "choices", "field", "words"), [
    ("Mocha", {}, "drink", "not on the menu"),
    ("", {}, "drink", "not on the menu"),
    ("Cappuccino", {}, "drink", "Cappuccino is not available"),
    ("Latte", {"Extras": ["Vanilla"]}, "Milk", "Please choose a Milk option"),
    ("Latte", {"Milk": ["Oat", "Almond"]}, "Milk", "only one Milk option"),
    ("Latte", {"Milk": ["Goat"]}, "Milk", "'Goat' is not a Milk option"),
    ("Latte", {"Milk": ["Oat"], "Size": ["Large"]}, "Size", "no 'Size' options"),
    ("Espresso", {"Milk": ["Oat"]}, "Milk", "Espresso has no 'Milk' options"),
    ("Latte", {"Milk": 3}, "Milk", "not understood"),
    ("Latte", ["Oat"], "choices", "not understood"),
])
def test_an_invalid_drink_is_refused_at_once_and_nothing_is_stored(
    shop: Shop, customer: Customer, drink: str, choices: Any, field: str, words: str
) -> None:
    order = started(shop, customer)
    before = Order.objects.values().get(pk=order.pk)
    with refused("invalid_drink", field=field, http_status=400) as error:
        order_submit(order=order, customer=customer, drink_name=drink, choices=choices)
    assert words in error.value.message
    assert Order.objects.values().get(pk=order.pk) == before
    assert not OrderCounter.objects.exists()
    assert not shop_events(DetailType.PROCESSOR_WAITING_COMPLETION)


def test_a_single_option_may_come_as_a_string(shop: Shop, customer: Customer) -> None:
    order = order_submit(order=started(shop, customer), customer=customer, drink_name="Latte",
                         choices={"Milk": "Almond"})  # type: ignore[dict-item]
    assert order.modifiers == [{"group": "Milk", "option": "Almond"}]


def test_the_menu_is_the_current_one(shop: Shop, customer: Customer) -> None:
    order = started(shop, customer)
    shop.drinks.filter(name="Latte").update(available=False)
    with refused("invalid_drink", field="drink"):
        order_submit(order=order, customer=customer, drink_name="Latte", choices=LATTE_CHOICE)


def test_a_repeated_submit_is_refused(shop: Shop, customer: Customer) -> None:
    order = queued(shop, customer)
    with refused("invalid_state", http_status=409) as error:
        order_submit(order=order, customer=customer, drink_name="Espresso", choices={})
    assert "already in the queue" in error.value.message
    order.refresh_from_db()
    assert (order.drink, order.order_number) == ("Latte", 1)


def test_a_stale_token_is_refused_and_changes_nothing(
    shop: Shop, customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between reading the order and moving it, its wait was resumed by someone else: the
    conditional update on the old token matches nothing."""
    order = started(shop, customer)
    stale = Order.objects.select_related("shop", "customer", "barista").get(pk=order.pk)
    Order.objects.filter(pk=order.pk).update(wait_token="resumed-by-someone-else")
    monkeypatch.setattr(order_actions, "reload_order", lambda _order: stale)
    with refused("stale_token", http_status=409) as error:
        order_submit(order=order, customer=customer, drink_name="Latte", choices=LATTE_CHOICE)
    assert "changed a moment ago" in error.value.message
    row = Order.objects.get(pk=order.pk)
    assert (row.state, row.wait_token, row.drink) == (S.WAITING_FOR_DRINK,
                                                      "resumed-by-someone-else", "")
    assert not OrderCounter.objects.filter(value__gt=0).exists()


def test_a_foreign_token_cannot_move_an_order(
    shop: Shop, customer: Customer, other_customer: Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine, theirs = started(shop, customer), started(shop, other_customer)
    forged = Order.objects.select_related("shop", "customer", "barista").get(pk=mine.pk)
    forged.wait_token = Order.objects.get(pk=theirs.pk).wait_token
    monkeypatch.setattr(order_actions, "reload_order", lambda _order: forged)
    with refused("stale_token"):
        order_submit(order=mine, customer=customer, drink_name="Espresso", choices={})
    assert Order.objects.get(pk=mine.pk).state == S.WAITING_FOR_DRINK


def test_submitting_after_the_deadline_times_the_order_out(
    shop: Shop, customer: Customer
) -> None:
    order = started(shop, customer)
    Order.objects.filter(pk=order.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    with refused("invalid_state") as error:
        order_submit(order=order, customer=customer, drink_name="Espresso", choices={})
    assert "no drink was chosen within 5 minutes" in error.value.message
    order.refresh_from_db()
    assert (order.state, order.timeout_cause) == (S.TIMED_OUT, TimeoutCause.CUSTOMER)
    assert detail_types(order.pk)[-1] == DetailType.ORDER_TIMEOUT


# Claim, unclaim, complete --------------------------------------------------------------------

def test_a_barista_claims_a_queued_order(shop: Shop, customer: Customer, barista: User) -> None:
    order = queued(shop, customer)
    token = Order.objects.get(pk=order.pk).wait_token
    order = order_claim(order=order, barista=barista)
    row = Order.objects.get(pk=order.pk)
    assert (row.state, row.barista_id) == (S.IN_PRODUCTION, barista.pk)
    assert row.claimed_at is not None
    assert row.wait_token == token  # still the barista's wait, same deadline
    [event] = shop_events(DetailType.MAKE_ORDER)
    assert detail(event) == {
        "shopId": "test", "orderId": order.pk, "orderNumber": 1,
        "baristaUserId": str(barista.pk), "baristaName": "Alice", "userId": str(customer.pk),
        "Message": "Alice is making order #1 (Latte).",
    }


def test_only_baristas_can_act_on_orders(
    shop: Shop, customer: Customer, outsider: User
) -> None:
    order = queued(shop, customer)
    for action in (order_claim, order_complete, order_unclaim):
        with refused("forbidden", http_status=403) as error:
            action(order=order, barista=outsider)
        assert error.value.message.startswith("Only baristas can")
    with refused("forbidden"):
        order_cancel(order=order, by="barista", barista=outsider)
    from django.contrib.auth.models import AnonymousUser

    with refused("forbidden"):
        order_claim(order=order, barista=AnonymousUser())
    assert Order.objects.get(pk=order.pk).state == S.QUEUED


def test_an_order_being_made_cannot_be_claimed_again(
    shop: Shop, customer: Customer, barista: User, other_barista: User
) -> None:
    order = claimed(shop, customer, barista)
    with refused("invalid_state") as error:
        order_claim(order=order, barista=other_barista)
    assert error.value.message == "Alice is already making this order."
    with refused("invalid_state") as error:
        order_claim(order=order, barista=barista)
    assert error.value.message == "You are already making this order."


def test_claiming_an_order_still_being_chosen_is_refused(
    shop: Shop, customer: Customer, barista: User
) -> None:
    with refused("invalid_state") as error:
        order_claim(order=started(shop, customer), barista=barista)
    assert "waiting for its drink to be chosen" in error.value.message


def test_only_the_claimer_or_staff_can_hand_an_order_back(
    shop: Shop, customer: Customer, barista: User, other_barista: User, staff: User
) -> None:
    order = claimed(shop, customer, barista)
    with refused("forbidden") as error:
        order_unclaim(order=order, barista=other_barista)
    assert "Alice is making this order: only they or a shop manager" in error.value.message
    order = order_unclaim(order=order, barista=barista)
    row = Order.objects.get(pk=order.pk)
    assert (row.state, row.barista_id, row.claimed_at) == (S.QUEUED, None, None)
    unclaim = shop_events(DetailType.MAKE_ORDER)[-1]
    assert (detail(unclaim)["baristaUserId"], detail(unclaim)["baristaName"]) == ("", "")
    assert "handed order #1 (Latte) back to the queue" in detail(unclaim)["Message"]
    order_claim(order=order, barista=other_barista)
    order_unclaim(order=order, barista=staff)
    assert Order.objects.get(pk=order.pk).state == S.QUEUED
    with refused("invalid_state"):
        order_unclaim(order=order, barista=staff)


def test_completing_finishes_the_workflow_with_its_outcome(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order = order_complete(order=claimed(shop, customer, barista), barista=barista)
    row = Order.objects.get(pk=order.pk)
    assert row.state == S.COMPLETED
    assert (row.wait_kind, row.wait_token, row.deadline_at) == ("", "", None)
    assert row.finished_at is not None
    assert detail_types(order.pk)[-2:] == [DetailType.ORDER_COMPLETED, DetailType.ORDER_FINISHED]
    completed, finished = shop_events(order_id=order.pk)[-2:]
    assert detail(completed)["orderNumber"] == 1
    assert detail(completed)["baristaUserId"] == str(barista.pk)
    assert detail(completed)["drink"] == "Latte"
    assert 0 <= detail(completed)["waitSeconds"] < 60
    assert "Latte is ready for pickup" in detail(completed)["Message"]
    assert detail(finished)["outcome"] == "completed"
    with refused("invalid_state") as error:
        order_complete(order=order, barista=barista)
    assert "already ready for pickup" in error.value.message


def test_a_queued_order_can_be_completed_straight_away(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order = order_complete(order=queued(shop, customer), barista=barista)
    assert Order.objects.get(pk=order.pk).barista_id == barista.pk


def test_another_baristas_order_is_theirs_to_complete(
    shop: Shop, customer: Customer, barista: User, other_barista: User, staff: User
) -> None:
    order = claimed(shop, customer, barista)
    with refused("forbidden"):
        order_complete(order=order, barista=other_barista)
    order_complete(order=order, barista=staff)
    assert Order.objects.get(pk=order.pk).barista_id == barista.pk  # who made it


# Cancelling ----------------------------------------------------------------------------------

def test_a_customer_cancels_before_choosing_and_no_number_is_used(
    shop: Shop, customer: Customer
) -> None:
    order = order_cancel(order=started(shop, customer), by="customer", customer=customer)
    row = Order.objects.get(pk=order.pk)
    assert (row.state, row.cancelled_by, row.order_number) == (S.CANCELLED, "customer", None)
    assert row.wait_token == ""
    cancelled, finished = shop_events(order_id=order.pk)[-2:]
    assert cancelled.detail_type == DetailType.ORDER_CANCELLED
    assert detail(cancelled)["cancelledBy"] == "customer"
    assert detail(cancelled)["reason"] == ""
    assert detail(cancelled)["Message"] == "The customer cancelled the order."
    assert finished.detail_type == DetailType.ORDER_FINISHED
    assert detail(finished)["outcome"] == "cancelled"
    assert not OrderCounter.objects.exists()


def test_a_customer_can_cancel_a_queued_order_but_not_one_being_made(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order_cancel(order=queued(shop, customer), by="customer", customer=customer)
    second = claimed(shop, customer, barista)
    with refused("invalid_state") as error:
        order_cancel(order=second, by="customer", customer=customer)
    assert "speak to the barista" in error.value.message
    assert Order.objects.get(pk=second.pk).state == S.IN_PRODUCTION


def test_a_customer_cannot_cancel_someone_elses_order(
    shop: Shop, customer: Customer, other_customer: Customer
) -> None:
    order = queued(shop, customer)
    with refused("forbidden"):
        order_cancel(order=order, by="customer", customer=other_customer)
    with refused("forbidden"):
        order_cancel(order=order, by="customer")
    assert Order.objects.get(pk=order.pk).state == S.QUEUED


def test_a_barista_cancels_with_a_reason(
    shop: Shop, customer: Customer, barista: User, other_barista: User
) -> None:
    order = claimed(shop, customer, barista)
    with refused("forbidden"):
        order_cancel(order=order, by="barista", barista=other_barista, reason="mine now")
    with refused("invalid_reason", field="reason"):
        order_cancel(order=order, by="barista", barista=barista, reason="x" * 201)
    order_cancel(order=order, by="barista", barista=barista, reason="  Out of  oat milk ")
    row = Order.objects.get(pk=order.pk)
    assert (row.state, row.cancelled_by, row.cancel_reason) == (
        S.CANCELLED, "barista", "Out of oat milk")
    cancelled = shop_events(DetailType.ORDER_CANCELLED)[-1]
    assert detail(cancelled)["Message"] == (
        "Alice (barista) cancelled order #1: Out of oat milk")
    with refused("invalid_state") as error:
        order_cancel(order=order, by="barista", barista=barista)
    assert "has been cancelled" in error.value.message


def test_cancelled_by_must_be_customer_or_barista(shop: Shop, customer: Customer) -> None:
    with refused("forbidden", field="by"):
        order_cancel(order=started(shop, customer), by="system", customer=customer)


# Time-outs -----------------------------------------------------------------------------------

def test_overdue_orders_time_out_with_their_cause(
    shop: Shop, customer: Customer, other_customer: Customer, barista: User
) -> None:
    shop.max_orders_per_customer_per_day = 5
    shop.save()
    # Deadlines count from each order's own step, between these two moments (a busy machine
    # may take seconds to make four orders).
    before = timezone.now()
    choosing = started(shop, customer)
    waiting = queued(shop, other_customer)
    making = claimed(shop, customer, barista)
    done = queued(shop, other_customer)
    order_complete(order=done, barista=barista)
    after = timezone.now()
    assert orders_time_out_overdue(now=before + timedelta(seconds=299)) == 0
    assert orders_time_out_overdue(now=after + timedelta(seconds=301)) == 1
    assert orders_time_out_overdue(now=after + timedelta(seconds=901)) == 2
    assert orders_time_out_overdue(now=after + timedelta(days=1)) == 0
    causes = {o.pk: (o.state, o.timeout_cause) for o in Order.objects.all()}
    assert causes[choosing.pk] == (S.TIMED_OUT, "Customer timedout")
    assert causes[waiting.pk] == (S.TIMED_OUT, "Barista timedout")
    assert causes[making.pk] == (S.TIMED_OUT, "Barista timedout")
    assert causes[done.pk] == (S.COMPLETED, "")
    events = {detail(e)["orderId"]: detail(e) for e in shop_events(DetailType.ORDER_TIMEOUT)}
    assert set(events) == {choosing.pk, waiting.pk, making.pk}
    assert events[choosing.pk]["cause"] == "Customer timedout"
    assert "no drink was chosen within 5 minutes" in events[choosing.pk]["Message"]
    assert events[waiting.pk]["cause"] == "Barista timedout"
    assert "did not complete order #" in events[waiting.pk]["Message"]
    assert "within 15 minutes" in events[waiting.pk]["Message"]
    assert set(events[making.pk]) == {"shopId", "orderId", "orderNumber", "userId", "cause",
                                      "Message"}
    row = Order.objects.get(pk=making.pk)
    assert (row.wait_token, row.deadline_at) == ("", None)


def test_a_timed_out_order_takes_no_more_actions(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order = queued(shop, customer)
    orders_time_out_overdue(now=timezone.now() + timedelta(hours=1))
    for action in (order_claim, order_complete):
        with refused("invalid_state") as error:
            action(order=order, barista=barista)
        assert "has timed out" in error.value.message
    with refused("invalid_state"):
        order_cancel(order=order, by="customer", customer=customer)


def test_acting_after_the_barista_deadline_times_out_instead(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order = claimed(shop, customer, barista)
    Order.objects.filter(pk=order.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))
    with refused("invalid_state") as error:
        order_complete(order=order, barista=barista)
    assert "did not complete order #1 within 15 minutes" in error.value.message
    assert Order.objects.get(pk=order.pk).timeout_cause == "Barista timedout"
    assert not shop_events(DetailType.ORDER_COMPLETED)


# The order store's announcement --------------------------------------------------------------

def test_a_queued_order_is_announced_once_with_its_drink(
    shop: Shop, customer: Customer
) -> None:
    order = queued(shop, customer)
    assert order_announce(order_id=order.pk) is True
    assert order_announce(order_id=order.pk) is False
    [event] = shop_events(DetailType.MANAGER_WAITING_COMPLETION)
    assert detail(event) == {
        "shopId": "test", "orderId": order.pk, "orderNumber": 1, "state": "QUEUED",
        "drinkOrder": {"drink": "Latte", "modifiers": ["Oat", "Vanilla"],
                       "choices": {"Milk": ["Oat"], "Extras": ["Vanilla"]}, "icon": "latte"},
        "userId": str(customer.pk), "robot": False,
        "Message": "Order #1, Latte (Oat, Vanilla), is waiting for a barista.",
    }
    assert Order.objects.get(pk=order.pk).announced_at is not None


def test_an_order_that_left_the_queue_is_not_announced(shop: Shop, customer: Customer) -> None:
    order = order_cancel(order=queued(shop, customer), by="customer", customer=customer)
    assert order_announce(order_id=order.pk) is False
    assert not shop_events(DetailType.MANAGER_WAITING_COMPLETION)


# Shop settings and menu ----------------------------------------------------------------------

def test_baristas_open_and_close_the_shop(shop: Shop, barista: User, outsider: User) -> None:
    with refused("forbidden"):
        shop_set_open(shop=shop, is_open=False, user=outsider)
    shop = shop_set_open(shop=shop, is_open=False, user=barista)
    assert Shop.objects.get(pk=shop.pk).is_open is False
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert detail(event)["config"]["open"] is False
    assert detail(event)["config"]["maxQueue"] == 10
    assert detail(event)["menuVersion"] == shop.config_version == 2
    assert [d["name"] for d in detail(event)["menu"]] == ["Espresso", "Latte", "Cappuccino"]
    assert detail(event)["Message"] == "Alice closed Test Bar."
    shop_set_open(shop=shop, is_open=False, user=barista)  # no change: nothing announced
    assert len(shop_events(DetailType.CONFIG_CHANGED)) == 1


def test_staff_change_settings_which_are_validated(
    shop: Shop, barista: User, staff: User
) -> None:
    with refused("forbidden"):
        shop_update_config(shop=shop, user=barista, max_queue=5)
    with refused("invalid_config", field="max_queue") as error:
        shop_update_config(shop=shop, user=staff, max_queue=0)
    assert "Max queue" in error.value.message
    with refused("invalid_config", field="timezone") as error:
        shop_update_config(shop=shop, user=staff, timezone="Mars/Olympus")
    assert "not a time zone name" in error.value.message
    with refused("invalid_config", field="slug"):
        shop_update_config(shop=shop, user=staff, slug="other")
    assert Shop.objects.get(pk=shop.pk).max_queue == 10
    shop = shop_update_config(shop=shop, user=staff, max_queue="12", timezone="Europe/Paris",
                              name="Test Bar")
    row = Shop.objects.get(pk=shop.pk)
    assert (row.max_queue, row.timezone, row.config_version) == (12, "Europe/Paris", 2)
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert detail(event)["config"]["maxQueue"] == 12
    assert "max queue 10 → 12; timezone UTC → Europe/Paris" in detail(event)["Message"]
    shop_update_config(shop=shop, user=staff, max_queue=12)
    assert len(shop_events(DetailType.CONFIG_CHANGED)) == 1


def test_menu_changes_bump_the_version_and_are_announced(
    shop: Shop, barista: User, staff: User
) -> None:
    cappuccino = Drink.objects.get(shop=shop, name="Cappuccino")
    cappuccino.available = True
    with refused("forbidden"):
        menu_change(shop=shop, user=barista, change="Cappuccino is back", saved=[cappuccino])
    assert Drink.objects.get(pk=cappuccino.pk).available is False
    shop = menu_change(shop=shop, user=staff, change="Cappuccino is back", saved=[cappuccino])
    assert shop.config_version == 2
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert detail(event)["Message"] == "Manager changed the menu of Test Bar: Cappuccino is back."
    announced = next(d for d in detail(event)["menu"] if d["name"] == "Cappuccino")
    assert announced["available"] is True


def test_a_drink_is_added_with_its_choices_in_one_announced_change(
    shop: Shop, staff: User
) -> None:
    mocha = Drink(shop=shop, name="Mocha", icon="latte", position=5)
    size = ModifierGroup(drink=mocha, name="Size", required=True)
    small, large = (ModifierOption(group=size, name="Small"),
                    ModifierOption(group=size, name="Large", position=1))
    menu_change(shop=shop, user=staff, change="Mocha added", saved=[mocha, size, small, large])
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    announced = next(d for d in detail(event)["menu"] if d["name"] == "Mocha")
    assert announced["groups"][0]["options"] == ["Small", "Large"]


def test_menu_rows_are_checked_before_anything_is_written(
    shop: Shop, staff: User
) -> None:
    other = make_shop("other")
    theirs = Drink.objects.get(shop=other, name="Espresso")
    theirs.name = "Ristretto"
    twin = Drink(shop=shop, name="Latte", icon="latte")
    unnamed = Drink(shop=shop, name="", icon="cup")
    with refused("invalid_menu") as error:
        menu_change(shop=shop, user=staff, change="x", saved=[theirs])
    assert error.value.message == "Ristretto is not on the menu of Test Bar."
    with refused("invalid_menu") as error:
        menu_change(shop=shop, user=staff, change="x", saved=[twin])
    assert "already exists" in error.value.message
    with refused("invalid_menu", field="name"):
        menu_change(shop=shop, user=staff, change="x", saved=[unnamed])
    milk = ModifierGroup.objects.get(drink__shop=shop, name="Milk")
    with refused("invalid_menu", field="required") as error:
        menu_change(shop=shop, user=staff, change="x", removed=list(milk.options.all()))
    assert "no one could order a Latte" in error.value.message
    assert milk.options.count() == 3
    assert Drink.objects.get(pk=theirs.pk).name == "Espresso"
    assert not Drink.objects.filter(shop=shop, name="").exists()
    assert not shop_events(DetailType.CONFIG_CHANGED)


def test_staff_create_shops(staff: User, barista: User) -> None:
    with refused("forbidden"):
        shop_create(slug="new", name="New", user=barista)
    with refused("invalid_config", field="slug"):
        shop_create(slug="Not A Slug", name="New", user=staff)
    shop = shop_create(slug="new", name="New Bar", user=staff, max_queue=3)
    assert (shop.is_open, shop.max_queue) == (False, 3)
    with refused("invalid_config", field="slug"):
        shop_create(slug="new", name="Again", user=staff)
    [event] = shop_events(DetailType.CONFIG_CHANGED)
    assert detail(event)["shopId"] == "new"


# Across the whole flow -----------------------------------------------------------------------

def test_a_whole_order_emits_the_reference_sequence_and_never_a_secret(
    shop: Shop, customer: Customer, barista: User
) -> None:
    order = started(shop, customer)
    secrets_seen = {Order.objects.get(pk=order.pk).wait_token, qr_window_current(shop=shop).code}
    order = order_submit(order=order, customer=customer, drink_name="Espresso", choices={})
    order_announce(order_id=order.pk)
    secrets_seen.add(Order.objects.get(pk=order.pk).wait_token)
    order_claim(order=order, barista=barista)
    order_complete(order=order, barista=barista)
    assert detail_types(order.pk) == [
        "Validator.NewOrder", "OrderProcessor.WorkflowStarted",
        "OrderProcessor.WaitingCompletion", "OrderManager.WaitingCompletion",
        "OrderManager.MakeOrder", "OrderManager.OrderCompleted", "OrderProcessor.orderFinished",
    ]
    everything = json.dumps([e.envelope() for e in shop_events()])
    for secret in secrets_seen:
        assert secret not in everything
    for event in shop_events():
        assert event.detail["Message"]
        assert event.detail["shopId"] == "test"
        assert event.published_by == "service:orders"


def test_a_refused_action_emits_nothing(shop: Shop, customer: Customer) -> None:
    order = queued(shop, customer)
    count = Event.objects.count()
    with pytest.raises(OrderError):
        order_submit(order=order, customer=customer, drink_name="Latte", choices=LATTE_CHOICE)
    assert Event.objects.count() == count
