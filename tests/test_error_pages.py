"""The site's own pages where something is refused or missing: styled 403/404/500 (with DEBUG
off, as in production and the tests), a favicon for every response, and no link on the home
page that leads only to a refusal."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from tests.orders.test_live_support import make_user

pytestmark = pytest.mark.django_db

SITE_STYLE = 'href="/static/css/app.css"'


def test_settings_under_test_have_debug_off() -> None:
    assert settings.DEBUG is False  # otherwise Django would answer with its debug pages


def test_a_missing_page_is_the_sites_own_404() -> None:
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert "We couldn't find that page" in response.text
    assert SITE_STYLE in response.text
    assert "Using the URLconf" not in response.text  # Django's debug page


def test_a_non_staff_account_gets_a_styled_403_on_the_dashboard() -> None:
    client = Client()
    client.force_login(make_user("bea", barista=True))
    response = client.get("/dashboard/")
    assert response.status_code == 403
    assert "This page is not for this account" in response.text
    assert "signed in as <strong>bea</strong>" in response.text
    assert SITE_STYLE in response.text


def test_a_server_error_is_the_sites_own_500_without_any_context() -> None:
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert SITE_STYLE in page


def test_a_stale_csrf_token_gets_a_page_that_says_what_to_do() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"login": "x", "password": "y"})
    assert response.status_code == 403
    assert "reload the page and send it again" in response.text


def test_every_page_names_the_favicon_and_the_browsers_default_path_finds_it() -> None:
    home = Client().get("/")
    assert 'rel="icon" href="/static/favicon.svg"' in home.text
    redirect = Client().get("/favicon.ico")
    assert (redirect.status_code, redirect["Location"]) == (301, "/static/favicon.svg")
    icon = Client().get("/static/favicon.svg")
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]


def test_the_home_page_offers_the_dashboard_only_to_staff() -> None:
    anonymous = Client().get("/").text
    barista = Client()
    barista.force_login(make_user("bea", barista=True))
    staff = Client()
    staff.force_login(make_user("sam", staff=True))
    assert 'href="/dashboard/"' not in anonymous
    assert 'href="/dashboard/"' not in barista.get("/").text
    assert 'href="/admin/"' not in barista.get("/").text
    assert 'href="/dashboard/"' in staff.get("/").text
    assert 'href="/shop/main/barista/"' in barista.get("/").text
