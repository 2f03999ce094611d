"""Mounted at /dashboard/schedules/ by coffeeshop/urls.py (ahead of the rest of the dashboard)."""

from django.urls import path

from routing.dashboard.schedules import views

app_name = "dashboard-schedules"

urlpatterns = [
    path("", views.schedule_list, name="list"),
    path("preview", views.preview, name="preview"),
    path("rules/<int:pk>/state", views.rule_state, name="rule-state"),
    path("scheduler/<int:pk>/state", views.schedule_state, name="schedule-state"),
]
