"""The signing secret of a webhook target, on its rule's targets page: rotate it here (the page
shows it, behind a disclosure)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from routing.dashboard.access import staff_page
from routing.errors import NotFound, ValidationError
from routing.selectors.rules import rule_live
from routing.services.signing import target_signing_secret_rotate, webhook_target_get


@staff_page
@require_POST
def target_secret_rotate(request: HttpRequest, pk: int, target_id: str) -> HttpResponse:
    try:
        rule = rule_live(pk)
        target = webhook_target_get(bus_name=rule.bus.name, rule_name=rule.name,
                                    target_id=target_id)
    except NotFound as error:
        raise Http404(error.message) from None
    try:
        hours = int(request.POST.get("overlap_hours") or 24)
        target_signing_secret_rotate(target=target, overlap_seconds=hours * 3600)
    except ValueError:
        messages.error(request, "The overlap must be a whole number of hours.")
    except ValidationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Target {target_id} has a new signing secret; the old one "
                                  f"keeps signing beside it for {hours} h.")
    return redirect(reverse("dashboard-rules:targets", args=[rule.pk]) + f"#target-{target_id}")
