from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from coffeeshop.health import health_report_from_any_thread


async def healthz(request: HttpRequest) -> JsonResponse:
    report = await sync_to_async(health_report_from_any_thread, thread_sensitive=False)()
    return JsonResponse(report, status=200 if report["healthy"] else 503)


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")
