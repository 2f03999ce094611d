from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Coffee shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Subscribers register their handlers by name when imported; rules route events to them.
        from orders import live, subscribers  # noqa: F401
        from orders.events import SERVICE_NAME, SOURCE
        from routing.sources import reserve_source

        # Only the shop publishes its own source: no credential may, whatever it was given.
        reserve_source(SOURCE, service=SERVICE_NAME)
