"""What API keys and AWS credentials have in common: a checked name, the buses and sources they
may use, revocation by name, and a throttled record of their last use."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.db import models
from django.db.models import Q
from django.utils import timezone

from routing.errors import NotFound, ValidationError
from routing.models import ApiKey, AwsCredential, EventBus
from routing.services.caller_cache import forget_callers
from routing.sources import reserved_overlap, source_pattern_check

# last_used_at is a hint for operators, not an audit log: one write a minute per caller is
# plenty, and it keeps a busy publisher from writing to the caller's row on every request.
LAST_USED_WRITE_INTERVAL = timedelta(seconds=60)

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

Caller = TypeVar("Caller", ApiKey, AwsCredential)


@dataclass(frozen=True)
class CallerScope:
    """What an outside caller (an API key or an AWS credential) was given: the buses it may use
    (None: every bus). Whatever its buses, it creates only targets that stay inside them:
    webhooks and bus targets to those buses. Handler and Channels targets are the project's."""

    bus_names: frozenset[str] | None = None

    def may_use_bus(self, bus_name: str) -> bool:
        return self.bus_names is None or bus_name in self.bus_names

    def describe_buses(self) -> str:
        return "every bus" if self.bus_names is None else ", ".join(sorted(self.bus_names))


def caller_name_check(name: str, *, what: str) -> None:
    if not _NAME_RE.fullmatch(name):
        raise ValidationError(
            f"{what} name is 1-100 characters: letters, digits, '.', '-' and '_', starting "
            "with a letter or digit.",
            field="Name",
        )


def buses_named(bus_names: Iterable[str]) -> list[EventBus]:
    """The buses with these names; NotFound naming any that does not exist."""
    wanted = sorted(set(bus_names))
    buses = list(EventBus.objects.filter(name__in=wanted))
    missing = sorted(set(wanted) - {bus.name for bus in buses})
    if missing:
        raise NotFound(f"Event bus {', '.join(missing)} does not exist.", field="Bus")
    return buses


def source_patterns_checked(patterns: Iterable[str]) -> list[str]:
    """The source patterns a caller may publish, checked: none means any unreserved source.
    A pattern reaching into a reserved source (aws.*, an internal service's) is refused here,
    though publishing would refuse those sources anyway."""
    checked = sorted(set(patterns))
    for pattern in checked:
        problem = source_pattern_check(pattern)
        if problem:
            raise ValidationError(problem, field="Source")
        reserved = reserved_overlap(pattern)
        if reserved:
            raise ValidationError(
                f"Source pattern {pattern!r} reaches {reserved!r}, which is reserved "
                "(aws.* for AWS, the others for the project's own services).",
                field="Source",
            )
    return checked


def caller_revoke(model: type[Caller], *, name: str, what: str) -> Caller:
    """Refuses the caller from now on. Revoking a revoked caller changes nothing.

    This process forgets its verified callers at once; the others within their cache's
    time-to-live (routing.services.caller_cache)."""
    caller = model.objects.filter(name=name).first()
    if caller is None:
        raise NotFound(f"{what} {name} does not exist.", field="Name")
    if caller.revoked_at is None:
        model.objects.filter(pk=caller.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        forget_callers()
        caller.refresh_from_db(fields=["revoked_at"])
    return caller


def caller_record_use_of(model: type[models.Model], *, pk: int,
                         last_used_at: datetime | None) -> datetime | None:
    """Records a successful use of the caller `pk`, unless `last_used_at` (its last recorded
    use, as the caller knows it) is less than a minute old; returns the last recorded use."""
    now = timezone.now()
    if last_used_at is not None and now - last_used_at < LAST_USED_WRITE_INTERVAL:
        return last_used_at
    # Conditional, so concurrent requests with one caller write once, not once each.
    model._default_manager.filter(pk=pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_WRITE_INTERVAL)
    ).update(last_used_at=now)
    return now


def caller_record_use(caller: ApiKey | AwsCredential) -> None:
    """Records a successful use of a caller's row, at most once a minute."""
    caller.last_used_at = caller_record_use_of(type(caller), pk=caller.pk,
                                               last_used_at=caller.last_used_at)
