from django.contrib import admin
from django.urls import include, path

from coffeeshop import views
from coffeeshop.accounts import devmail
from routing.metrics_export import metrics_view

# Failures outside any view (a middleware's database write) still answer in the door's shape.
handler500 = "coffeeshop.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("allauth.urls")),
    path("dev/mail/", devmail.dev_mail, name="dev-mail"),
    path("admin/", admin.site.urls),
    path("dashboard/rules/", include("routing.dashboard.rules.urls")),
    path("dashboard/schedules/", include("routing.dashboard.schedules.urls")),
    path("dashboard/", include("routing.dashboard.explorer.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("aws/", include("routing.aws.urls")),
    path("", include("orders.urls")),
    path("api/", include("orders.api_urls")),
    path("api/", include("routing.api.urls")),
]


# Pages for staff only (the home page offers them to staff only).
STAFF_PAGES = frozenset({"/admin/", "/dashboard/"})


def public_pages() -> list[tuple[str, str]]:
    """The pages a newcomer wants to open, as (title, path), for `make run`'s banner."""
    return [
        ("Home", "/"),
        ("Admin", "/admin/"),
        ("Health", "/healthz"),
        ("Customer page (shop main)", "/shop/main/"),
        ("Barista (log in as barista)", "/shop/main/barista/"),
        ("Display (log in as barista)", "/shop/main/display/"),
        ("API docs", "/api/docs"),
        ("Dashboard", "/dashboard/"),
        ("Development mail (sign-in codes)", "/dev/mail/"),
    ]
