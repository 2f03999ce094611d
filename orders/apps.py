from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Coffee shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Subscribers register their handlers by name when imported; rules route events to them.
        from orders import live, subscribers  # noqa: F401
