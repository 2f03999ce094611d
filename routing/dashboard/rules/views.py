"""The rule editor's pages and the JSON endpoints its script calls. Each view reads its input,
calls one service or selector and renders. Every write goes through routing.services; a refusal
is a RoutingError, shown on its form field (pages) or as {"code", "message", "field"} (JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from routing.dashboard.access import error_json, staff_json_post, staff_page
from routing.dashboard.rules.forms import (
    INPUT_MODES,
    RuleEditForm,
    RuleTargetForm,
    chosen_event,
    impact_limit,
    live_target_forms,
    pattern_text,
    sample_event_text,
    target_prefix,
)
from routing.dashboard.rules.pattern_text import locate_pattern_error
from routing.errors import InvalidEventPattern, NotFound, RoutingError, ValidationError
from routing.handlers import registered_handler_names
from routing.models import EventBus, Rule, RuleState, Target, TargetKind
from routing.selectors.rules import (
    IMPACT_LIMITS,
    Impact,
    ImpactExample,
    bus_choices,
    bus_for_rules,
    compiled_pattern,
    latest_change,
    pattern_impact,
    pattern_summary,
    recent_events,
    revision_diff,
    rule_live,
    rule_live_targets,
    rule_revisions,
    rule_rows,
    target_input_preview,
)
from routing.selectors.schedules import schedule_rows
from routing.selectors.traces import public_target_address
from routing.services import (
    Actor,
    rule_put,
    rule_restore_revision,
    rule_set_state,
    targets_put,
    targets_remove,
)
from routing.services.quotas import quotas
from routing.services.rules import parse_event_pattern
from routing.services.signing import target_signing_secret
from routing.transform.definitions import InvalidTargetInputError
from routing.transform.group_names import GroupNameError, format_group_name

# The event page belongs to the dashboard's events explorer.
EVENT_PAGE = "/dashboard/events/{}/"


def _bus(name: str | None) -> EventBus:
    try:
        bus = bus_for_rules(name)
    except NotFound as error:
        raise Http404(error.message) from None
    if bus is None:
        raise Http404("There is no event bus yet.")
    return bus


def _rule(pk: int) -> Rule:
    try:
        return rule_live(pk)
    except NotFound as error:
        raise Http404(error.message) from None


def _back(request: HttpRequest, default: str) -> HttpResponse:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return redirect(target)
    return redirect(default)


def _editor_url(rule: Rule) -> str:
    return reverse("dashboard-rules:edit", args=[rule.pk])


# The rules of a bus ---------------------------------------------------------------------------

@staff_page
@require_GET
def rule_list(request: HttpRequest) -> HttpResponse:
    buses = bus_choices()
    bus = _bus(request.GET.get("bus")) if buses else None
    return render(request, "dashboard/rules/list.html", {
        "buses": buses,
        "bus": bus,
        "bus_tags": sorted(bus.tags.items()) if bus is not None else [],
        "bus_rule_count": next((choice.live_rules for choice in buses
                                if bus is not None and choice.name == bus.name), 0),
        "quotas": quotas(),
        "rows": rule_rows(bus) if bus is not None else [],
    })


@staff_page
@require_POST
def rule_state(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    state = request.POST.get("state", "")
    try:
        rule = rule_set_state(rule=rule, state=state, actor=Actor.for_user(request.user))
    except RoutingError as error:
        messages.error(request, f"Rule {rule.name}: {error.message}")
    else:
        word = "enabled" if rule.state == RuleState.ENABLED else "disabled"
        messages.success(request, f"Rule {rule.name} is {word} (revision {rule.revision}).")
    return _back(request, _editor_url(rule))


# The pattern editor ---------------------------------------------------------------------------

def _render_editor(request: HttpRequest, *, bus: EventBus, rule: Rule | None,
                   form: RuleEditForm) -> HttpResponse:
    schedule = None
    if form.scheduled and rule is not None:
        schedule = next(iter(schedule_rows(rule_ids=[rule.pk])), None)
    return render(request, "dashboard/rules/editor.html", {
        "tab": "pattern",
        "bus": bus,
        "rule": rule,
        "form": form,
        "schedule": schedule,
        "summary": pattern_summary(rule.event_pattern) if rule is not None else [],
        "recent_events": recent_events(bus),
        "sample_event": sample_event_text(),
        "impact_limits": IMPACT_LIMITS,
    }, status=400 if form.is_bound and form.errors else 200)


def _save(request: HttpRequest, form: RuleEditForm, bus: EventBus) -> Rule | None:
    data = form.cleaned_data
    try:
        return rule_put(
            bus_name=bus.name,
            name=data["name"],
            event_pattern=data.get("event_pattern"),
            schedule_expression=data.get("schedule_expression", ""),
            state=data["state"],
            description=data["description"],
            actor=Actor.for_user(request.user),
            # The revision the editor started from (0 for a new rule), checked under the lock.
            expected_revision=form.rule.revision if form.rule is not None else 0,
        )
    except RoutingError as error:
        form.add_service_error(error)
        return None


def _starter_pattern(bus: EventBus) -> dict[str, Any]:
    """A new rule starts from the kind of event the bus saw last, which is easy to narrow."""
    latest = recent_events(bus, limit=1)
    if not latest:
        return {"source": ["awsserverlessda.serverlesspresso"]}
    return {"source": [latest[0].source], "detail-type": [latest[0].detail_type]}


@staff_page
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    bus = _bus(request.GET.get("bus"))
    # ?schedule=1: a rule that fires on a schedule (the default bus only, as in EventBridge).
    scheduled = request.GET.get("schedule") == "1"
    form = RuleEditForm(request.POST or None, bus=bus, scheduled=scheduled,
                        initial={"event_pattern": _starter_pattern(bus),
                                 "schedule_expression": "rate(5 minutes)"})
    if request.method == "POST" and form.is_valid():
        rule = _save(request, form, bus)
        if rule is not None:
            messages.success(request, f"Rule {rule.name} created on {bus.name} (revision 1).")
            return redirect(_editor_url(rule))
    return _render_editor(request, bus=bus, rule=None, form=form)


@staff_page
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    form = RuleEditForm(request.POST or None, bus=rule.bus, rule=rule)
    if request.method == "POST" and form.is_valid():
        before = rule.revision
        saved = _save(request, form, rule.bus)
        if saved is not None:
            if saved.revision == before:
                messages.info(request, f"Nothing changed: revision {before} is still current.")
            else:
                messages.success(request, f"Saved rule {saved.name}: revision {saved.revision} "
                                          f"({latest_change(saved)}).")
            return redirect(_editor_url(saved))
    return _render_editor(request, bus=rule.bus, rule=rule, form=form)


# The editor's checks, as JSON -----------------------------------------------------------------

@staff_json_post
def pattern_check(request: HttpRequest) -> HttpResponse:
    """Validates pattern text with the engine, as saving would. A refusal says where: the
    engine's path (`field`) and the line and column of that key in the text (`position`)."""
    text = pattern_text(request.POST)
    try:
        parse_event_pattern(text)
    except InvalidEventPattern as error:
        return _pattern_refusal(text, error)
    return JsonResponse({"valid": True})


