"""Publishing: validate entries, store each event with its outbox row in one transaction, and
route them after commit. `put_events` is PutEvents; `event_publish` is the Python shortcut."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, router, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from routing import dispatch
from routing.errors import NotFound, ValidationError
from routing.models import DEFAULT_BUS_NAME, Event, EventBus, PendingRoute
from routing.publishers import Publisher
from routing.services.bus_cache import buses_by_name, forget_buses
from routing.services.event_rows import events_insert_with_outbox
from routing.services.quotas import put_events_throttle
from routing.sources import source_refusal

MAX_ENTRIES_PER_REQUEST = 10
# EventBridge's limit since 2025: 1 MB for the whole request, counted over its entries as AWS
# computes an entry's size (entry_size); there is no longer a 256 KB limit per entry.
MAX_REQUEST_BYTES = 1024 * 1024
TOTAL_SIZE_MESSAGE = "Total size of the entries in the request is over the limit."
MAX_SOURCE_LENGTH = 256
MAX_DETAIL_TYPE_LENGTH = 128
MAX_RESOURCE_LENGTH = 2048
# Storing, matching and sending a detail recurse once per level, on top of the request's own stack
# (server, middleware, view): a limit at Python's recursion limit (1000) let a detail parse, then
# fail as a 500 when stored. Half of it leaves room for every caller.
MAX_JSON_DEPTH = 500
# PutEvents counts a set Time as 14 bytes toward an entry's size.
TIME_SIZE_BYTES = 14


class EntryError(Exception):
    """One PutEvents entry refused; the others go on. `code` follows EventBridge's names."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class EventEntry:
    source: str
    detail_type: str
    detail: dict[str, Any]
    bus_name: str = DEFAULT_BUS_NAME
    resources: tuple[str, ...] = ()
    time: datetime | None = None
    # Set only by the bus itself: replays and bus-to-bus forwarding.
    replay_name: str = ""
    replay_of: uuid.UUID | None = None
    forwarded_from: uuid.UUID | None = None
    event_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PutEventsResult:
    entries: list[dict[str, str]]

    @property
    def failed_entry_count(self) -> int:
        return sum(1 for entry in self.entries if "ErrorCode" in entry)

    def as_aws(self) -> dict[str, Any]:
        return {"FailedEntryCount": self.failed_entry_count, "Entries": self.entries}


def bus_name_from_reference(reference: str) -> str:
    """EventBusName may be a name or an ARN (…:event-bus/NAME)."""
    if reference.startswith("arn:") and ":event-bus/" in reference:
        return reference.split(":event-bus/", 1)[1]
    return reference


def _json_depth(value: Any, limit: int) -> int:
    depth, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict | list):
            depth = max(depth, level)
            if depth > limit:
                return depth
            children = current.values() if isinstance(current, dict) else current
            stack.extend((child, level + 1) for child in children)
    return depth


def _parse_time(raw: Any) -> datetime:
    try:
        if isinstance(raw, datetime):
            moment = raw
        elif isinstance(raw, int | float) and not isinstance(raw, bool):
            moment = datetime.fromtimestamp(raw, tz=UTC)
        elif isinstance(raw, str):
            moment = parse_datetime(raw.strip()) or datetime.fromtimestamp(float(raw), tz=UTC)
        else:
            raise EntryError("InvalidArgument",
                             "Parameter Time is not valid: expected a timestamp.")
    # Impossible dates, out-of-range numbers and text that is no time at all all land here.
    except (ValueError, OverflowError, OSError):
        raise EntryError(
            "InvalidArgument",
            f"Parameter Time is not valid: {raw!r} is not an RFC 3339 timestamp "
            "(e.g. 2026-11-29T09:30:00Z) or seconds since the epoch, within years 1-9999.",
        ) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


def _refuse_non_finite(constant: str) -> float:
    raise ValueError(f"{constant} is not JSON")


