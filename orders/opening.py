"""The shop on its clock: opening hours are set here, and beat's `orders.follow_hours` applies
their changes — open, "closing soon", close, local midnight — by publishing the shop's own
events through the shop's services, as a barista's open/close does.

Each change applies once: its `HoursChange` row (unique per shop, kind and time) is inserted in
the transaction that applies it, with the shop's row locked, so any number of beats or workers
apply it once, and one that dies first leaves it to the next run. A change is a moment, not a
state: a barista who opens or closes by hand is not overruled until the next change comes.
If nothing ran for a while, only the latest open/close and the latest midnight apply (once, with
`missed_before` counting the others); a notice whose close has passed is dropped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from orders.event_details import ClosingSoonDetail, DayStartedDetail
from orders.events import DetailType, emit
from orders.hours import (
    Change,
    ChangeKind,
    DateHours,
    Hours,
    Span,
    changes_between,
    format_spans,
    next_changes,
)
from orders.models import HoursChange, OpeningException, OpeningHours, Shop
from orders.services import ActingUser, person_name, require_barista, shop_config_publish
from orders.workflow import OrderError
from routing.timestamps import utc_timestamp

logger = logging.getLogger(__name__)

# A run looks back at most this far: a shop whose beat was down for days does not replay them.
LOOKBACK = timedelta(days=2)


def closing_notice() -> timedelta:
    return timedelta(seconds=settings.ORDERS_CLOSING_NOTICE_SECONDS)


def shop_hours(shop: Shop, *, around: date | None = None) -> Hours:
    """The shop's week and its exceptions (those near `around`, or all)."""
    weekly: dict[int, list[Span]] = defaultdict(list)
    for row in OpeningHours.objects.filter(shop=shop):
        weekly[row.weekday].append(Span(row.opens_at, row.closes_at))
    exceptions: dict[date, list[Span]] = {}
    rows = OpeningException.objects.filter(shop=shop)
    if around is not None:
        rows = rows.filter(date__gte=around - timedelta(days=3),
                           date__lte=around + timedelta(days=400))
    for exception in rows:
        spans = exceptions.setdefault(exception.date, [])
        if exception.opens_at is not None and exception.closes_at is not None:
            spans.append(Span(exception.opens_at, exception.closes_at))
    return Hours(weekly=weekly, exceptions=exceptions, tz=shop.tz)


def shop_exceptions(shop: Shop) -> list[DateHours]:
    """The shop's dated exceptions with their reasons, by date."""
    by_day: dict[date, DateHours] = {}
    for row in OpeningException.objects.filter(shop=shop).order_by("date", "opens_at"):
        entry = by_day.get(row.date) or DateHours(row.date, (), row.reason)
        if row.opens_at is not None and row.closes_at is not None:
            entry = DateHours(row.date, (*entry.spans, Span(row.opens_at, row.closes_at)),
                              entry.reason)
        by_day[row.date] = entry
    return list(by_day.values())


@dataclass(frozen=True)
class DueChange:
    change: Change
    missed_before: int


def due_changes(shop: Shop, *, now: datetime) -> list[DueChange]:
    """What the shop's clock says to do now, by the policy above, in time order."""
    last = HoursChange.objects.filter(shop=shop).aggregate(last=Max("at"))["last"]
    since = max(moment for moment in (shop.hours_started_at, last, now - LOOKBACK) if moment)
    hours = shop_hours(shop, around=shop.business_date(now))
    changes = changes_between(hours, since, now, notice=closing_notice())
    due: list[DueChange] = []
    for kinds in ((ChangeKind.OPEN, ChangeKind.CLOSE), (ChangeKind.MIDNIGHT,)):
        matching = [c for c in changes if c.kind in kinds]
        if matching:
            due.append(DueChange(matching[-1], len(matching) - 1))
    notices = [c for c in changes if c.kind is ChangeKind.CLOSING_SOON
               and c.closes_at is not None and c.closes_at > now]
    if notices:
        due.append(DueChange(notices[-1], 0))
    return sorted(due, key=lambda item: item.change)


def _span_text(shop: Shop, change: Change) -> str:
    hours = shop_hours(shop, around=shop.business_date(change.at))
    spans = hours.spans_on(change.at.astimezone(shop.tz).date())
    return f"{format_spans(spans)} {shop.timezone}"