def _pattern_refusal(text: str, error: InvalidEventPattern) -> JsonResponse:
    position = locate_pattern_error(text, error.field)
    return error_json(error, valid=False,
                      position=position.as_dict() if position is not None else None)


@staff_json_post
def sandbox(request: HttpRequest) -> HttpResponse:
    """Would the (unsaved) pattern match this event? The event is a sample or a stored one."""
    text = pattern_text(request.POST)
    try:
        pattern = compiled_pattern(text)
    except InvalidEventPattern as error:
        return _pattern_refusal(text, error)
    envelope, _, event_id = chosen_event(request.POST)
    return JsonResponse({
        "matched": pattern.matches(envelope),
        "event_id": event_id,
        "event_url": EVENT_PAGE.format(event_id) if event_id else None,
        "event": envelope,
    })


def _impact_json(impact: Impact) -> dict[str, Any]:
    def examples(items: list[ImpactExample]) -> list[dict[str, str]]:
        return [{**asdict(item), "url": EVENT_PAGE.format(item.id)} for item in items]

    return {
        "limit": impact.limit,
        "scanned": impact.scanned,
        "current_matches": impact.current_matches,
        "proposed_matches": impact.proposed_matches,
        "both": impact.both,
        "newly_matched": {"count": impact.newly_matched.count,
                          "examples": examples(impact.newly_matched.examples)},
        "no_longer_matched": {"count": impact.no_longer_matched.count,
                              "examples": examples(impact.no_longer_matched.examples)},
    }


