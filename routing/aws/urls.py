"""Mounted at /aws/ by coffeeshop/urls.py. boto3 posts to the endpoint URL's path as given, with
or without a trailing slash, so both are served (a redirect would lose the POST)."""

from django.urls import include, re_path

from routing.aws import views

app_name = "aws"

urlpatterns = [
    re_path(r"^events/?$", views.endpoint, name="events"),
    re_path(r"^scheduler/", include("routing.aws.scheduler.urls")),
]
