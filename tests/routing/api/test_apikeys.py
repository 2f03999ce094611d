"""API keys as services and through `manage.py apikey`."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from routing.errors import AlreadyExists, NotFound, ValidationError
from routing.models import ApiKey, EventBus
from routing.services.apikeys import apikey_authenticate, apikey_create, apikey_revoke
from routing.services.caller_cache import API_KEYS

pytestmark = pytest.mark.django_db

KEY_RE = re.compile(r"cs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")


def test_a_key_is_shown_once_and_stored_only_as_its_hash(default_bus: EventBus) -> None:
    key, raw = apikey_create(name="till-1")
    assert KEY_RE.fullmatch(raw)
    assert raw.startswith(f"cs_{key.prefix}_")
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    assert list(stored.buses.all()) == []
    assert apikey_create(name="till-2")[1] != raw


def test_authenticate_accepts_the_key_and_nothing_like_it(default_bus: EventBus) -> None:
    key, raw = apikey_create(name="till-1")
    granted = apikey_authenticate(raw)
    assert granted is not None
    assert (granted.pk, granted.name) == (key.pk, key.name)
    prefix_part, secret = raw.rsplit("_", 1)
    flipped = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    for wrong in (
        f"{prefix_part}_{flipped}",  # right prefix, wrong secret
        raw + "x",
        raw[:-1],
        raw.upper(),
        "",
        "cs__" + secret,
        f"cs_{'0' * 12}_{secret}",  # no such prefix
        "x" * 10_000,
    ):
        assert apikey_authenticate(wrong) is None, wrong


def test_revoked_keys_are_refused_and_revoking_twice_changes_nothing(
    default_bus: EventBus,
) -> None:
    _, raw = apikey_create(name="till-1")
    revoked = apikey_revoke(name="till-1")
    assert revoked.revoked_at is not None
    assert apikey_authenticate(raw) is None
    assert apikey_revoke(name="till-1").revoked_at == revoked.revoked_at
    with pytest.raises(NotFound, match="API key nope does not exist"):
        apikey_revoke(name="nope")


def test_last_used_at_is_written_at_most_once_a_minute(
    default_bus: EventBus, django_assert_num_queries
) -> None:
    key, raw = apikey_create(name="till-1")
    assert key.last_used_at is None
    apikey_authenticate(raw)
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    with django_assert_num_queries(0):  # remembered (routing.services.caller_cache); no write
        apikey_authenticate(raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(seconds=61))
    API_KEYS.clear()  # as when the remembered key has expired: the row is read again
    apikey_authenticate(raw)
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first - timedelta(seconds=1)


def test_create_refuses_bad_names_duplicates_and_unknown_buses(default_bus: EventBus) -> None:
    apikey_create(name="till-1")
    with pytest.raises(AlreadyExists, match="API key till-1 already exists") as error:
        apikey_create(name="till-1")
    assert error.value.field == "Name"
    for bad in ("", "has space", "-leading-dash", "x" * 101, "naïve"):
        with pytest.raises(ValidationError) as error:
            apikey_create(name=bad)
        assert error.value.field == "Name"
    with pytest.raises(NotFound, match="Event bus nowhere does not exist") as error:
        apikey_create(name="scoped", bus_names=["default", "nowhere"])
    assert error.value.field == "Bus"
    assert not ApiKey.objects.filter(name="scoped").exists()


def test_command_creates_lists_and_revokes(default_bus: EventBus) -> None:
    out = StringIO()
    call_command("apikey", "create", "till-1", "--bus", "default", stdout=out)
    printed = out.getvalue()
    [raw] = KEY_RE.findall(printed.split("Use it like this")[0])
    assert f"Authorization: Bearer {raw}" in printed
    assert "only time the key is shown" in printed
    key = apikey_authenticate(raw)
    assert key is not None
    assert key.bus_names == frozenset({"default"})

    quiet = StringIO()
    call_command("apikey", "create", "ci", "--quiet", stdout=quiet)
    assert KEY_RE.fullmatch(quiet.getvalue().strip())

    listing = StringIO()
    call_command("apikey", "list", stdout=listing)
    lines = listing.getvalue().splitlines()
    assert lines[0].split() == ["NAME", "PREFIX", "BUSES", "SOURCES", "CREATED", "LAST", "USED",
                                "REVOKED"]
    assert lines[1].split()[:3] == ["ci", f"cs_{ApiKey.objects.get(name='ci').prefix}_…", "(all)"]
    assert lines[2].split()[:3] == ["till-1", f"cs_{ApiKey.objects.get(pk=key.pk).prefix}_…",
                                    "default"]
    assert raw not in listing.getvalue()

    revoke = StringIO()
    call_command("apikey", "revoke", "till-1", stdout=revoke)
    assert "till-1 is revoked" in revoke.getvalue()
    assert apikey_authenticate(raw) is None
    assert ApiKey.objects.get(name="till-1").revoked_at <= timezone.now()


def test_command_reports_errors_plainly(default_bus: EventBus) -> None:
    with pytest.raises(CommandError, match="API key ghost does not exist"):
        call_command("apikey", "revoke", "ghost")
    with pytest.raises(CommandError, match="Event bus nowhere does not exist"):
        call_command("apikey", "create", "x", "--bus", "nowhere")
