"""Mounted at /aws/scheduler/ by routing/aws/urls.py: point boto3's `scheduler` client's
endpoint_url at it. A Name never holds '/', a tagged resource's ARN does."""

from django.urls import re_path

from routing.aws.scheduler import views

urlpatterns = [
    re_path(r"^(?P<resource>schedules|schedule-groups)/?$", views.collection),
    re_path(r"^(?P<resource>schedules|schedule-groups)/(?P<name>[^/]+)$", views.item),
    re_path(r"^(?P<resource>tags)/(?P<name>.+)$", views.item),
]
