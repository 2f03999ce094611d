from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from coffeeshop.health import health_report_from_any_thread


async def healthz(request: HttpRequest) -> JsonResponse:
    report = await sync_to_async(health_report_from_any_thread, thread_sensitive=False)()
    return JsonResponse(report, status=200 if report["healthy"] else 503)


def home(request: HttpRequest) -> HttpResponse:
    from coffeeshop.demo import DEMO_LOGINS
    from coffeeshop.urls import public_pages

    pages = [(title, path) for title, path in public_pages() if path != "/"]
    # The demo passwords only mean something on a `make run` laptop (DEBUG), never elsewhere.
    logins = DEMO_LOGINS if settings.DEBUG else ()
    return render(request, "home.html", {"pages": pages, "demo_logins": logins})