def _apply(shop: Shop, change: Change) -> str:
    local = change.at.astimezone(shop.tz)
    if change.kind is ChangeKind.MIDNIGHT:
        emit(DetailType.DAY_STARTED, DayStartedDetail(
            shopId=shop.slug, businessDate=local.date().isoformat(),
            Message=f"A new day at {shop.name}: order numbers and daily limits start again.",
        ))
        return "day"
    if change.kind is ChangeKind.CLOSING_SOON:
        if not shop.is_open or change.closes_at is None:
            return "unchanged"
        shop.closing_at = change.closes_at
        shop.save(update_fields=["closing_at"])
        minutes = round((change.closes_at - change.at).total_seconds() / 60)
        emit(DetailType.CLOSING_SOON, ClosingSoonDetail(
            shopId=shop.slug, closesAt=utc_timestamp(change.closes_at),
            Message=f"{shop.name} closes in {minutes} minutes, at "
                    f"{change.closes_at.astimezone(shop.tz):%H:%M}.",
        ))
        return "noticed"
    opening = change.kind is ChangeKind.OPEN
    if shop.is_open == opening:
        return "unchanged"
    shop.is_open, shop.closing_at = opening, None
    shop.save(update_fields=["is_open", "closing_at"])
    verb = "opened" if opening else "closed"
    shop_config_publish(shop=shop, message=f"{shop.name} {verb} at {local:%H:%M} by its opening "
                                           f"hours ({_span_text(shop, change)}).")
    return verb


def change_apply(*, shop_id: int, due: DueChange, now: datetime | None = None) -> bool:
    """Claims and applies one change; False when it was applied already (or hours are off)."""
    now = now or timezone.now()
    with transaction.atomic():
        shop = Shop.objects.select_for_update().filter(pk=shop_id, follows_hours=True).first()
        if shop is None:
            return False
        try:
            with transaction.atomic():
                claimed = HoursChange.objects.create(
                    shop=shop, kind=due.change.kind.value, at=due.change.at, outcome="",
                    missed_before=due.missed_before, applied_at=now)
        except IntegrityError:
            return False
        claimed.outcome = _apply(shop, due.change)
        claimed.save(update_fields=["outcome"])
    if due.missed_before:
        logger.warning("shop %s applied its %s of %s late; %d earlier changes were missed",
                       shop.slug, due.change.kind, due.change.at.isoformat(), due.missed_before)
    return True


@dataclass(frozen=True)
class FollowReport:
    applied: int = 0
    already_applied: int = 0


def shops_follow_hours(*, now: datetime | None = None) -> FollowReport:
    """Applies every due change of every shop that follows its hours (beat, every few s)."""
    now = now or timezone.now()
    applied = already = 0
    for shop in Shop.objects.filter(follows_hours=True):
        for due in due_changes(shop, now=now):
            if change_apply(shop_id=shop.pk, due=due, now=now):
                applied += 1
            else:
                already += 1
    return FollowReport(applied=applied, already_applied=already)


# Setting the hours ---------------------------------------------------------------------------

def shop_set_hours(*, shop: Shop, user: ActingUser, follows_hours: bool,
                   weekly: dict[int, tuple[Span, ...]], exceptions: list[DateHours]) -> Shop:
    """Replaces the shop's hours (baristas and staff). Turning them on (or changing them) puts
    the shop where its hours say it is now, and counts its changes from now."""
    acting = require_barista(user, "change the opening hours")
    if any(day not in range(7) for day in weekly):
        raise OrderError("Weekdays are 0 (Monday) to 6 (Sunday).", "invalid_config",
                         field="weekly")
    now = timezone.now()
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        OpeningHours.objects.filter(shop=shop).delete()
        OpeningHours.objects.bulk_create([
            OpeningHours(shop=shop, weekday=day, opens_at=span.opens, closes_at=span.closes)
            for day, spans in sorted(weekly.items()) for span in spans])
        OpeningException.objects.filter(shop=shop).delete()
        OpeningException.objects.bulk_create([
            row for entry in exceptions for row in (
                [OpeningException(shop=shop, date=entry.day, opens_at=span.opens,
                                  closes_at=span.closes, reason=entry.reason)
                 for span in entry.spans]
                or [OpeningException(shop=shop, date=entry.day, reason=entry.reason)])])
        shop.follows_hours = bool(follows_hours)
        shop.hours_started_at = now if follows_hours else None
        fields = ["follows_hours", "hours_started_at"]
        should_be_open = shop_hours(shop, around=shop.business_date(now)).is_open(now)
        if follows_hours and shop.is_open != should_be_open:
            shop.is_open, shop.closing_at = should_be_open, None
            fields += ["is_open", "closing_at"]
        shop.save(update_fields=fields)
        state = ("open" if shop.is_open else "closed") if follows_hours else ""
        message = (f"{person_name(acting)} set the opening hours of {shop.name}"
                   + (f"; it follows them and is {state} now." if follows_hours
                      else "; it opens and closes by hand only."))
        shop_config_publish(shop=shop, message=message)
    return shop


@dataclass(frozen=True)
class HoursSummary:
    follows_hours: bool
    timezone: str
    today: str  # today's spans as written, "closed" when none
    next_changes: tuple[Change, ...]


def shop_hours_summary(shop: Shop, *, now: datetime | None = None,
                       count: int = 2) -> HoursSummary:
    now = now or timezone.now()
    hours = shop_hours(shop, around=shop.business_date(now))
    return HoursSummary(
        follows_hours=shop.follows_hours, timezone=shop.timezone,
        today=format_spans(hours.spans_on(shop.business_date(now))),
        next_changes=tuple(next_changes(hours, now, count)) if shop.follows_hours else (),
    )
