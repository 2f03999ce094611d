"""The operator pages (staff only): overview, events (search and live tail) and each event's
trace, deliveries and dead letters with redrive, metrics, topology, archives and replays.

Views read through routing.selectors and write through routing.services; they only parse
input, call one of those, and render."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from routing.dashboard.access import staff_json, staff_page, wants_json
from routing.dashboard.explorer import live, svg
from routing.dashboard.explorer.forms import (
    ARCHIVE_ERROR_FIELDS,
    REPLAY_ERROR_FIELDS,
    ArchiveCreateForm,
    DeliveryFilterForm,
    EventSearchForm,
    ReplayStartForm,
    apply_routing_error,
)
from routing.errors import NotFound, RoutingError, ValidationError
from routing.metric_providers import Chart, DailyColumns, dashboard_sections
from routing.models import ArchiveState
from routing.selectors import deliveries as delivery_selectors
from routing.selectors import metrics as metric_selectors
from routing.selectors import topology as topology_selectors
from routing.selectors.events import (
    EventFilters,
    EventPage,
    event_search,
    event_suggestions,
)
from routing.selectors.traces import deliveries_overview, event_trace
from routing.services import (
    Actor,
    archive_create,
    archive_delete,
    archive_update,
    deliveries_redrive,
    replay_cancel,
    replay_get,
    replay_start,
)

REDRIVE_CHUNK = 100
MAX_IDS_PER_REQUEST = 500


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValidationError("The request body is not valid JSON.", field="body") from None
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.", field="body")
    return body


def _delivery_ids(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ValidationError("ids must be a list of delivery ids.", field="ids")
    if len(raw) > MAX_IDS_PER_REQUEST:
        raise ValidationError(
            f"Send at most {MAX_IDS_PER_REQUEST} ids at a time (the page sends them in chunks).",
            field="ids")
    keys = []
    for item in raw:
        try:
            keys.append(str(uuid.UUID(item)))
        except ValueError:
            raise ValidationError(f"{item!r} is not a delivery id.", field="ids") from None
    return list(dict.fromkeys(keys))


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# Overview ------------------------------------------------------------------------------------

@staff_page
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    figures = metric_selectors.overview()
    newest_age = ""
    if figures.newest_event_at is not None:
        seconds = (timezone.now() - figures.newest_event_at).total_seconds()
        newest_age = ("just now" if seconds < 60 else
                      f"{timesince(figures.newest_event_at)} ago")
    context = {
        "figures": figures,
        "newest_age": newest_age,
        "sparkline": svg.sparkline(figures.sparkline, label="Events per minute, last hour"),
        "p50": svg.milliseconds(figures.p50_ms),
        "p95": svg.milliseconds(figures.p95_ms),
    }
    template = ("dashboard/_overview_figures.html" if request.GET.get("partial") == "figures"
                else "dashboard/overview.html")
    return render(request, template, context)


# Events --------------------------------------------------------------------------------------

def _page_links(request: HttpRequest, page: EventPage | delivery_selectors.DeliveryPage
                ) -> dict[str, str]:
    params = request.GET.copy()
    for key in ("after", "before"):
        params.pop(key, None)
    base = params.urlencode()
    links = {"newest": f"?{base}" if base else "?"}
    if page.newer:
        links["newer"] = f"?{urlencode({**params.dict(), 'before': page.newer})}"
    if page.older:
        links["older"] = f"?{urlencode({**params.dict(), 'after': page.older})}"
    return links


@staff_page
@require_GET
def events(request: HttpRequest) -> HttpResponse:
    form = EventSearchForm(request.GET or None)
    filters = EventFilters()
    page = EventPage(rows=[])
    error = ""
    valid = not request.GET or form.is_valid()
    if valid:
        filters = form.filters() if request.GET else EventFilters()
        try:
            page = event_search(filters, after=request.GET.get("after") or None,
                                before=request.GET.get("before") or None)
        except RoutingError as refusal:
            error = refusal.message
    # The tail follows the newest page; an upper time bound means the past, so no tail.
    live_on = valid and not error and page.is_first and filters.until is None
    tail_query = urlencode({key: request.GET[key] for key in ("bus", "source", "type", "field")
                            if request.GET.get(key)})
    sources, detail_types = event_suggestions(bus=filters.bus)
    return render(request, "dashboard/events/list.html", {
        "form": form,
        "page": page,
        "links": _page_links(request, page),
        "error": error,
        "live_on": live_on,
        "tail_path": "/ws/dashboard/events/" + (f"?{tail_query}" if tail_query else ""),
        "tail_size": live.SNAPSHOT_SIZE,
        "filtered": not filters.is_empty,
        "sources": sources,
        "detail_types": detail_types,
    })


def _trace_or_404(event_id: str) -> dict[str, Any]:
    try:
        return event_trace(event_id)
    except NotFound:
        raise Http404(f"No event {event_id}.") from None


def _trace_context(trace: dict[str, Any]) -> dict[str, Any]:
    deliveries = trace["deliveries"]
    return {
        "trace": trace,
        "detail_type": trace["event"]["detail-type"],
        "status_label": trace["status"].replace("_", " "),
        "envelope_json": json.dumps(trace["event"], indent=2, ensure_ascii=False),
        "rules": [{**rule, "pattern_json": json.dumps(rule["event_pattern"], indent=2)}
                  for rule in trace["matched_rules"]],
        "redrivable": [d["id"] for d in deliveries if d["status"] in
                       delivery_selectors.REDRIVABLE],
        "following": trace["status"] in ("routing", "in_progress"),
    }


@staff_page
@require_GET
def event_detail(request: HttpRequest, event_id: str) -> HttpResponse:
    trace = _trace_or_404(event_id)
    return render(request, "dashboard/events/detail.html", _trace_context(trace))


@staff_page
@require_GET
def event_trace_fragment(request: HttpRequest, event_id: str) -> HttpResponse:
    """The trace section alone, for the event page to refresh while work is in flight."""
    trace = _trace_or_404(event_id)
    return render(request, "dashboard/events/_trace.html", _trace_context(trace))


# Deliveries ----------------------------------------------------------------------------------

@staff_page
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET or None)
    page = delivery_selectors.DeliveryPage(rows=[])
    filters = delivery_selectors.DeliveryFilters()
    error = ""
    if not request.GET or form.is_valid():
        filters = form.filters() if request.GET else filters
        try:
            page = delivery_selectors.delivery_search(
                filters, after=request.GET.get("after") or None,
                before=request.GET.get("before") or None)
        except RoutingError as refusal:
            error = refusal.message
    backlog = metric_selectors.dead_letter_backlog()
    return render(request, "dashboard/deliveries/list.html", {
        "form": form,
        "page": page,
        "links": _page_links(request, page),
        "error": error,
        "backlog_total": sum(item.count for item in backlog),
        "backlog": backlog[:8],
        "selection_query": request.GET.urlencode(),
        "redrivable_on_page": sum(1 for row in page.rows if row.redrivable),
    })


@staff_json
@require_POST
def redrive(request: HttpRequest) -> HttpResponse:
    """Redrives dead or dropped deliveries, in chunks of REDRIVE_CHUNK (each its own
    transaction). JSON in ({"ids": [...]}) and out for the page's script; a plain form post
    (ids=…&next=…) redirects back with a message."""
    as_json = request.content_type == "application/json"
    keys = _delivery_ids(_json_body(request).get("ids") if as_json
                         else request.POST.getlist("ids"))
    if not keys:
        raise ValidationError("Select at least one dead letter to redrive.", field="ids")
    redriven: list[str] = []
    for start in range(0, len(keys), REDRIVE_CHUNK):
        redriven += deliveries_redrive(delivery_ids=keys[start:start + REDRIVE_CHUNK])
    done = set(redriven)
    found = deliveries_overview([key for key in keys if key not in done])
    refused = [
        {"id": key, "reason": "no such delivery" if key not in found
         else f"it is {found[key].status}: only dead or dropped deliveries can be redriven"}
        for key in keys if key not in done
    ]
    if as_json:
        return JsonResponse({"redriven": redriven, "refused": refused})
    if redriven:
        messages.success(request, f"Redriven {len(redriven)} "
                                  f"deliver{'y' if len(redriven) == 1 else 'ies'}: attempted "
                                  "again now, with a fresh retry budget.")
    for item in refused:
        messages.error(request, f"Delivery {item['id']} was not redriven: {item['reason']}.")
    return HttpResponseRedirect(_safe_next(request, reverse("dashboard:deliveries")))


@staff_json
@require_POST
def redrive_progress(request: HttpRequest) -> HttpResponse:
    """Where the given deliveries stand now (a read; POST only because the ids are many)."""
    keys = _delivery_ids(_json_body(request).get("ids"))
    return JsonResponse(delivery_selectors.redrive_progress(keys).as_dict())


@staff_json
@require_GET
def redrive_selection(request: HttpRequest) -> HttpResponse:
    """The ids of every dead or dropped delivery matching the page's filters (up to a cap)."""
    form = DeliveryFilterForm(request.GET)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise ValidationError(str(errors[0]), field=name)
    keys, truncated = delivery_selectors.redrivable_ids(form.filters())
    return JsonResponse({"ids": keys, "truncated": truncated,
                         "limit": delivery_selectors.MAX_SELECTION})


