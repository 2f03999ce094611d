"""Mounted at /dashboard/ by coffeeshop/urls.py (after /dashboard/rules/, which is the rule
editor's)."""

from django.urls import path

from routing.dashboard.explorer import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("events/", views.events, name="events"),
    path("events/<uuid:event_id>/", views.event_detail, name="event"),
    path("events/<uuid:event_id>/trace/", views.event_trace_fragment, name="event-trace"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/redrive/", views.redrive, name="redrive"),
    path("deliveries/progress/", views.redrive_progress, name="redrive-progress"),
    path("deliveries/selection/", views.redrive_selection, name="redrive-selection"),
    path("metrics/", views.metrics, name="metrics"),
    path("topology/", views.topology, name="topology"),
    path("archives/", views.archives, name="archives"),
    path("archives/replays/", views.replay_create, name="replay-start"),
    path("archives/replays/status/", views.replays_status, name="replays-status"),
    path("archives/replays/<str:name>/cancel/", views.replay_stop, name="replay-cancel"),
    path("archives/<str:name>/", views.archive_action, name="archive-action"),
]
