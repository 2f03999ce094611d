"""The shop's pages and actions through Django's test client: who may see what (owner-only
order pages, barista-only screens and actions), CSRF, and how errors are shown."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Customer, JourneyEntry, Order, Shop
from orders.permissions import SESSION_CUSTOMER_KEY
from orders.services import order_start, qr_window_current
from orders.workflow import CancelledBy, OrderState
from tests.orders.test_live_support import (
    SECRET_TOKEN,
    TEST_PASSWORD,
    make_customer,
    make_order,
    make_shop,
    make_user,
)

pytestmark = pytest.mark.django_db


def as_customer(customer: Customer) -> Client:
    """The customer's browser: signed in to their account, or a guest's session."""
    client = Client()
    if customer.user is not None:
        client.force_login(customer.user)
        return client
    session = client.session
    session[SESSION_CUSTOMER_KEY] = str(customer.pk)
    session.save()
    return client


def as_user(user: Any, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    # django-axes checks every authenticate() against the request it came with.
    assert client.login(request=HttpRequest(), username=user.get_username(),
                        password=TEST_PASSWORD)
    return client


def scan_url(shop: Shop, code: str) -> str:
    return reverse("orders:shop-order", args=[shop.slug]) + f"?code={code}"


def redeem(client: Client, shop: Shop, **data: str) -> Any:
    code = qr_window_current(shop=shop).code
    return client.post(reverse("orders:shop-order", args=[shop.slug]), {"code": code, **data})


# --- landing and scanning -------------------------------------------------------------------

def test_landing_page_says_whether_the_shop_is_open() -> None:
    shop = make_shop(is_open=False)
    response = Client().get(reverse("orders:shop", args=[shop.slug]))
    assert response.status_code == 200
    assert "Scan the QR code on the display" in response.text
    assert "We are not taking orders right now" in response.text
    assert 'id="public-snapshot"' in response.text
    assert Client().get("/shop/no-such-shop/").status_code == 404


def test_scan_sends_a_stranger_to_sign_in_and_back() -> None:
    shop = make_shop()
    code = qr_window_current(shop=shop).code
    for response in (Client().get(scan_url(shop, code)), redeem(Client(), shop, name="Ada")):
        assert response.status_code == 302
        assert response["Location"] == (
            reverse("account_request_login_code") + "?next=" + quote(scan_url(shop, code), safe="/")
        )
    assert not Order.objects.exists()
    assert not Customer.objects.exists()


def test_fresh_browser_sessions_take_no_places_without_an_account() -> None:
    """The attack of issue 13: eight fresh sessions, each with a new name, took eight places of
    one code. Now each is sent to sign in, and the window keeps every place."""
    shop = make_shop(drinks_per_window=10, max_orders_per_customer_per_day=1)
    for n in range(8):
        response = redeem(Client(), shop, name=f"Sneaky {n}")
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_request_login_code"))
    assert qr_window_current(shop=shop).redeemed == 0
    assert not Order.objects.exists()


def test_a_guest_orders_only_where_the_shop_allows_it_and_is_told_the_trade_off() -> None:
    shop = make_shop(guest_orders=True)
    client = Client()
    page = client.get(scan_url(shop, qr_window_current(shop=shop).code))
    assert "What's your name?" in page.text
    assert "the daily limit counts per browser" in page.text
    response = redeem(client, shop, name="Guest Ada")
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.customer.user is None
    assert client.session[SESSION_CUSTOMER_KEY] == str(order.customer_id)


def test_scan_asks_a_signed_in_newcomers_name_once_then_redeems() -> None:
    shop = make_shop()
    client = Client()
    account = make_user("ada", password=TEST_PASSWORD)
    client.force_login(account)
    code = qr_window_current(shop=shop).code
    page = client.get(scan_url(shop, code))
    assert page.status_code == 200
    assert "What's your name?" in page.text
    assert "remember it with your account" in page.text
    assert f'value="{code}"' in page.text

    blank = redeem(client, shop, name="   ")
    assert blank.status_code == 400
    assert "Please tell us your name" in blank.text
    assert not Order.objects.exists()

    response = redeem(client, shop, name="  Ada   Lovelace ")
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order", args=[order.pk])
    assert order.customer.name == "Ada Lovelace"
    assert order.customer.user == account
    assert order.state == OrderState.NEW
    starting = client.get(response["Location"])
    assert "Starting your order…" in starting.text

    # Next time the account is known: one tap, no name asked (another day's limit permitting).
    Shop.objects.filter(pk=shop.pk).update(max_orders_per_customer_per_day=2)
    again = client.get(scan_url(shop, code))
    assert "Hi Ada Lovelace!" in again.text
    assert "What's your name?" not in again.text


def test_a_link_without_code_says_to_scan() -> None:
    shop = make_shop()
    response = Client().get(reverse("orders:shop-order", args=[shop.slug]))
    assert response.status_code == 400
    assert "scan the QR code" in response.text


def test_a_wrong_code_is_refused_with_what_to_do() -> None:
    shop = make_shop()
    client = as_customer(make_customer())
    response = client.post(reverse("orders:shop-order", args=[shop.slug]), {"code": "nope"})
    assert response.status_code == 400
    assert 'data-redeem-error="invalid_code"' in response.text
    assert "Scan the QR code on the shop" in response.text
    assert not Order.objects.exists()


def test_a_used_up_code_and_the_daily_limit_are_explained() -> None:
    shop = make_shop(drinks_per_window=1, max_orders_per_customer_per_day=1)
    ada = as_customer(make_customer("Ada"))
    assert redeem(ada, shop).status_code == 302
    first = Order.objects.get()

    used_up = redeem(as_customer(make_customer("Bo")), shop)
    assert used_up.status_code == 400
    assert 'data-redeem-error="window_exhausted"' in used_up.text
    assert "A new code appears on the display" in used_up.text

    limited = redeem(ada, shop)
    assert limited.status_code == 400
    assert 'data-redeem-error="daily_limit"' in limited.text
    assert "You can order again tomorrow" in limited.text
    # The order in progress is one tap away.
    assert reverse("orders:order", args=[first.pk]) in limited.text


# --- the order page -------------------------------------------------------------------------

def test_order_pages_are_for_their_owner_only() -> None:
    shop = make_shop()
    ada, bob = make_customer("Ada"), make_customer("Bob")
    order = make_order(shop, ada)
    paths = [reverse(name, args=[order.pk])
             for name in ("orders:order", "orders:journey")]
    barista = as_user(make_user("bea", barista=True))
    for path in paths:
        assert as_customer(ada).get(path).status_code == 200
        assert as_customer(bob).get(path).status_code == 404
        assert Client().get(path).status_code == 404
        assert barista.get(path).status_code == 404
    for name in ("orders:order-submit", "orders:order-cancel"):
        assert as_customer(bob).post(reverse(name, args=[order.pk])).status_code == 404
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED
    assert SECRET_TOKEN not in as_customer(ada).get(paths[0]).text


def started_order(shop: Shop, customer: Customer) -> Order:
    client = as_customer(customer)
    redeem(client, shop)
    return order_start(order_id=Order.objects.get(customer=customer).pk)


def test_the_menu_offers_drinks_and_their_options() -> None:
    shop = make_shop()
    ada = make_customer("Ada")
    order = started_order(shop, ada)
    assert order.state == OrderState.WAITING_FOR_DRINK
    page = as_customer(ada).get(reverse("orders:order", args=[order.pk])).text
    assert 'name="drink" value="Latte"' in page
    assert "latte.svg" in page
    assert "required" in page
    assert 'type="radio" name="m:Latte:Milk" value="Oat"' in page
    assert 'type="checkbox" name="m:Latte:Extras" value="Vanilla"' in page
    assert 'data-deadline="' in page


def test_submitting_a_drink_queues_the_order() -> None:
    shop = make_shop()
    ada = make_customer("Ada")
    order = started_order(shop, ada)
    response = as_customer(ada).post(reverse("orders:order-submit", args=[order.pk]), {
        "drink": "Latte", "m:Latte:Milk": "Oat", "m:Latte:Extras": ["Vanilla", "Caramel"],
        # Another drink's fields (posted when a page runs without JavaScript) are ignored.
        "m:Espresso:Extras": "Caramel",
    })
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == OrderState.QUEUED
    assert order.modifiers == [{"group": "Milk", "option": "Oat"},
                               {"group": "Extras", "option": "Vanilla"},
                               {"group": "Extras", "option": "Caramel"}]


def test_a_refused_drink_shows_why_and_keeps_the_choice() -> None:
    shop = make_shop()
    ada = make_customer("Ada")
    order = started_order(shop, ada)
    response = as_customer(ada).post(reverse("orders:order-submit", args=[order.pk]), {
        "drink": "Latte", "m:Latte:Extras": "Vanilla",
    })
    assert response.status_code == 400
    assert "Please choose a Milk option." in response.text
    assert 'data-field-error="Milk"' in response.text
    assert 'value="Latte" required checked' in response.text
    assert 'name="m:Latte:Extras" value="Vanilla" checked' in response.text
    assert Order.objects.get(pk=order.pk).state == OrderState.WAITING_FOR_DRINK


def test_a_customer_cancels_while_queued_but_not_once_it_is_being_made() -> None:
    shop = make_shop()
    ada = make_customer("Ada")
    queued = make_order(shop, ada)
    client = as_customer(ada)
    response = client.post(reverse("orders:order-cancel", args=[queued.pk]),
                           {"reason": "Changed my mind"})
    assert response.status_code == 302
    queued.refresh_from_db()
    assert queued.state == OrderState.CANCELLED
    assert queued.cancelled_by == CancelledBy.CUSTOMER
    assert queued.cancel_reason == "Changed my mind"

    making = make_order(shop, ada, number=2, state=OrderState.IN_PRODUCTION,
                        barista=make_user("bea", barista=True))
    refused = client.post(reverse("orders:order-cancel", args=[making.pk]))
    assert refused.status_code == 409
    assert "Please speak to the barista" in refused.text
    assert Order.objects.get(pk=making.pk).state == OrderState.IN_PRODUCTION


def test_the_journey_lists_the_orders_events() -> None:
    shop = make_shop()
    ada = make_customer("Ada")
    order = make_order(shop, ada)
    JourneyEntry.objects.create(order=order, event_id=uuid.uuid4(),
                                detail_type="OrderManager.WaitingCompletion",
                                message="Order #1 is waiting for a barista.",
                                time=timezone.now())
    page = as_customer(ada).get(reverse("orders:journey", args=[order.pk])).text
    assert "Waiting completion" in page
    assert "Order #1 is waiting for a barista." in page


def test_my_orders_lists_only_mine() -> None:
    shop = make_shop()
    ada, bob = make_customer("Ada"), make_customer("Bob")
    make_order(shop, ada, drink="Flat White")
    make_order(shop, bob, number=2, drink="Mocha")
    page = as_customer(ada).get(reverse("orders:my-orders")).text
    assert "Flat White" in page
    assert "Mocha" not in page
    assert "not ordered from this browser" in Client().get(reverse("orders:my-orders")).text


# --- barista and display --------------------------------------------------------------------

def test_barista_and_display_pages_need_a_barista_login() -> None:
    shop = make_shop()
    for name in ("orders:barista", "orders:display"):
        path = reverse(name, args=[shop.slug])
        anonymous = Client().get(path)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/")
        guest_only = as_customer(make_customer(guest=True)).get(path)
        assert guest_only.status_code == 302
        # A signed-in customer is somebody, just not a barista.
        customer_only = as_customer(make_customer()).get(path)
        assert customer_only.status_code == 403
        assert "Baristas only" in customer_only.text
        forbidden = as_user(make_user(f"someone-{name[-3:]}")).get(path)
        assert forbidden.status_code == 403
        assert "Baristas only" in forbidden.text
    barista = as_user(make_user("bea", barista=True))
    staff = as_user(make_user("sam", staff=True))
    for client in (barista, staff):
        assert client.get(reverse("orders:barista", args=[shop.slug])).status_code == 200
        assert client.get(reverse("orders:display", args=[shop.slug])).status_code == 200
    assert barista.get("/shop/no-such-shop/barista/").status_code == 404


def test_barista_page_carries_a_snapshot_without_tokens() -> None:
    shop = make_shop()
    make_order(shop, make_customer("Ada Lovelace"), number=4)
    page = as_user(make_user("bea", barista=True)).get(reverse("orders:barista", args=[shop.slug]))
    assert 'id="board-snapshot"' in page.text
    assert '"number": 4' in page.text
    assert SECRET_TOKEN not in page.text
    assert "Lovelace" not in page.text


def test_display_shows_the_qr_code_of_the_current_window() -> None:
    shop = make_shop()
    window = qr_window_current(shop=shop)
    client = as_user(make_user("bea", barista=True))
    page = client.get(reverse("orders:display", args=[shop.slug]))
    expected_url = f"http://testserver/shop/{shop.slug}/order?code={window.code}"
    assert f'data-url="{expected_url}"' in page.text
    assert '<svg viewBox="' in page.text
    data = client.get(reverse("orders:display-window", args=[shop.slug])).json()
    assert data["window"]["url"] == expected_url
    assert data["window"]["remaining"] == shop.drinks_per_window
    assert data["window"]["svg"].startswith("<svg")
    assert Client().get(reverse("orders:display-window", args=[shop.slug])).status_code == 401


def test_a_closed_shop_serves_no_qr_code_at_all() -> None:
    shop = make_shop(is_open=False)
    window = qr_window_current(shop=shop)
    client = as_user(make_user("bea", barista=True))
    page = client.get(reverse("orders:display", args=[shop.slug]))
    assert "Sorry, we&#x27;re closed" in page.text or "Sorry, we're closed" in page.text
    assert window.code not in page.text
    assert "order?code=" not in page.text
    data = client.get(reverse("orders:display-window", args=[shop.slug])).json()
    assert (data["window"], data["is_open"]) == (None, False)


def action(client: Client, order: Order, name: str, **data: str) -> Any:
    return client.post(reverse("orders:barista-action", args=[order.shop.slug, order.pk, name]),
                       data)


def test_barista_actions_refuse_anyone_but_baristas_with_json() -> None:
    shop = make_shop()
    order = make_order(shop, make_customer())
    anonymous = action(Client(), order, "claim")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_logged_in"
    guest = action(as_customer(make_customer("Bo", guest=True)), order, "claim")
    assert guest.status_code == 401
    customer = action(as_customer(make_customer("Cy")), order, "claim")
    assert customer.status_code == 403
    someone = action(as_user(make_user("someone")), order, "claim")
    assert someone.status_code == 403
    assert someone.json()["message"] == "Only baristas and staff can do this."
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED


def test_barista_actions_need_the_csrf_token() -> None:
    shop = make_shop()
    order = make_order(shop, make_customer())
    client = as_user(make_user("bea", barista=True), enforce_csrf_checks=True)
    assert action(client, order, "claim").status_code == 403
    client.get(reverse("orders:barista", args=[shop.slug]))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("orders:barista-action", args=[shop.slug, order.pk, "claim"]),
                           HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json()["order"]["state"] == OrderState.IN_PRODUCTION


def test_claim_unclaim_complete_and_the_errors_they_meet() -> None:
    shop = make_shop()
    order = make_order(shop, make_customer())
    bea = as_user(make_user("bea", barista=True))
    cy = as_user(make_user("cy", barista=True))

    claimed = action(bea, order, "claim")
    assert claimed.status_code == 200
    assert claimed.json()["order"]["barista"] == "bea"
    twice = action(cy, order, "claim")
    assert twice.status_code == 409
    assert "already making this order" in twice.json()["message"]
    assert action(bea, order, "unclaim").status_code == 200
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED
    assert action(cy, order, "claim").status_code == 200
    completed = action(cy, order, "complete")
    assert completed.status_code == 200
    assert completed.json()["order"]["state"] == OrderState.COMPLETED
    again = action(cy, order, "complete")
    assert again.status_code == 409
    assert again.json()["message"]

    unknown = action(bea, order, "brew")
    assert unknown.status_code == 404
    assert unknown.json()["field"] == "action"
    elsewhere = make_shop("elsewhere")
    misplaced = bea.post(reverse("orders:barista-action", args=[elsewhere.slug, order.pk,
                                                                "cancel"]))
    assert misplaced.status_code == 404


def test_barista_cancel_keeps_the_reason_for_the_customer() -> None:
    shop = make_shop()
    order = make_order(shop, make_customer())
    response = action(as_user(make_user("bea", barista=True)), order, "cancel",
                      reason="Out of oat milk")
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.state, order.cancelled_by, order.cancel_reason) == (
        OrderState.CANCELLED, CancelledBy.BARISTA, "Out of oat milk")


def test_baristas_open_and_close_the_shop() -> None:
    shop = make_shop(is_open=True)
    client = as_user(make_user("bea", barista=True))
    url = reverse("orders:barista-open", args=[shop.slug])
    closed = client.post(url, {"is_open": "false"})
    assert closed.status_code == 200
    assert closed.json()["shop"]["is_open"] is False
    assert Shop.objects.get(pk=shop.pk).is_open is False
    bad = client.post(url, {"is_open": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["field"] == "is_open"
    assert client.get(url).status_code == 405
    assert as_user(make_user("someone")).post(url, {"is_open": "true"}).status_code == 403
    assert json.loads(client.post(url, {"is_open": "true"}).content)["shop"]["is_open"] is True
