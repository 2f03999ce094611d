"""The order API round-trips with each role (a customer, a barista of the shop, staff) and
refuses the others (anonymous, another customer, a barista of another shop) in one JSON shape."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from orders.models import Customer, Order, Shop
from orders.privacy import customer_erase
from orders.workflow import OrderState
from tests.orders.conftest import make_barista, make_shop, queued

pytestmark = pytest.mark.django_db


def signed_in(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


@pytest.fixture
def other_shop(db: None) -> Shop:
    return make_shop("other", name="Other Bar")


@pytest.fixture
def own_barista(shop: Shop) -> User:
    user = make_barista("alice")
    shop.baristas.add(user)
    return user


@pytest.fixture
def foreign_barista(other_shop: Shop) -> User:
    user = make_barista("bob")
    other_shop.baristas.add(user)
    return user


def test_a_customer_reads_their_own_orders_and_nobody_elses(
        shop: Shop, customer: Customer, other_customer: Customer) -> None:
    mine = queued(shop, customer)
    theirs = queued(shop, other_customer, drink="Espresso")
    client = signed_in(customer.user)

    listed = client.get("/api/me/orders")
    assert listed.status_code == 200
    assert [order["id"] for order in listed.json()["orders"]] == [mine.pk]

    one = client.get(f"/api/orders/{mine.pk}")
    assert one.status_code == 200
    body = one.json()
    assert body["order"]["id"] == mine.pk
    assert body["order"]["state"] == OrderState.QUEUED
    assert [step["detailType"] for step in body["journey"]] == []  # no subscriber ran here
    assert "wait_token" not in str(body)

    assert_error(client.get(f"/api/orders/{theirs.pk}"), 404, "not_found")
    assert_error(client.get(f"/api/orders/{mine.pk}x"), 404, "not_found")
    # Customers do not run shops.
    assert_error(client.get(f"/api/shops/{shop.slug}/orders"), 403, "forbidden")
    assert_error(client.post(f"/api/shops/{shop.slug}/orders/{mine.pk}/complete"), 403,
                 "forbidden")


def test_anonymous_callers_are_asked_to_sign_in(shop: Shop, customer: Customer) -> None:
    order = queued(shop, customer)
    anonymous = Client()
    assert_error(anonymous.get("/api/me/orders"), 401, "not_logged_in")
    assert_error(anonymous.get(f"/api/orders/{order.pk}"), 401, "not_logged_in")
    assert_error(anonymous.get(f"/api/shops/{shop.slug}/orders"), 401, "not_logged_in")
    assert_error(anonymous.post(f"/api/shops/{shop.slug}/orders/{order.pk}/claim"), 401,
                 "not_logged_in")
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED


def test_a_barista_lists_by_state_and_makes_an_order(
        shop: Shop, customer: Customer, other_customer: Customer, own_barista: User) -> None:
    first = queued(shop, customer)
    second = queued(shop, other_customer, drink="Espresso")
    client = signed_in(own_barista)

    everything = client.get(f"/api/shops/{shop.slug}/orders").json()
    assert {order["id"] for order in everything["orders"]} == {first.pk, second.pk}
    assert "customer_id" not in str(everything)

    claim = client.post(f"/api/shops/{shop.slug}/orders/{first.pk}/claim")
    assert claim.status_code == 200
    assert claim.json()["order"]["state"] == OrderState.IN_PRODUCTION

    making = client.get(f"/api/shops/{shop.slug}/orders?state=IN_PRODUCTION").json()
    assert [order["id"] for order in making["orders"]] == [first.pk]
    both = client.get(f"/api/shops/{shop.slug}/orders?state=QUEUED,IN_PRODUCTION").json()
    assert len(both["orders"]) == 2

    done = client.post(f"/api/shops/{shop.slug}/orders/{first.pk}/complete")
    assert done.json()["order"]["state"] == OrderState.COMPLETED
    one = client.get(f"/api/orders/{first.pk}").json()
    assert one["order"]["state"] == OrderState.COMPLETED
    assert one["order"]["customer"] == "Ada"

    cancel = client.post(f"/api/shops/{shop.slug}/orders/{second.pk}/cancel",
                         {"reason": "Out of beans"})
    assert cancel.json()["order"]["state"] == OrderState.CANCELLED
    assert Order.objects.get(pk=second.pk).cancel_reason == "Out of beans"


def test_barista_actions_refuse_clearly(shop: Shop, customer: Customer,
                                        own_barista: User) -> None:
    order = queued(shop, customer)
    client = signed_in(own_barista)
    base = f"/api/shops/{shop.slug}/orders"
    assert_error(client.post(f"{base}/{order.pk}/brew"), 404, "unknown_action")
    assert_error(client.post(f"{base}/nope/claim"), 404, "not_found")
    assert_error(client.post(f"/api/shops/nowhere/orders/{order.pk}/claim"), 404, "not_found")
    assert_error(client.get(f"{base}?state=BREWING"), 400, "invalid_filter")
    assert_error(client.get(f"{base}/{order.pk}/claim"), 405, "MethodNotAllowed")
    assert_error(client.post(f"{base}/{order.pk}/cancel", {"reason": "x" * 500}), 400,
                 "invalid_reason")
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED
    assert client.post(f"{base}/{order.pk}/complete").status_code == 200
    # A finished order cannot be made again: a state error, said as such.
    assert_error(client.post(f"{base}/{order.pk}/claim"), 409, "invalid_state")


def test_a_barista_of_another_shop_is_refused(shop: Shop, customer: Customer,
                                              own_barista: User, foreign_barista: User) -> None:
    order = queued(shop, customer)
    client = signed_in(foreign_barista)
    assert_error(client.get(f"/api/shops/{shop.slug}/orders"), 403, "forbidden")
    assert_error(client.post(f"/api/shops/{shop.slug}/orders/{order.pk}/claim"), 403,
                 "forbidden")
    assert_error(client.get(f"/api/orders/{order.pk}"), 404, "not_found")
    # Nor can they reach it through their own shop.
    assert_error(client.post(f"/api/shops/other/orders/{order.pk}/claim"), 404, "not_found")
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED


def test_staff_run_every_shop(shop: Shop, customer: Customer, own_barista: User) -> None:
    order = queued(shop, customer)
    manager = make_barista("manager", staff=True)
    response = signed_in(manager).post(f"/api/shops/{shop.slug}/orders/{order.pk}/claim")
    assert response.status_code == 200


def test_a_shop_naming_no_baristas_is_run_by_every_barista(shop: Shop,
                                                           customer: Customer) -> None:
    order = queued(shop, customer)
    response = signed_in(make_barista("carol")).get(f"/api/shops/{shop.slug}/orders")
    assert [found["id"] for found in response.json()["orders"]] == [order.pk]


def test_writes_need_the_csrf_token(shop: Shop, customer: Customer, own_barista: User) -> None:
    order = queued(shop, customer)
    client = signed_in(own_barista, enforce_csrf_checks=True)
    url = f"/api/shops/{shop.slug}/orders/{order.pk}/claim"
    assert_error(client.post(url), 403, "CsrfCheckFailed")
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    assert client.post(url, HTTP_X_CSRFTOKEN=token).status_code == 200


def test_after_erase_the_api_names_nobody(shop: Shop, customer: Customer,
                                          own_barista: User) -> None:
    order = queued(shop, customer)
    customer_erase(customer=customer)
    answers = [signed_in(own_barista).get(f"/api/shops/{shop.slug}/orders").content,
               signed_in(own_barista).get(f"/api/orders/{order.pk}").content,
               signed_in(customer.user).get("/api/me/orders").content,
               signed_in(customer.user).get(f"/api/orders/{order.pk}").content]
    for answer in answers:
        assert b"Ada" not in answer


def test_the_barista_page_and_its_actions_refuse_a_barista_of_another_shop(
        shop: Shop, customer: Customer, own_barista: User, foreign_barista: User) -> None:
    order = queued(shop, customer)
    client = signed_in(foreign_barista)
    assert client.get(f"/shop/{shop.slug}/barista/").status_code == 403
    refused = client.post(f"/shop/{shop.slug}/barista/orders/{order.pk}/claim/")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert Order.objects.get(pk=order.pk).state == OrderState.QUEUED
    for page in ("display/", "barista/hours/"):
        assert client.get(f"/shop/{shop.slug}/{page}").status_code == 403, page
    assert client.get(f"/shop/{shop.slug}/display/window/").status_code == 403
    closing = client.post(f"/shop/{shop.slug}/barista/open/", {"is_open": "false"})
    assert closing.status_code == 403
    assert Shop.objects.get(pk=shop.pk).is_open
    mine = signed_in(own_barista)
    assert mine.get(f"/shop/{shop.slug}/barista/").status_code == 200
    assert mine.get(f"/shop/{shop.slug}/display/").status_code == 200
    assert mine.post(f"/shop/{shop.slug}/barista/orders/{order.pk}/claim/").status_code == 200
