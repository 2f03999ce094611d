"""Verified callers are remembered for a second or so per process: a known API key or AWS
credential costs no query, yet revoking, re-scoping or deleting one is seen at once in the
process that does it (and within the time-to-live elsewhere: tests/integration/
test_revocation_across_processes.py)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from routing.aws.credentials import awscredential_create, awscredential_verifier
from routing.models import ApiKey, EventBus
from routing.services import Actor, bus_create
from routing.services.apikeys import apikey_authenticate, apikey_create, apikey_revoke
from routing.services.caller_cache import API_KEYS, AWS_CREDENTIALS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_remembered() -> None:
    API_KEYS.clear()
    AWS_CREDENTIALS.clear()


def test_a_known_key_costs_no_query(default_bus: EventBus, django_assert_num_queries) -> None:
    _, raw = apikey_create(name="till-1")
    with django_assert_num_queries(3):  # the key, its buses, the first last-used write
        assert apikey_authenticate(raw) is not None
    with django_assert_num_queries(0):
        for _ in range(5):
            assert apikey_authenticate(raw) is not None


def test_a_wrong_secret_is_refused_even_while_the_key_is_remembered(
    default_bus: EventBus,
) -> None:
    _, raw = apikey_create(name="till-1")
    assert apikey_authenticate(raw) is not None
    prefix_part, secret = raw.rsplit("_", 1)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert apikey_authenticate(f"{prefix_part}_{flipped}") is None


def test_unknown_and_revoked_keys_are_never_remembered(
    default_bus: EventBus, django_assert_num_queries
) -> None:
    _, raw = apikey_create(name="till-1")
    apikey_revoke(name="till-1")
    for _ in range(2):
        with django_assert_num_queries(2):  # looked up every time, as before the cache
            assert apikey_authenticate(raw) is None


def test_revoking_in_this_process_is_seen_at_once(default_bus: EventBus) -> None:
    _, raw = apikey_create(name="till-1")
    assert apikey_authenticate(raw) is not None
    apikey_revoke(name="till-1")
    assert apikey_authenticate(raw) is None


def test_a_change_of_buses_or_a_deleted_key_is_seen_at_once(default_bus: EventBus) -> None:
    payments = bus_create(name="payments", actor=Actor.system("test"))
    key, raw = apikey_create(name="till-1", bus_names=["default"])
    granted = apikey_authenticate(raw)
    assert granted is not None
    assert granted.bus_names == frozenset({"default"})
    key.buses.add(payments)
    granted = apikey_authenticate(raw)
    assert granted is not None
    assert granted.bus_names == frozenset({"default", "payments"})
    ApiKey.objects.filter(pk=key.pk).delete()
    assert apikey_authenticate(raw) is None


def test_an_entry_expires_after_its_time_to_live(
    default_bus: EventBus, settings, django_assert_num_queries
) -> None:
    settings.ROUTING_CALLER_CACHE_SECONDS = 0.05
    _, raw = apikey_create(name="till-1")
    apikey_authenticate(raw)
    time.sleep(0.1)
    with django_assert_num_queries(2):  # read again; the last use is less than a minute old
        assert apikey_authenticate(raw) is not None


def test_a_time_to_live_of_zero_turns_the_cache_off(
    default_bus: EventBus, settings, django_assert_num_queries
) -> None:
    settings.ROUTING_CALLER_CACHE_SECONDS = 0
    _, raw = apikey_create(name="till-1")
    apikey_authenticate(raw)
    with django_assert_num_queries(2):
        assert apikey_authenticate(raw) is not None


def test_a_remembered_key_still_records_its_use_a_minute_later(default_bus: EventBus) -> None:
    key, raw = apikey_create(name="till-1")
    apikey_authenticate(raw)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    # As if the key had been in use, remembered, for more than a minute since.
    a_minute_ago = first - timedelta(seconds=61)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=a_minute_ago)
    [entry] = API_KEYS._entries.values()
    entry.last_used_at = a_minute_ago
    apikey_authenticate(raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at >= first


def test_a_known_aws_credential_costs_no_query_and_no_decryption(
    default_bus: EventBus, settings, django_assert_num_queries
) -> None:
    settings.ROUTING_AWS_CREDENTIALS_KEY = Fernet.generate_key().decode()
    credential, secret = awscredential_create(name="till-1", bus_names=["default"])
    entry = awscredential_verifier(credential.access_key_id)
    assert entry is not None
    assert entry.secret == secret
    # A key the server could no longer decrypt with shows the second lookup never decrypts.
    settings.ROUTING_AWS_CREDENTIALS_KEY = Fernet.generate_key().decode()
    with django_assert_num_queries(0):
        again = awscredential_verifier(credential.access_key_id)
    assert again is not None
    assert again.secret == secret
    assert again.grant.bus_names == frozenset({"default"})
