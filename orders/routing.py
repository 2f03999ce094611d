"""The shop's websocket routes (gathered into coffeeshop/routing.py)."""

from django.urls import path

from orders.consumers import BoardConsumer, CustomerConsumer, PublicShopConsumer

websocket_urlpatterns = [
    path("ws/shop/<slug:slug>/board/", BoardConsumer.as_asgi()),
    path("ws/shop/<slug:slug>/public/", PublicShopConsumer.as_asgi()),
    path("ws/me/", CustomerConsumer.as_asgi()),
]
