"""Every websocket route of the project, gathered from the apps."""

from django.urls import path

from coffeeshop.consumers import SystemStatusConsumer
from orders.routing import websocket_urlpatterns as orders_websocket_urlpatterns
from routing.dashboard.explorer.routing import websocket_urlpatterns as explorer_ws_urlpatterns

websocket_urlpatterns = [
    path("ws/status/", SystemStatusConsumer.as_asgi()),
    *orders_websocket_urlpatterns,
    *explorer_ws_urlpatterns,
]
