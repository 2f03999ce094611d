"""The explorer's websocket routes (gathered in coffeeshop/routing.py)."""

from django.urls import path

from routing.dashboard.explorer.consumers import EventTailConsumer

websocket_urlpatterns = [
    path("ws/dashboard/events/", EventTailConsumer.as_asgi()),
]
