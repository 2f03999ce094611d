"""Mounted at /dashboard/rules/ by coffeeshop/urls.py (ahead of the rest of the dashboard)."""

from django.urls import path

from routing.dashboard.rules import signing, views

app_name = "dashboard-rules"

urlpatterns = [
    path("", views.rule_list, name="list"),
    path("new/", views.rule_create, name="create"),
    path("check/pattern", views.pattern_check, name="check-pattern"),
    path("check/sandbox", views.sandbox, name="sandbox"),
    path("check/impact", views.impact, name="impact"),
    path("<int:pk>/", views.rule_edit, name="edit"),
    path("<int:pk>/state", views.rule_state, name="state"),
    path("<int:pk>/targets/", views.targets_page, name="targets"),
    path("<int:pk>/targets/add", views.target_add, name="target-add"),
    path("<int:pk>/targets/preview", views.target_preview, name="target-preview"),
    path("<int:pk>/targets/<str:target_id>/", views.target_edit, name="target-edit"),
    path("<int:pk>/targets/<str:target_id>/remove", views.target_remove, name="target-remove"),
    path("<int:pk>/targets/<str:target_id>/rotate-secret", signing.target_secret_rotate,
         name="target-rotate-secret"),
    path("<int:pk>/history/", views.history, name="history"),
    path("<int:pk>/revisions/<int:number>/", views.revision_view, name="revision"),
    path("<int:pk>/revisions/<int:number>/restore", views.revision_restore,
         name="revision-restore"),
]
