"""The Schedules page, its enable/disable buttons and the preview its script asks for while an
expression is typed. Reads come from routing.selectors.schedules; state changes go through the
rule services (as the rule editor's do) and the Scheduler's services."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from routing.dashboard.access import staff_json, staff_page
from routing.errors import NotFound, RoutingError
from routing.models import RuleState
from routing.schedules.expressions import INVALID_MESSAGE, InvalidScheduleExpression
from routing.schedules.models import ScheduleState
from routing.schedules.scheduler_state import schedule_set_state
from routing.selectors.rules import rule_live
from routing.selectors.schedules import schedule_preview, schedule_rows
from routing.services import Actor, rule_set_state
from routing.timestamps import utc_timestamp

PREVIEW_KINDS = ("rule", "schedule")
PREVIEW_ZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York",
                 "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney")


@staff_page
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/schedules.html", {
        "rows": schedule_rows(),
        "zones": PREVIEW_ZONES,
    })


@staff_page
@require_POST
def rule_state(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        rule = rule_live(pk)
    except NotFound as error:
        raise Http404(error.message) from None
    state = request.POST.get("state", "")
    try:
        rule = rule_set_state(rule=rule, state=state, actor=Actor.for_user(request.user))
    except RoutingError as error:
        messages.error(request, f"Rule {rule.name}: {error.message}")
    else:
        if rule.state == RuleState.ENABLED:
            messages.success(request, f"Rule {rule.name} is enabled: its schedule starts again "
                                      "from now (the ticks it slept through are not fired).")
        else:
            messages.success(request, f"Rule {rule.name} is disabled: it does not fire.")
    return redirect(reverse("dashboard-schedules:list") + f"#rule-{rule.pk}")


@staff_page
@require_POST
def schedule_state(request: HttpRequest, pk: int) -> HttpResponse:
    state = request.POST.get("state", "")
    try:
        schedule = schedule_set_state(schedule_id=pk, state=state,
                                      actor=Actor.for_user(request.user))
    except NotFound as error:
        raise Http404(error.message) from None
    except RoutingError as error:
        messages.error(request, f"Schedule: {error.message}")
        return redirect(reverse("dashboard-schedules:list") + f"#schedule-{pk}")
    label = f"Schedule {schedule.group.name}/{schedule.name}"
    if schedule.state == ScheduleState.ENABLED:
        messages.success(request, f"{label} is enabled: it starts again from now (the ticks it "
                                  "slept through are not fired).")
    else:
        messages.success(request, f"{label} is disabled: it does not fire.")
    return redirect(reverse("dashboard-schedules:list") + f"#schedule-{pk}")


@staff_json
@require_GET
def preview(request: HttpRequest) -> HttpResponse:
    """The typed expression in words and its next five firings, or AWS's refusal with the
    reason (`reason`) a person needs."""
    expression = request.GET.get("expression", "").strip()
    tz = request.GET.get("timezone", "").strip() or "UTC"
    kind = request.GET.get("kind", "").strip() or "rule"
    if kind not in PREVIEW_KINDS:
        message = f"kind must be one of {', '.join(PREVIEW_KINDS)}."
        return JsonResponse({"valid": False, "code": "ValidationException", "message": message,
                             "reason": message, "field": "kind"}, status=400)
    try:
        # A one-time at() is the Scheduler's alone, as in AWS.
        result = schedule_preview(expression=expression, tz=tz, allow_at=kind == "schedule")
    except InvalidScheduleExpression as error:
        return JsonResponse({"valid": False, "code": "ValidationException",
                             "message": INVALID_MESSAGE, "reason": error.reason,
                             "field": "ScheduleExpression"}, status=400)
    except ValueError as error:
        return JsonResponse({"valid": False, "code": "ValidationException",
                             "message": str(error), "reason": str(error),
                             "field": "ScheduleExpressionTimezone"}, status=400)
    return JsonResponse({
        "valid": True,
        "expression": result.expression,
        "timezone": result.timezone,
        "description": result.description,
        "next": [utc_timestamp(moment, timespec="seconds") for moment in result.next_firings],
    })
