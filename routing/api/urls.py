"""Mounted at /api/ by coffeeshop/urls.py. Every route but the last is in openapi.json."""

from django.urls import path, re_path

from routing.api import signing, views

app_name = "api"

urlpatterns = [
    path("events", views.events, name="events"),
    path("events/<str:event_id>", views.event_trace_view, name="event-trace"),
    path("test-event-pattern", views.event_pattern_test, name="test-event-pattern"),
    path("deliveries/<str:delivery_id>/redrive", views.delivery_redrive_view,
         name="delivery-redrive"),
    path("dead-letters/redrive", views.dead_letters_redrive, name="dead-letters-redrive"),
    path("buses/<str:bus_name>/rules/<str:rule_name>/targets/<str:target_id>/signing-secret",
         signing.signing_secret_view, name="signing-secret"),
    path("buses/<str:bus_name>/rules/<str:rule_name>/targets/<str:target_id>/signing-secret/"
         "rotate", signing.signing_secret_rotate_view, name="signing-secret-rotate"),
    path("openapi.json", views.openapi_view, name="openapi"),
    path("docs", views.docs_view, name="docs"),
    # Last, and it catches every other path under /api/: new API routes go above it (or are
    # mounted ahead of "api/" in coffeeshop/urls.py), or it will answer 404 for them.
    re_path(r"", views.not_found, name="not-found"),
]
