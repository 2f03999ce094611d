"""The shop's pages and actions (included at the site's root)."""

from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    # Customer (phone)
    path("shop/<slug:slug>/", views.shop_home, name="shop"),
    path("shop/<slug:slug>/order", views.shop_order, name="shop-order"),
    path("orders/<str:order_id>/", views.order_detail, name="order"),
    path("orders/<str:order_id>/submit/", views.order_submit_view, name="order-submit"),
    path("orders/<str:order_id>/cancel/", views.order_cancel_view, name="order-cancel"),
    path("orders/<str:order_id>/journey/", views.order_journey, name="journey"),
    path("me/orders/", views.my_orders, name="my-orders"),
    path("me/erase/", views.erase_my_data, name="erase-my-data"),
    # Barista (tablet)
    path("shop/<slug:slug>/barista/", views.barista, name="barista"),
    path("shop/<slug:slug>/barista/open/", views.barista_shop_open, name="barista-open"),
    path("shop/<slug:slug>/barista/hours/", views.barista_hours, name="barista-hours"),
    path("shop/<slug:slug>/barista/orders/<str:order_id>/<str:action>/", views.barista_action,
         name="barista-action"),
    # Display (big screen)
    path("shop/<slug:slug>/display/", views.display, name="display"),
    path("shop/<slug:slug>/display/window/", views.display_window, name="display-window"),
]
