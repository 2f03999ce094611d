"""Customer accounts (django-allauth): a one-time code sent by email signs a customer in (a new
address gets its account on the way), codes are rate-limited, accounts with a password (staff)
keep logging in with it (and may add an authenticator app), and every mail can be read in the
development mailbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client, override_settings

from coffeeshop.accounts.devmail import DevMail, recent_mails
from tests.orders.test_live_support import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db

CODE_URL = "/accounts/login/code/"
CONFIRM_URL = "/accounts/login/code/confirm/"


@pytest.fixture(autouse=True)
def empty_mailbox(tmp_path: Path) -> object:
    cache.clear()  # allauth's rate limits
    # Django's test set-up swaps every backend for locmem; these tests read the mailbox itself.
    with override_settings(DEV_MAIL_DIR=tmp_path / "mail",
                           EMAIL_BACKEND="coffeeshop.accounts.devmail.DevMailBackend"):
        yield


def mails_to(address: str) -> list[DevMail]:
    return [mail for mail in recent_mails() if address in mail.to]


def sign_in_code(mail: DevMail) -> str:
    found = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.body, re.MULTILINE)
    assert found, mail.body
    return found.group(1)


def request_code(client: Client, email: str, next_url: str = "") -> object:
    return client.post(CODE_URL + (f"?next={next_url}" if next_url else ""),
                       {"email": email, **({"next": next_url} if next_url else {})})


def test_a_new_email_gets_an_account_and_a_code_that_signs_it_in() -> None:
    client = Client()
    response = request_code(client, "ada@example.com", next_url="/me/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith(CONFIRM_URL)
    [mail] = mails_to("ada@example.com")
    user = get_user_model().objects.get(email="ada@example.com")
    assert not user.has_usable_password()
    assert "_auth_user_id" not in client.session

    wrong = client.post(CONFIRM_URL, {"code": "WRONG1", "next": "/me/orders/"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    signed_in = client.post(CONFIRM_URL, {"code": sign_in_code(mail), "next": "/me/orders/"})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/me/orders/"
    assert client.session["_auth_user_id"] == str(user.pk)

    # The same address next time: the same account, no second one.
    other = Client()
    request_code(other, "ADA@example.com")
    assert get_user_model().objects.filter(email__iexact="ada@example.com").count() == 1


def test_a_sign_in_without_next_lands_on_the_home_page_not_a_missing_profile() -> None:
    client = Client()
    request_code(client, "bo@example.com")
    [mail] = mails_to("bo@example.com")
    response = client.post(CONFIRM_URL, {"code": sign_in_code(mail)})
    assert response["Location"] == "/"
    make_user("staffer", staff=True)
    staff = Client()
    login = staff.post("/accounts/login/", {"login": "staffer", "password": TEST_PASSWORD})
    assert login["Location"] == "/"
    assert Client().get("/accounts/profile/").status_code == 404


def test_codes_are_rate_limited_per_email() -> None:
    for _ in range(3):
        assert request_code(Client(), "greedy@example.com").status_code == 302
    refused = request_code(Client(), "greedy@example.com")
    assert refused.status_code == 200
    assert "Too many" in refused.text
    assert len(mails_to("greedy@example.com")) == 3


def test_an_account_with_a_password_gets_no_code() -> None:
    staff = make_user("manager", staff=True)
    staff.email = "manager@example.com"
    staff.save()
    response = request_code(Client(), "manager@example.com")
    assert response.status_code == 200
    assert "signs in with its password" in response.text
    assert mails_to("manager@example.com") == []


def test_the_password_sign_up_form_is_closed() -> None:
    response = Client().post("/accounts/signup/", {"email": "x@example.com",
                                                   "username": "x", "password1": "long-pw-123!"})
    assert not get_user_model().objects.filter(username="x").exists()
    assert response.status_code == 200
    assert "closed" in response.text.lower()


def test_a_password_reset_mail_arrives_and_its_link_sets_a_new_password() -> None:
    staff = make_user("resetme", staff=True)
    staff.email = "resetme@example.com"
    staff.save()
    client = Client()
    assert client.post("/accounts/password/reset/",
                       {"email": "resetme@example.com"}).status_code == 302
    [mail] = mails_to("resetme@example.com")
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.body)
    assert link, mail.body
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    changed = client.post(form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
                          {"password1": "a-new-pass-7731", "password2": "a-new-pass-7731"})
    assert changed.status_code == 302
    assert Client().post("/accounts/login/", {"login": "resetme",
                                              "password": "a-new-pass-7731"}).status_code == 302


def test_the_development_mailbox_lists_mails_and_only_where_it_is_on() -> None:
    request_code(Client(), "page@example.com")
    page = Client().get("/dev/mail/")
    assert page.status_code == 200
    assert "page@example.com" in page.text
    assert sign_in_code(mails_to("page@example.com")[0]) in page.text
    with override_settings(DEV_MAIL_PAGE=False):
        assert Client().get("/dev/mail/").status_code == 404


def test_production_sends_mail_by_smtp_and_has_no_mailbox_page() -> None:
    assert settings.DEV_MAIL_PAGE is True  # the tests' own settings
    from coffeeshop.settings import base

    assert base.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    assert base.DEV_MAIL_PAGE is False


def totp_now(secret: str) -> str:
    """RFC 6238's code for now (30 s steps, 6 digits), computed here, not by allauth."""
    key = base64.b32decode(secret.encode(), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def test_staff_turn_on_an_authenticator_app_and_then_need_its_code_after_the_password() -> None:
    from allauth.mfa.models import Authenticator

    make_user("owner", staff=True)
    client = Client()
    assert client.post("/accounts/login/", {"login": "owner",
                                            "password": TEST_PASSWORD}).status_code == 302
    # Turning it on asks for the password once more (allauth's reauthentication).
    asked = client.get("/accounts/2fa/totp/activate/")
    if asked.status_code == 302 and "/reauthenticate/" in asked["Location"]:
        assert client.post(asked["Location"], {"password": TEST_PASSWORD}).status_code == 302
    setup = client.get("/accounts/2fa/totp/activate/")
    assert setup.status_code == 200
    assert "<svg" in setup.text
    assert "data:image" not in setup.text  # the CSP allows no data: images
    secret = re.search(r'id="authenticator_secret" value="([A-Z2-7]+)"', setup.text)
    assert secret, setup.text
    turned_on = client.post("/accounts/2fa/totp/activate/", {"code": totp_now(secret.group(1))})
    assert turned_on.status_code == 302
    assert Authenticator.objects.filter(user__username="owner", type="totp").exists()

    later = Client()
    step = later.post("/accounts/login/", {"login": "owner", "password": TEST_PASSWORD})
    assert step.status_code == 302
    assert step["Location"].startswith("/accounts/2fa/authenticate/")
    assert "_auth_user_id" not in later.session
    wrong = later.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in later.session
    cache.clear()  # allauth refuses a code used once; the app's next one is the same now
    done = later.post("/accounts/2fa/authenticate/", {"code": totp_now(secret.group(1))})
    assert done.status_code == 302
    assert later.session["_auth_user_id"]