def _unstorable_text(value: Any) -> str | None:
    """Why a string (or any string inside a JSON value) cannot be stored, if it cannot:
    PostgreSQL refuses NUL characters, and a lone surrogate is not text in UTF-8."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if "\x00" in current:
                return "contains a NUL character (\\u0000)"
            try:
                current.encode("utf-8")
            except UnicodeEncodeError:
                return "contains a lone surrogate, which is not valid Unicode text"
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return None


def entry_size(raw: Any) -> int:
    """An entry's size as AWS's "Calculating PutEvents event entry size" counts it: the UTF-8
    bytes of Source, DetailType, Detail and each of Resources, and 14 bytes for a Time."""
    if not isinstance(raw, Mapping):
        return 0
    texts = [raw.get("Source"), raw.get("DetailType"), raw.get("Detail")]
    resources = raw.get("Resources")
    if isinstance(resources, list):
        texts.extend(resources)
    size = sum(len(text.encode("utf-8", "surrogatepass")) for text in texts
               if isinstance(text, str))
    return size + (TIME_SIZE_BYTES if raw.get("Time") is not None else 0)


def entry_from_put_events(raw: Any) -> EventEntry:
    """Reads one PutEvents request entry, or raises EntryError saying what is wrong with it."""
    if not isinstance(raw, Mapping):
        raise EntryError("InvalidArgument", "Each entry must be a JSON object.")
    missing = [name for name in ("Source", "DetailType", "Detail") if not raw.get(name)]
    if missing:
        raise EntryError(
            "InvalidArgument",
            f"Parameter {missing[0]} is not valid. Reason: {missing[0]} is a required argument.",
        )
    source, detail_type, detail_text = raw["Source"], raw["DetailType"], raw["Detail"]
    for name, value in (("Source", source), ("DetailType", detail_type), ("Detail", detail_text)):
        if not isinstance(value, str):
            raise EntryError("InvalidArgument",
                             f"Parameter {name} is not valid: expected a string.")
    if len(source) > MAX_SOURCE_LENGTH:
        raise EntryError(
            "InvalidArgument",
            f"Parameter Source is not valid: longer than {MAX_SOURCE_LENGTH} characters.",
        )
    if len(detail_type) > MAX_DETAIL_TYPE_LENGTH:
        raise EntryError(
            "InvalidArgument",
            f"Parameter DetailType is not valid: longer than {MAX_DETAIL_TYPE_LENGTH} characters.",
        )
    for name, value in (("Source", source), ("DetailType", detail_type)):
        problem = _unstorable_text(value)
        if problem:
            raise EntryError("InvalidArgument", f"Parameter {name} is not valid: it {problem}.")
    resources_raw = raw.get("Resources", [])
    if resources_raw is None:
        resources_raw = []
    if not isinstance(resources_raw, list) or not all(isinstance(r, str) for r in resources_raw):
        raise EntryError("InvalidArgument",
                         "Parameter Resources is not valid: expected a list of strings.")
    problem = _unstorable_text(resources_raw)
    if problem:
        raise EntryError("InvalidArgument", f"Parameter Resources is not valid: it {problem}.")
    if any(len(resource) > MAX_RESOURCE_LENGTH for resource in resources_raw):
        raise EntryError("InvalidArgument",
                         f"Parameter Resources is not valid: an entry is longer than "
                         f"{MAX_RESOURCE_LENGTH} characters.")
    if _unstorable_text(detail_text):
        raise EntryError("MalformedDetail", "Detail is malformed.")
    size = entry_size(raw)
    if size > MAX_REQUEST_BYTES:
        raise EntryError(
            "InvalidArgument",
            f"Entry is {size:,} bytes; the limit is {MAX_REQUEST_BYTES:,} (1 MB), counting "
            "Source, DetailType, Detail, each of Resources, and 14 bytes for Time.",
        )
    try:
        detail = json.loads(detail_text, parse_constant=_refuse_non_finite)
    except (ValueError, RecursionError):
        raise EntryError("MalformedDetail", "Detail is malformed.") from None
    if not isinstance(detail, dict):
        raise EntryError("MalformedDetail", "Detail is malformed.")
    problem = _unstorable_text(detail)
    if problem:
        raise EntryError("InvalidArgument", f"Parameter Detail is not valid: it {problem}.")
    if _json_depth(detail, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise EntryError("MalformedDetail",
                         f"Detail is malformed: nested deeper than {MAX_JSON_DEPTH} levels.")
    bus_reference = raw.get("EventBusName") or DEFAULT_BUS_NAME
    if not isinstance(bus_reference, str):
        raise EntryError("InvalidArgument",
                         "Parameter EventBusName is not valid: expected a string.")
    time = _parse_time(raw["Time"]) if raw.get("Time") is not None else None
    return EventEntry(
        source=source,
        detail_type=detail_type,
        detail=detail,
        bus_name=bus_name_from_reference(bus_reference),
        resources=tuple(resources_raw),
        time=time,
    )


def events_store(
    *,
    entries: Sequence[EventEntry],
    publisher: Publisher,
    buses: Mapping[str, EventBus] | None = None,
    route: bool = True,
) -> list[Event]:
    """Stores the events with their outbox rows (one transaction) and routes them after commit,
    each recording `publisher` (who may publish what is `put_events`' check, not this one's).
    With `route=False` they are only stored: the caller delivers them itself (a schedule's
    tick goes to its own rule's targets), so there is no outbox row and no route message.

    Every bus must exist (see `put_events` for per-entry failures); `buses` spares the lookup
    when the caller has just made it."""
    if buses is None:
        buses = buses_by_name((entry.bus_name for entry in entries), remembered=False)
    now = timezone.now()
    events = []
    for entry in entries:
        bus = buses.get(entry.bus_name)
        if bus is None:
            raise NotFound(f"Event bus {entry.bus_name} does not exist.", field="EventBusName")
        events.append(
            Event(
                id=entry.event_id or uuid.uuid4(),
                bus=bus,
                source=entry.source,
                detail_type=entry.detail_type,
                time=entry.time or now,
                resources=list(entry.resources),
                detail=entry.detail,
                ingested_at=now,
                replay_name=entry.replay_name,
                replay_of=entry.replay_of,
                forwarded_from=entry.forwarded_from,
                published_by=publisher.label[:200],
                publisher_kind=publisher.kind.value,
                publisher_ref=publisher.reference[:200],
            )
        )
    if not route:
        Event.objects.bulk_create(events)
        return events
    routes = [PendingRoute(event=event, created_at=now, enqueued_at=now, enqueue_count=1)
              for event in events]
    events_insert_with_outbox(events, routes)
    dispatch.route_events_on_commit([str(event.id) for event in events])
    return events


def put_events(
    raw_entries: Any,
    *,
    publisher: Publisher,
    allowed_bus_names: set[str] | None = None,
    allowed_sources: Sequence[str] | None = None,
) -> PutEventsResult:
    """PutEvents: each entry is stored or fails alone, in request order.

    Raises ValidationError only for a request that is wrong as a whole (not a list, no entries,
    more than ten). `allowed_bus_names`, when given, limits which buses the caller may use;
    `allowed_sources` (patterns, see routing.sources) which sources, beside the reserved ones
    no caller but their own service may publish."""
    if not isinstance(raw_entries, list):
        raise ValidationError("Entries must be a list of 1 to 10 entries.", field="Entries")
    if not 1 <= len(raw_entries) <= MAX_ENTRIES_PER_REQUEST:
        raise ValidationError(
            f"1 validation error detected: Value at 'entries' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_ENTRIES_PER_REQUEST} and "
            f"greater than or equal to 1 (got {len(raw_entries)}).",
            field="Entries",
        )
    if sum(entry_size(raw) for raw in raw_entries) > MAX_REQUEST_BYTES:
        raise ValidationError(TOTAL_SIZE_MESSAGE, field="Entries")
    checks = _EntryChecks(publisher=publisher, allowed_bus_names=allowed_bus_names,
                          allowed_sources=allowed_sources)
    # Remembered buses save a query per request; inside a caller's transaction a failed write
    # could not be retried, so there every bus is looked up.
    if transaction.get_connection(router.db_for_write(Event)).in_atomic_block:
        return _put_events(raw_entries, checks, remembered=False)
    try:
        return _put_events(raw_entries, checks, remembered=True)
    except IntegrityError:
        # A remembered bus was deleted meanwhile (by another process): its events' foreign
        # key refused the write, which left nothing behind. Answer from a fresh lookup.
        forget_buses()
        return _put_events(raw_entries, checks, remembered=False)


@dataclass(frozen=True)
class _EntryChecks:
    publisher: Publisher
    allowed_bus_names: set[str] | None
    allowed_sources: Sequence[str] | None


def _put_events(raw_entries: list[Any], checks: _EntryChecks, *,
                remembered: bool) -> PutEventsResult:
    publisher = checks.publisher
    results: list[dict[str, str] | None] = [None] * len(raw_entries)
    accepted: list[tuple[int, EventEntry]] = []
    parsed: list[tuple[int, EventEntry]] = []
    for position, raw in enumerate(raw_entries):
        try:
            parsed.append((position, entry_from_put_events(raw)))
        except EntryError as error:
            results[position] = {"ErrorCode": error.code, "ErrorMessage": error.message}
    buses = buses_by_name((entry.bus_name for _, entry in parsed), remembered=remembered)
    if publisher.is_credential:
        put_events_throttle(publisher=publisher,
                            bus_names={entry.bus_name for _, entry in parsed} & buses.keys())
    for position, entry in parsed:
        refusal = source_refusal(entry.source, publisher=publisher,
                                 allowed=checks.allowed_sources)
        if refusal is not None:
            results[position] = {"ErrorCode": "NotAuthorizedForSourceException",
                                 "ErrorMessage": refusal}
        elif entry.bus_name not in buses:
            results[position] = {
                "ErrorCode": "ResourceNotFoundException",
                "ErrorMessage": f"Event bus {entry.bus_name} does not exist.",
            }
        elif (checks.allowed_bus_names is not None
              and entry.bus_name not in checks.allowed_bus_names):
            results[position] = {
                "ErrorCode": "AccessDeniedException",
                "ErrorMessage": f"This caller may not publish to event bus {entry.bus_name}.",
            }
        else:
            accepted.append((position, entry))
    if accepted:
        events = events_store(entries=[entry for _, entry in accepted],
                              publisher=publisher, buses=buses)
        for (position, _), event in zip(accepted, events, strict=True):
            results[position] = {"EventId": str(event.id)}
    return PutEventsResult(entries=[result for result in results if result is not None])


def event_publish(
    *,
    source: str,
    detail_type: str,
    detail: Mapping[str, Any],
    bus_name: str = DEFAULT_BUS_NAME,
    resources: Sequence[str] = (),
    time: datetime | None = None,
    publisher: Publisher,
) -> Event:
    """Publishes one event from Python code, with the same checks as PutEvents (an internal
    service publishes its reserved sources; see routing.sources)."""
    raw = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": json.dumps(detail, separators=(",", ":")),
        "Resources": list(resources),
        "EventBusName": bus_name,
    }
    try:
        entry = entry_from_put_events(raw)
    except EntryError as error:
        raise ValidationError(error.message, code=error.code) from None
    refusal = source_refusal(entry.source, publisher=publisher, allowed=None)
    if refusal is not None:
        raise ValidationError(refusal, code="NotAuthorizedForSourceException", field="Source")
    if time is not None:
        entry = dataclasses.replace(entry, time=time)
    return events_store(entries=[entry], publisher=publisher)[0]