# Metrics -------------------------------------------------------------------------------------

def _wait(seconds: float | None) -> str:
    if seconds is None:
        return "\u2013"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def _provided_chart(chart: Chart) -> dict[str, Any]:
    """A chart another app's metrics provider gave, drawn as the page draws its own."""
    if isinstance(chart, DailyColumns):
        drawn = svg.column_chart(
            [day.strftime("%a %d") for day in chart.days],
            [svg.Line(series.name, series.values) for series in chart.series],
            label=chart.label)
    else:
        drawn = svg.bar_chart(
            [svg.Bar(bar.label, bar.value) for bar in chart.bars], label=chart.label,
            value_format=_wait if chart.unit == "seconds" else svg.number,
            colour=chart.colour or svg.PALETTE[0], empty_text=chart.empty_text)
    return {"title": chart.title, "note": chart.note, "chart": drawn}


@staff_page
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    line = metric_selectors.timeline(request.GET.get("range", metric_selectors.DEFAULT_RANGE))
    starts = line.starts
    per_bus = metric_selectors.events_per_minute(line)
    outcomes = metric_selectors.delivery_outcomes(line)
    latency = metric_selectors.latency_over_time(line)
    matches = metric_selectors.rule_matches(since=line.start, until=line.end)
    backlog = metric_selectors.dead_letter_backlog()
    period = line.choice.label
    charts = {
        "events": svg.line_chart(
            starts, [svg.Line(series.name, series.values) for series in per_bus],
            label=f"Events per minute per bus, last {period}"),
        "deliveries": svg.line_chart(
            starts, [svg.Line(series.name, series.values) for series in outcomes.series()],
            label=f"Delivery outcomes per bucket, last {period}"),
        "latency": svg.line_chart(
            starts, [svg.Line("p50", latency.p50), svg.Line("p95", latency.p95)],
            label=f"Delivery latency p50 and p95, last {period}",
            value_format=svg.milliseconds),
        "matches": svg.bar_chart(
            [svg.Bar(item.label, item.matches,
                     note=" (deleted)" if item.deleted else "") for item in matches],
            label=f"Events matched per rule, last {period}", colour="#c8873a",
            empty_text="No rule matched an event in this period"),
        "backlog": svg.bar_chart(
            [svg.Bar(item.label, item.count,
                     href=f"{reverse('dashboard:deliveries')}?status=dead&target="
                          f"{item.target_pk}") for item in backlog[:15]],
            label="Dead letters waiting, per target", colour="#b3261e",
            empty_text="No dead letters: every delivery succeeded or is still trying"),
    }
    days = max(7, line.choice.seconds // 86400)
    sections = [
        {"section": section, "panels": [
            {"panel": panel, "charts": [_provided_chart(chart) for chart in panel.charts]}
            for panel in section.panels]}
        for section in dashboard_sections(days=days, now=timezone.now())
    ]
    minutes = line.bucket_seconds // 60
    bucket_label = (f"{minutes // 60} hours" if minutes >= 120 else
                    "1 minute" if minutes == 1 else f"{minutes} minutes")
    return render(request, "dashboard/metrics.html", {
        "line": line,
        "bucket_label": bucket_label,
        "ranges": metric_selectors.RANGE_CHOICES,
        "charts": charts,
        "latency_overall": {"p50": svg.milliseconds(latency.overall.get(0.5)),
                            "p95": svg.milliseconds(latency.overall.get(0.95))},
        "totals": {"events": sum(sum(s.values) for s in per_bus) * line.bucket_seconds / 60,
                   "succeeded": sum(outcomes.succeeded), "failed": sum(outcomes.failed),
                   "dead": sum(outcomes.dead)},
        "backlog_total": sum(item.count for item in backlog),
        "outbox": metric_selectors.outbox(),
        "sections": sections,
    })


# Topology ------------------------------------------------------------------------------------

@staff_page
@require_GET
def topology(request: HttpRequest) -> HttpResponse:
    buses = topology_selectors.bus_topology()
    deliveries_url = reverse("dashboard:deliveries")

    def rule_href(rule: topology_selectors.RuleNode) -> str:
        return f"/dashboard/rules/{rule.pk}/" if not rule.managed_by else ""

    def deliveries_href(rule: topology_selectors.RuleNode,
                        target: topology_selectors.TargetNode) -> str:
        return f"{deliveries_url}?target={target.pk}"

    diagrams = [{"bus": bus, "svg": svg.topology_diagram(bus, rule_href=rule_href,
                                                         deliveries_href=deliveries_href)}
                for bus in buses]
    return render(request, "dashboard/topology.html", {"diagrams": diagrams})


# Archives and replays ------------------------------------------------------------------------

def _replay_form(data: Any = None) -> ReplayStartForm:
    archives = [row.name for row in topology_selectors.archive_rows()]
    now = timezone.now().replace(second=0, microsecond=0)
    initial = {"start": now - timedelta(hours=1), "end": now,
               "name": f"replay-{now:%Y%m%d-%H%M}"}
    return ReplayStartForm(data, archives=archives, rules=topology_selectors.rules_of_buses(),
                           initial=initial)


def _archives_page(request: HttpRequest, *, archive_form: ArchiveCreateForm | None = None,
                   replay_form: ReplayStartForm | None = None,
                   status: int = 200) -> HttpResponse:
    replays = topology_selectors.replay_rows()
    return render(request, "dashboard/archives.html", {
        "archives": topology_selectors.archive_rows(),
        "replays": [{"replay": replay, "status": topology_selectors.replay_status(replay)}
                    for replay in replays],
        "archive_form": archive_form or ArchiveCreateForm(initial={"retention_days": 0}),
        "replay_form": replay_form or _replay_form(),
        "any_active": any(replay.is_active for replay in replays),
    }, status=status)


@staff_page
@require_http_methods(["GET", "POST"])
def archives(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _archives_page(request)
    form = ArchiveCreateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            archive = archive_create(name=data["name"], bus_name=data["bus"],
                                     event_pattern=data["event_pattern"],
                                     retention_days=data["retention_days"],
                                     description=data["description"],
                                     actor=Actor.for_user(request.user))
        except RoutingError as error:
            apply_routing_error(form, error, ARCHIVE_ERROR_FIELDS)
        else:
            messages.success(request, f"Archive {archive.name} created: it keeps the matching "
                                      f"events of bus {archive.bus.name} from now on.")
            return HttpResponseRedirect(reverse("dashboard:archives"))
    return _archives_page(request, archive_form=form, status=400)


@staff_page
@require_POST
def archive_action(request: HttpRequest, name: str) -> HttpResponse:
    action = request.POST.get("action")
    actor = Actor.for_user(request.user)
    try:
        if action == "delete":
            archive_delete(name=name, actor=actor)
            messages.success(request, f"Archive {name} deleted (its events stay until the "
                                      "retention purge).")
        elif action in ("enable", "disable"):
            state = ArchiveState.ENABLED if action == "enable" else ArchiveState.DISABLED
            archive_update(name=name, state=state, actor=actor)
            messages.success(request, f"Archive {name} {action}d.")
        else:
            messages.error(request, "Unknown archive action.")
    except RoutingError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(reverse("dashboard:archives"))


@staff_page
@require_POST
def replay_create(request: HttpRequest) -> HttpResponse:
    form = _replay_form(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            replay = replay_start(
                name=data["name"], archive_name=data["archive"],
                event_start_time=data["start"], event_end_time=data["end"],
                filter_rule_names=form.rule_references(), description=data["description"],
                actor=Actor.for_user(request.user))
        except RoutingError as error:
            apply_routing_error(form, error, REPLAY_ERROR_FIELDS)
        else:
            messages.success(request, f"Replay {replay.name} started: its progress shows "
                                      "below.")
            return HttpResponseRedirect(reverse("dashboard:archives") + "#replays")
    return _archives_page(request, replay_form=form, status=400)


@staff_page
@require_POST
def replay_stop(request: HttpRequest, name: str) -> HttpResponse:
    try:
        replay = replay_cancel(name=name, actor=Actor.for_user(request.user))
    except RoutingError as error:
        if wants_json(request):
            return JsonResponse(error.as_dict(), status=error.http_status)
        messages.error(request, error.message)
    else:
        if wants_json(request):
            return JsonResponse(topology_selectors.replay_status(replay))
        messages.success(request, f"Replay {name} is {replay.get_state_display().lower()}.")
    return HttpResponseRedirect(reverse("dashboard:archives") + "#replays")


@staff_json
@require_GET
def replays_status(request: HttpRequest) -> HttpResponse:
    names = [name for name in request.GET.getlist("name") if name][:50]
    if names:
        replays = []
        for name in names:
            try:
                replays.append(replay_get(name))
            except NotFound:
                continue
    else:
        replays = topology_selectors.replay_rows()
    return JsonResponse({"replays": [topology_selectors.replay_status(r) for r in replays]})

