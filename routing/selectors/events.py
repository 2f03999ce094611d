"""The event explorer's reads: search with keyset pagination, the live tail's polls, and the
one-word status of each listed event.

Pages are keyed by (ingested_at, id), newest first, never by OFFSET: a page deep in a million
events costs what the first page costs. The keyset predicate is written as
`ingested_at <= t AND (ingested_at < t OR id < x)` rather than a plain OR, so its first half is
an index range condition on both SQLite and PostgreSQL and only ties are filtered row by row."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet

from routing.errors import ValidationError
from routing.models import Delivery, DeliveryStatus, Event, PendingRoute
from routing.timestamps import utc_timestamp

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
PREVIEW_CHARS = 140

# Envelope members that are columns; a condition on one of them is a plain column comparison.
ENVELOPE_COLUMNS = {
    "id": "id",
    "source": "source",
    "detail-type": "detail_type",
    "account": "account",
    "region": "region",
    "version": "version",
    "replay-name": "replay_name",
}
JSON_ROOTS = ("detail", "resources")
_SEGMENT = re.compile(r"[^.\[\]]+|\[\d+\]")


@dataclass(frozen=True)
class FieldCondition:
    """`path = value` on the envelope, e.g. `detail.orderId = abc` or `resources[0] = arn:…`.

    `value` is the JSON value to compare with. A bare token that reads as JSON (42, true, null)
    is `loose`: it also matches the same text as a string, since people rarely know whether a
    producer sent 42 or "42". A quoted value ("42") matches only that string."""

    path: tuple[str | int, ...]
    value: Any
    loose: bool
    text: str

    def q(self) -> Q:
        root = self.path[0]
        if root in ENVELOPE_COLUMNS:
            column = ENVELOPE_COLUMNS[str(root)]
            wanted = self.value if isinstance(self.value, str) else json.dumps(self.value)
            if column == "id":
                try:
                    return Q(id=uuid.UUID(wanted))
                except ValueError:
                    return Q(pk__in=[])
            return Q(**{column: wanted})
        lookup = "__".join(str(part) for part in self.path)
        condition = Q(**{lookup: self.value})
        if self.loose and self.value is not None and not isinstance(self.value, str):
            condition |= Q(**{lookup: json.dumps(self.value)})
        return condition


def _path_segments(path: str) -> tuple[str | int, ...]:
    segments: list[str | int] = []
    position = 0
    for match in _SEGMENT.finditer(path):
        gap = path[position:match.start()]
        if gap not in ("", "."):
            raise ValidationError(f"The field path {path!r} is not valid.", field="field")
        token = match.group()
        segments.append(int(token[1:-1]) if token.startswith("[") else token)
        position = match.end()
    if not segments or path[position:] != "" or path.endswith("."):
        raise ValidationError(f"The field path {path!r} is not valid.", field="field")
    return tuple(segments)


def parse_field_condition(text: str) -> FieldCondition:
    """Parses `path = value`. The path starts with `detail`, `resources` or an envelope member
    (`source`, `detail-type`, `account`, `region`, `version`, `replay-name`, `id`); nested keys
    are separated by dots, list positions are `[n]` or `.n`."""
    raw_path, equals, raw_value = text.partition("=")
    path_text, value_text = raw_path.strip(), raw_value.strip()
    if not equals or not path_text:
        raise ValidationError(
            "Write a field condition as path = value, for example: detail.orderId = abc",
            field="field",
        )
    path = _path_segments(path_text)
    root = path[0]
    if root in ENVELOPE_COLUMNS:
        if len(path) > 1:
            raise ValidationError(f"{root} is a text member of the envelope: it has no {path[1]}.",
                                  field="field")
    elif root not in JSON_ROOTS:
        raise ValidationError(
            f"Field paths start with detail, resources or an envelope member "
            f"({', '.join(ENVELOPE_COLUMNS)}), not {root!r}.",
            field="field",
        )
    elif root == "detail" and len(path) == 1:
        raise ValidationError("Name a member of detail, for example: detail.orderId = abc",
                              field="field")
    elif root == "resources" and path[1:2] and not isinstance(path[1], int):
        raise ValidationError("resources is a list: write resources[0] = value.", field="field")

    loose = True
    value: Any = value_text
    if value_text.startswith('"'):
        loose = False
        try:
            value = json.loads(value_text)
        except json.JSONDecodeError:
            raise ValidationError(
                f"The quoted value {value_text} is not a complete JSON string.", field="field"
            ) from None
    elif value_text:
        try:
            value = json.loads(value_text)
        except json.JSONDecodeError:
            value = value_text
        if isinstance(value, dict | list):
            raise ValidationError(
                "Compare a field with one value (text, a number, true, false or null), not with "
                "an object or a list.",
                field="field",
            )
    return FieldCondition(path=path, value=value, loose=loose, text=text.strip())


@dataclass(frozen=True)
class EventFilters:
    bus: str = ""
    source: str = ""
    detail_type: str = ""
    since: datetime | None = None  # ingested at or after
    until: datetime | None = None  # ingested before
    condition: FieldCondition | None = None

    def apply(self, events: QuerySet[Event]) -> QuerySet[Event]:
        if self.bus:
            events = events.filter(bus__name=self.bus)
        if self.source:
            events = events.filter(source=self.source)
        if self.detail_type:
            events = events.filter(detail_type=self.detail_type)
        if self.since is not None:
            events = events.filter(ingested_at__gte=self.since)
        if self.until is not None:
            events = events.filter(ingested_at__lt=self.until)
        if self.condition is not None:
            events = events.filter(self.condition.q())
        return events

    @property
    def is_empty(self) -> bool:
        return self == EventFilters()


# Cursors -------------------------------------------------------------------------------------

def encode_cursor(ingested_at: datetime, key: uuid.UUID | str) -> str:
    raw = f"{ingested_at.astimezone(UTC).isoformat()}|{key}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, *, what: str = "events") -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        moment, key = raw.split("|", 1)
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed, uuid.UUID(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError(
            "That page link is not valid (it may have been cut short): start again from the "
            f"newest {what}.",
            field="cursor",
        ) from None


def _older_than(moment: datetime, key: uuid.UUID) -> Q:
    return Q(ingested_at__lte=moment) & (Q(ingested_at__lt=moment) | Q(id__lt=key))


def _newer_than(moment: datetime, key: uuid.UUID) -> Q:
    return Q(ingested_at__gte=moment) & (Q(ingested_at__gt=moment) | Q(id__gt=key))


# Rows ----------------------------------------------------------------------------------------

@dataclass
class EventRow:
    id: str
    bus: str
    source: str
    detail_type: str
    time: datetime
    ingested_at: datetime
    published_by: str
    replay_name: str
    preview: str
    cursor: str
    status: str = ""

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "bus": self.bus,
            "source": self.source,
            "detailType": self.detail_type,
            "time": utc_timestamp(self.time),
            "ingestedAt": utc_timestamp(self.ingested_at),
            "publishedBy": self.published_by,
            "replayName": self.replay_name,
            "preview": self.preview,
            "cursor": self.cursor,
            "status": self.status,
        }



def _preview(detail: Any) -> str:
    text = json.dumps(detail, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


def _rows(events: Iterable[Event]) -> list[EventRow]:
    return [
        EventRow(
            id=str(event.pk),
            bus=event.bus.name,
            source=event.source,
            detail_type=event.detail_type,
            time=event.time,
            ingested_at=event.ingested_at,
            published_by=event.published_by,
            replay_name=event.replay_name,
            preview=_preview(event.detail),
            cursor=encode_cursor(event.ingested_at, event.pk),
        )
        for event in events
    ]


def _listing(events: QuerySet[Event]) -> QuerySet[Event]:
    return events.select_related("bus").only(
        "id", "bus__name", "source", "detail_type", "time", "ingested_at", "published_by",
        "replay_name", "detail",
    )


def event_statuses(event_ids: Sequence[str]) -> dict[str, str]:
    """One word per event, as in its trace: routing, unmatched, in_progress, failed, delivered.
    Two queries, whatever the number of events."""
    routing = {str(pk) for pk in PendingRoute.objects.filter(event_id__in=event_ids)
               .values_list("event_id", flat=True)}
    statuses: dict[str, set[str]] = defaultdict(set)
    for key, status in (Delivery.objects.filter(event_id__in=event_ids).order_by()
                        .values_list("event_id", "status").distinct()):
        statuses[str(key)].add(status)
    result = {}
    for event_id in event_ids:
        seen = statuses.get(event_id, set())
        if event_id in routing:
            result[event_id] = "routing"
        elif not seen:
            result[event_id] = "unmatched"
        elif seen & {DeliveryStatus.PENDING, DeliveryStatus.RUNNING}:
            result[event_id] = "in_progress"
        elif seen & {DeliveryStatus.DEAD, DeliveryStatus.DROPPED}:
            result[event_id] = "failed"
        else:
            result[event_id] = "delivered"
    return result


# Search --------------------------------------------------------------------------------------

@dataclass
class EventPage:
    rows: list[EventRow]
    # Cursors for the neighbouring pages (None: nothing there).
    newer: str | None = None
    older: str | None = None
    is_first: bool = True


def event_search(
    filters: EventFilters,
    *,
    after: str | None = None,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    with_status: bool = True,
) -> EventPage:
    """One page of the events matching `filters`, newest first.

    `after` (a row's cursor) gives the page of older events after it; `before` the page of
    newer events before it. Neither gives the newest page."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    events = filters.apply(Event.objects.all())
    if before:
        moment, key = decode_cursor(before)
        found = list(_listing(events.filter(_newer_than(moment, key)))
                     .order_by("ingested_at", "id")[:limit + 1])
        if not found:  # nothing newer any more: the newest page it is
            return event_search(filters, limit=limit, with_status=with_status)
        more_newer = len(found) > limit
        rows = _rows(reversed(found[:limit]))
        # The page this cursor came from is older than every row here.
        page = EventPage(rows=rows, is_first=not more_newer,
                         newer=rows[0].cursor if more_newer else None, older=rows[-1].cursor)
    else:
        if after:
            moment, key = decode_cursor(after)
            events = events.filter(_older_than(moment, key))
        found = list(_listing(events).order_by("-ingested_at", "-id")[:limit + 1])
        rows = _rows(found[:limit])
        page = EventPage(rows=rows, is_first=after is None,
                         newer=rows[0].cursor if rows and after else None,
                         older=rows[-1].cursor if len(found) > limit else None)
    if with_status and page.rows:
        statuses = event_statuses([row.id for row in page.rows])
        for row in page.rows:
            row.status = statuses[row.id]
    return page


# The live tail -------------------------------------------------------------------------------

def event_latest(filters: EventFilters, *, limit: int) -> list[EventRow]:
    """The newest `limit` events matching, newest first."""
    return event_search(filters, limit=limit, with_status=False).rows


def event_keys_since(
    filters: EventFilters, *, since: datetime, limit: int
) -> list[tuple[str, datetime]]:
    """(id, ingested_at) of the newest `limit` events ingested at or after `since`, newest
    first: the live tail's cheap poll (an index range, two columns)."""
    events = filters.apply(Event.objects.filter(ingested_at__gte=since))
    return [(str(pk), moment) for pk, moment in
            events.order_by("-ingested_at", "-id").values_list("id", "ingested_at")[:limit]]


def event_rows(event_ids: Sequence[str]) -> list[EventRow]:
    """The listed events as rows, newest first."""
    events = _listing(Event.objects.filter(pk__in=list(event_ids)))
    return _rows(events.order_by("-ingested_at", "-id"))


def event_suggestions(*, bus: str = "", sample: int = 2000) -> tuple[list[str], list[str]]:
    """Sources and detail-types of the newest events, for the search form's suggestions."""
    events = Event.objects.all()
    if bus:
        events = events.filter(bus__name=bus)
    recent = list(events.order_by("-ingested_at").values_list("source", "detail_type")[:sample])
    return sorted({source for source, _ in recent}), sorted({kind for _, kind in recent})
