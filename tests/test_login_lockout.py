"""Guessing passwords: every login form (the site's, the admin's) locks a username out from an
address after AXES_FAILURE_LIMIT wrong passwords, and says so on a styled page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.orders.test_live_support import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

LOGIN_FORMS = ["/accounts/login/", "/admin/login/"]


def attempt(client: Client, url: str, username: str, password: str) -> object:
    client.get(url)  # the CSRF cookie, as a browser gets it
    # The site's form (allauth's) calls its field "login": a username or an email.
    field = "username" if url.startswith("/admin/") else "login"
    return client.post(url, {field: username, "password": password,
                             "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


@pytest.mark.parametrize("url", LOGIN_FORMS)
def test_the_nth_wrong_password_locks_the_username_out_even_with_the_right_one(url: str) -> None:
    make_user("staffer", staff=True)
    client = Client(enforce_csrf_checks=True)
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = attempt(client, url, "staffer", "wrong")
        assert response.status_code == 200  # the form again, with its error
    locked = attempt(client, url, "staffer", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed log-ins" in page
    assert f"After {limit} wrong passwords for <strong>staffer</strong>" in page
    assert "locked for 15 minutes" in page
    assert 'href="/static/css/app.css"' in page  # the site's own styled page, not a bare error

    # The right password does not get through any more, on either form.
    for form in LOGIN_FORMS:
        again = attempt(client, form, "staffer", TEST_PASSWORD)
        assert again.status_code == 429, form
        assert "_auth_user_id" not in client.session


def test_fewer_wrong_passwords_do_not_lock_and_a_success_resets_the_count() -> None:
    make_user("staffer", staff=True)
    client = Client(enforce_csrf_checks=True)
    url = "/accounts/login/"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, url, "staffer", "wrong")
    assert attempt(client, url, "staffer", TEST_PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, url, "staffer", "wrong").status_code == 200
    assert attempt(client, url, "staffer", TEST_PASSWORD).status_code == 302


def test_a_lockout_is_per_username_and_address_not_the_whole_site() -> None:
    make_user("staffer", staff=True)
    make_user("other", staff=True)
    guesser = Client(enforce_csrf_checks=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(guesser, "/accounts/login/", "staffer", "wrong")
    colleague = Client(enforce_csrf_checks=True)
    assert attempt(colleague, "/accounts/login/", "other", TEST_PASSWORD).status_code == 302
    elsewhere = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.1.2.3")
    assert attempt(elsewhere, "/accounts/login/", "staffer", TEST_PASSWORD).status_code == 302
