from django.contrib import admin
from django.urls import include, path

from coffeeshop import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("routing.api.urls")),
]


def public_pages() -> list[tuple[str, str]]:
    """The pages a newcomer wants to open, as (title, path), for `make run`'s banner."""
    return [
        ("Home", "/"),
        ("Admin", "/admin/"),
        ("Health", "/healthz"),
        ("API docs", "/api/docs"),
    ]