@staff_json_post
def impact(request: HttpRequest) -> HttpResponse:
    """Of the bus's last N events, which the edited pattern matches compared with the saved one
    (`rule`), or on its own for a rule not saved yet (`bus`)."""
    text = pattern_text(request.POST)
    try:
        proposed = compiled_pattern(text)
    except InvalidEventPattern as error:
        return _pattern_refusal(text, error)
    limit = impact_limit(request.POST)
    rule_id = request.POST.get("rule") or ""
    if rule_id:
        if not rule_id.isdigit():
            raise NotFound(f"Rule {rule_id} does not exist.", field="rule")
        rule = rule_live(int(rule_id))
        bus, current = rule.bus, compiled_pattern(rule.event_pattern)
    else:
        found = bus_for_rules(request.POST.get("bus") or "")
        if found is None:
            raise NotFound("There is no event bus yet.", field="bus")
        bus, current = found, None
    result = pattern_impact(bus=bus, current=current, proposed=proposed, limit=limit)
    return JsonResponse({"bus": bus.name, "has_current": current is not None,
                         **_impact_json(result)})


# Targets --------------------------------------------------------------------------------------

def _render_targets(request: HttpRequest, rule: Rule, *, bound: RuleTargetForm | None = None
                    ) -> HttpResponse:
    targets = rule_live_targets(rule)
    forms = live_target_forms(rule, targets)
    new_form = RuleTargetForm(rule=rule, live_ids={t.target_id for t in targets},
                              prefix=target_prefix(None))
    if bound is not None and bound.is_new:
        new_form = bound
    elif bound is not None:
        forms = [bound if form.prefix == bound.prefix else form for form in forms]
    cards = [
        {
            "target": target,
            "form": form,
            "address": public_target_address(target.kind, target.address),
            "mode": dict(INPUT_MODES)[form.initial.get("input_mode", "event")],
            "max_age": _duration(target.max_event_age_seconds),
            "open": form.is_bound,
            "signing": (target_signing_secret(target) if target.kind == TargetKind.WEBHOOK
                        else None),
        }
        for target, form in zip(targets, forms, strict=True)
    ]
    return render(request, "dashboard/rules/targets.html", {
        "tab": "targets",
        "bus": rule.bus,
        "rule": rule,
        "cards": cards,
        "new_form": new_form,
        "can_add": len(targets) < 5,
        "handler_names": registered_handler_names(),
        "bus_names": [choice.name for choice in bus_choices() if choice.name != rule.bus.name],
        "recent_events": recent_events(rule.bus),
        "sample_event": sample_event_text(),
        "webhook_kind": TargetKind.WEBHOOK,
    }, status=400 if bound is not None else 200)


