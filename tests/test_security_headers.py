"""Production headers: HSTS behind an HTTPS proxy, and the Content-Security-Policy every page
carries (tests/e2e/test_csp.py shows every page passing it in a real browser)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings

from coffeeshop.settings.env import BASE_DIR, proxy_ssl_header

pytestmark = pytest.mark.django_db

PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.SECURE_PROXY_SSL_HEADER, s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS]))"
)


def production_settings(**env: str) -> list[object]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "coffeeshop.settings.production",
                   "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "shop.example", **env}
    done = subprocess.run([sys.executable, "-c", PRINT_SETTINGS], env=environment, cwd=BASE_DIR,
                          capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_production_turns_hsts_on_and_honours_the_proxy_header_from_the_environment() -> None:
    assert production_settings() == [["HTTP_X_FORWARDED_PROTO", "https"], 31_536_000, True, False]
    assert production_settings(
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Scheme: https", SECURE_HSTS_SECONDS="600",
        SECURE_SSL_REDIRECT="0", SECURE_HSTS_INCLUDE_SUBDOMAINS="1",
    ) == [["HTTP_X_FORWARDED_SCHEME", "https"], 600, False, True]
    assert production_settings(SECURE_PROXY_SSL_HEADER="")[0] is None


def test_a_malformed_proxy_header_is_refused_with_the_variable_named() -> None:
    assert proxy_ssl_header("X-Forwarded-Proto: https") == ("HTTP_X_FORWARDED_PROTO", "https")
    with pytest.raises(ImproperlyConfigured, match="SECURE_PROXY_SSL_HEADER='https'"):
        proxy_ssl_header("https")


@override_settings(SECURE_HSTS_SECONDS=31_536_000,
                   SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_hsts_is_sent_over_https_only_and_a_client_cannot_claim_it_through_another_header(
) -> None:
    client = Client()
    assert client.get("/", headers={"X-Forwarded-Proto": "https"})[
        "Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/")
    assert "Strict-Transport-Security" not in client.get("/", headers={"X-Forwarded-Ssl": "on"})


def _directives(policy: str) -> dict[str, list[str]]:
    """The policy's directives, whatever their order (django-csp does not keep one)."""
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_every_response_carries_a_policy_without_inline_code_and_with_its_own_socket() -> None:
    policy = Client().get("/", HTTP_HOST="shop.example:8443")["Content-Security-Policy"]
    directives = _directives(policy)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'", "ws://shop.example:8443"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    secure = Client().get("/", HTTP_HOST="shop.example", secure=True)["Content-Security-Policy"]
    assert _directives(secure)["connect-src"] == ["'self'", "wss://shop.example"]
    assert "unsafe-inline" not in policy + secure
