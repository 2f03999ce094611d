"""Every websocket route of the project, gathered from the apps."""

from django.urls import path

from coffeeshop.consumers import SystemStatusConsumer

websocket_urlpatterns = [
    path("ws/status/", SystemStatusConsumer.as_asgi()),
]