def _duration(seconds: int) -> str:
    """86400 → "24 h", 5400 → "90 min", 90 → "90 s": the largest unit that divides it."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _live_target(rule: Rule, target_id: str) -> Target:
    for target in rule_live_targets(rule):
        if target.target_id == target_id:
            return target
    raise Http404(f"Rule {rule.name} has no target {target_id}.")


def _put_target(request: HttpRequest, rule: Rule, form: RuleTargetForm) -> HttpResponse:
    failures = targets_put(rule=rule, targets=[form.target_spec()],
                           actor=Actor.for_user(request.user))
    if failures:
        for failure in failures:
            form.add_error(None, failure.message)
        return _render_targets(request, rule, bound=form)
    rule.refresh_from_db(fields=["revision"])
    verb = "added" if form.is_new else "saved"
    messages.success(request, f"Target {form.cleaned_data['target_id']} {verb} "
                              f"(rule revision {rule.revision}).")
    return redirect(reverse("dashboard-rules:targets", args=[rule.pk])
                    + f"#target-{form.cleaned_data['target_id']}")


@staff_page
@require_GET
def targets_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_targets(request, _rule(pk))


@staff_page
@require_POST
def target_add(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    live = {target.target_id for target in rule_live_targets(rule)}
    form = RuleTargetForm(request.POST, rule=rule, live_ids=live, prefix=target_prefix(None))
    if not form.is_valid():
        return _render_targets(request, rule, bound=form)
    return _put_target(request, rule, form)


@staff_page
@require_POST
def target_edit(request: HttpRequest, pk: int, target_id: str) -> HttpResponse:
    rule = _rule(pk)
    target = _live_target(rule, target_id)
    form = RuleTargetForm(request.POST, instance=target, rule=rule,
                          prefix=target_prefix(target))
    if not form.is_valid():
        return _render_targets(request, rule, bound=form)
    if not form.has_changed():
        messages.info(request, f"Target {target_id}: nothing changed.")
        return redirect(reverse("dashboard-rules:targets", args=[rule.pk]))
    return _put_target(request, rule, form)


@staff_page
@require_POST
def target_remove(request: HttpRequest, pk: int, target_id: str) -> HttpResponse:
    rule = _rule(pk)
    failures = targets_remove(rule=rule, target_ids=[target_id],
                              actor=Actor.for_user(request.user))
    if failures:
        messages.error(request, "; ".join(failure.message for failure in failures))
    else:
        messages.success(request, f"Target {target_id} removed.")
    return redirect(reverse("dashboard-rules:targets", args=[rule.pk]))


@staff_json_post
def target_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Exactly what the target as edited (saved or not) would receive for the chosen event."""
    rule = rule_live(pk)
    prefix = request.POST.get("prefix") or target_prefix(None)
    instance = None
    if prefix != target_prefix(None):
        instance = next((t for t in rule_live_targets(rule) if target_prefix(t) == prefix), None)
        if instance is None:
            raise NotFound(f"Rule {rule.name} has no target {prefix[2:]}.", field="prefix")
    form = RuleTargetForm(request.POST, instance=instance, rule=rule, prefix=prefix)
    try:
        target_input = form.preview_input()
    except ValidationError as error:
        return error_json(error, html_field=f"{prefix}-{error.field}" if error.field else None)
    envelope, ingestion_time, event_id = chosen_event(request.POST)
    try:
        body = target_input_preview(rule=rule, target_input=target_input, envelope=envelope,
                                    ingestion_time=ingestion_time)
    except InvalidTargetInputError as error:
        raise ValidationError(str(error), field=error.field) from None
    try:
        pretty = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = None  # a text template, or a transformer whose values broke the JSON
    group = group_error = None
    kind, address = form.cleaned_data.get("kind"), form.cleaned_data.get("address")
    if kind == TargetKind.CHANNELS and address:
        try:
            group = format_group_name(address, envelope)
        except GroupNameError as error:
            group_error = str(error)
    return JsonResponse({
        "body": body,
        "pretty": pretty,
        "event_id": event_id,
        "ingestion_time": ingestion_time,
        "channels_group": group,
        "channels_group_error": group_error,
    })


# Revisions ------------------------------------------------------------------------------------

@staff_page
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule(pk)
    return render(request, "dashboard/rules/history.html", {
        "tab": "history",
        "bus": rule.bus,
        "rule": rule,
        "revisions": rule_revisions(rule),
    })


@staff_page
@require_GET
def revision_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    rule = _rule(pk)
    against: str | int = request.GET.get("against") or "current"
    if against not in ("current", "previous"):
        if not str(against).isdigit():
            raise Http404("Compare with current, previous or a revision number.")
        against = int(against)
    try:
        diff = revision_diff(rule, number=number, against=against)
    except NotFound as error:
        raise Http404(error.message) from None
    return render(request, "dashboard/rules/revision.html", {
        "tab": "history",
        "bus": rule.bus,
        "rule": rule,
        "number": number,
        "against": against,
        "diff": diff,
        "selected": diff.new if diff.new.number == number else diff.old,
        "numbers": range(rule.revision, 0, -1),
    })


@staff_page
@require_POST
def revision_restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    rule = _rule(pk)
    try:
        restored = rule_restore_revision(rule=rule, number=number,
                                         actor=Actor.for_user(request.user))
    except RoutingError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Restored revision {number}: the rule is now at revision "
                                  f"{restored.revision}.")
    return redirect(reverse("dashboard-rules:history", args=[rule.pk]))
