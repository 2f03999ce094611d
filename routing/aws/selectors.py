"""The reads behind the List* and Describe* actions: one page at a time, in name order, resumed
after the last key of the previous page (a keyset, so pages never skip or repeat a row that
was there all along, whatever is created or deleted meanwhile)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Count, Model, QuerySet, Sum, TextField
from django.db.models.functions import Cast, Length, Substr

from routing.models import Archive, ArchivedEvent, EventBus, Replay, Rule, Target

T = TypeVar("T")
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    # The key to resume after, when there is more.
    next_after: str | None


def _with_prefix(queryset: QuerySet[M], field: str, prefix: str | None) -> QuerySet[M]:
    # Not `startswith`: SQLite's LIKE ignores case, and NamePrefix is case-sensitive.
    if not prefix:
        return queryset
    return queryset.annotate(_head=Substr(field, 1, len(prefix))).filter(_head=prefix)


def _page(queryset: QuerySet[M], *, key: str, after: str | None, limit: int) -> Page[M]:
    if after is not None:
        queryset = queryset.filter(**{f"{key}__gt": after})
    rows = list(queryset.order_by(key)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(getattr(rows[-1], key)) if more else None)


def buses_page(*, prefix: str | None, allowed: Collection[str] | None, after: str | None,
               limit: int) -> Page[EventBus]:
    buses = EventBus.objects.all()
    buses = _with_prefix(buses, "name", prefix)
    if allowed is not None:
        buses = buses.filter(name__in=list(allowed))
    return _page(buses, key="name", after=after, limit=limit)


def rules_page(*, bus: EventBus, prefix: str | None, after: str | None,
               limit: int) -> Page[Rule]:
    rules = Rule.objects.select_related("bus").filter(bus=bus, deleted_at__isnull=True)
    rules = _with_prefix(rules, "name", prefix)
    return _page(rules, key="name", after=after, limit=limit)


def rule_names_by_target_page(*, bus: EventBus, kind: str, address: str, after: str | None,
                              limit: int) -> Page[str]:
    names = (Target.objects
             .filter(rule__bus=bus, rule__deleted_at__isnull=True, deleted_at__isnull=True,
                     kind=kind, address=address)
             .values_list("rule__name", flat=True).distinct().order_by("rule__name"))
    if after is not None:
        names = names.filter(rule__name__gt=after)
    rows = list(names[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1] if more else None)


def targets_page(*, rule: Rule, after: str | None, limit: int) -> Page[Target]:
    targets = Target.objects.filter(rule=rule, deleted_at__isnull=True)
    return _page(targets, key="target_id", after=after, limit=limit)


@dataclass(frozen=True)
class ArchiveFigures:
    event_count: int
    size_bytes: int


def _archive_figures(archive_ids: list[int]) -> dict[int, ArchiveFigures]:
    # SizeBytes as EventBridge counts an entry: Source, DetailType, Detail and Resources (here
    # the stored JSON's characters, which for ASCII are its bytes).
    size = (Length("event__source") + Length("event__detail_type")
            + Length(Cast("event__detail", TextField()))
            + Length(Cast("event__resources", TextField())))
    rows = (ArchivedEvent.objects.filter(archive__in=archive_ids).values("archive")
            .annotate(count=Count("id"), size=Sum(size)).values_list("archive", "count", "size"))
    return {archive: ArchiveFigures(count, int(size or 0)) for archive, count, size in rows}


def archive_figures(archive: Archive) -> ArchiveFigures:
    return _archive_figures([archive.pk]).get(archive.pk, ArchiveFigures(0, 0))


def archives_page(*, prefix: str | None, bus_name: str | None, state: str | None,
                  allowed: Collection[str] | None, after: str | None,
                  limit: int) -> Page[tuple[Archive, ArchiveFigures]]:
    """Archives with how many events each holds, and their size."""
    archives = Archive.objects.select_related("bus")
    archives = _with_prefix(archives, "name", prefix)
    if bus_name is not None:
        archives = archives.filter(bus__name=bus_name)
    if state is not None:
        archives = archives.filter(state=state)
    if allowed is not None:
        archives = archives.filter(bus__name__in=list(allowed))
    page = _page(archives, key="name", after=after, limit=limit)
    figures = _archive_figures([archive.pk for archive in page.items])
    return Page([(archive, figures.get(archive.pk, ArchiveFigures(0, 0)))
                 for archive in page.items], page.next_after)


def replays_page(*, prefix: str | None, state: str | None, archive_name: str | None,
                 allowed: Collection[str] | None, after: str | None,
                 limit: int) -> Page[Replay]:
    replays = Replay.objects.select_related("archive", "destination_bus")
    replays = _with_prefix(replays, "name", prefix)
    if state is not None:
        replays = replays.filter(state=state)
    if archive_name is not None:
        replays = replays.filter(archive__name=archive_name)
    if allowed is not None:
        replays = replays.filter(destination_bus__name__in=list(allowed))
    return _page(replays, key="name", after=after, limit=limit)


def replay_filter_rule_arns(replay: Replay) -> list[str]:
    return [rule.arn for rule in replay.filter_rules.select_related("bus").order_by("name")]
