"""The order API, mounted at /api/ ahead of the REST API's own routes (coffeeshop/urls.py)."""

from django.urls import path

from orders import api

app_name = "orders-api"

urlpatterns = [
    path("me/orders", api.my_orders, name="my-orders"),
    path("orders/<str:order_id>", api.order_detail, name="order"),
    path("shops/<slug:slug>/orders", api.shop_orders, name="shop-orders"),
    path("shops/<slug:slug>/orders/<str:order_id>/<str:action>", api.barista_action,
         name="barista-action"),
]
